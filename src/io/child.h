/* A supervised child process on a libuv loop (the control loop): started with argv (no shell),
 * its stdout and stderr read into callbacks, stopped with SIGTERM then SIGKILL to its whole
 * process group, reaped exactly once. Design notes are in child.c.
 *
 * Every function here is called on the loop's thread, and that thread must live as long as
 * the process (the control thread): the child is killed (PR_SET_PDEATHSIG) when the thread
 * that started it exits, not only when hostpool does. */
#ifndef HP_IO_CHILD_H
#define HP_IO_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

typedef struct hp__child hp__child;

typedef enum hp__child_stream {
    HP__CHILD_STDOUT = 1,
    HP__CHILD_STDERR = 2,
} hp__child_stream;

typedef struct hp__child_options {
    /* The program and its arguments, NULL-terminated; argv[0] without '/' is looked up in
     * hostpool's PATH. Used only during hp__child_start. */
    const char *const *argv;
    /* The working directory; NULL: hostpool's own. */
    const char *cwd;
    /* NAME=VALUE entries, NULL-terminated, laid over hostpool's environment: an entry
     * replaces the variable of the same name, or is added. NULL: hostpool's environment. */
    const char *const *env;
} hp__child_options;

typedef struct hp__child_callbacks {
    /* Bytes the child wrote on one of its streams; `bytes` is borrowed for the call. Called
     * until the child exits: what is still in the pipes then is delivered before on_exit. */
    void (*on_output)(hp__child *child, hp__child_stream stream, const char *bytes, size_t len);
    /* The child exited (exit_status, term_signal 0) or was killed by a signal (term_signal
     * non-zero); it is reaped and the rest of its group has been sent SIGKILL. Called exactly
     * once, never from inside hp__child_start or hp__child_stop. */
    void (*on_exit)(hp__child *child, int64_t exit_status, int term_signal);
} hp__child_callbacks;

/* Starts the child: its own session and process group (setsid), stdin /dev/null, stdout and
 * stderr piped to on_output, signal dispositions and mask reset to the defaults, and
 * PR_SET_PDEATHSIG(SIGKILL). Returns 0 and *out once the program is executing, or a negative
 * errno (the program cannot be found or run, cwd does not exist, no memory) and then no
 * callback is ever called. */
int hp__child_start(uv_loop_t *loop, const hp__child_options *o, hp__child_callbacks callbacks,
                    void *data, hp__child **out);

/* SIGTERM to the child's process group, then SIGKILL to the group if the child has not exited
 * after stop_timeout_ms. Idempotent (a second call changes nothing); a no-op after exit.
 * on_exit still comes. */
void hp__child_stop(hp__child *child, uint64_t stop_timeout_ms);

/* The child's process id, which is also its process group id. */
pid_t hp__child_pid(const hp__child *child);

void *hp__child_data(const hp__child *child);

/* Frees the child once libuv has closed its handles. Meant for after on_exit (it may be called
 * from inside on_exit); before exit it kills the group with SIGKILL and reaps the child, and
 * on_exit is not called. NULL is a no-op. */
void hp__child_destroy(hp__child *child);

#endif
