/* A supervisor: one supervised process of a server (hostpool/process.h) on the control loop.
 *
 * It starts the program (io/child.h) on its port, polls it (every 5 ms for a second, then every
 * 100 ms) until it is ready (a TCP connect to 127.0.0.1:port, or GET ready_path answering
 * 2xx), restarts it after an exit as its restart decisions say (core/restart.h), gives up, stops it
 * (SIGTERM to the group, SIGKILL after stop_timeout), keeps its output in a bounded ring of lines
 * (core/line_ring.h) and publishes process.* events through its hooks.
 *
 *   STOPPED ──start──▶ BOOTING ──ready──▶ READY
 *   BOOTING/READY ──exit──▶ BACKOFF ──delay──▶ BOOTING     (the policy restarts it)
 *                      └──▶ FAILED                         (gave up, or the policy says stay down)
 *   BOOTING ──boot_timeout──▶ (stopped as by a stop, then counted as an abnormal exit)
 *   any ──stop──▶ STOPPING ──exit──▶ STOPPED;  FAILED ──start──▶ BOOTING (the count cleared)
 *
 * Workers read the gate (state and restart time) without a lock; everything else, and every
 * function here, is the control thread's. The hooks, a waiter's done() and a watcher must not
 * call start, stop or destroy (done() may wait again); a stop's cb may start it again or
 * destroy it. */
#ifndef HP_POOL_SUPERVISOR_H
#define HP_POOL_SUPERVISOR_H

#include "core/line_ring.h"
#include "hostpool/events.h"
#include "hostpool/process.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef enum hp__process_state {
    HP__PROCESS_STOPPED,  /* not started, or stopped: nothing runs */
    HP__PROCESS_BOOTING,  /* running, not ready yet: requests wait (hp__supervisor_wait) */
    HP__PROCESS_READY,    /* requests are proxied to it */
    HP__PROCESS_BACKOFF,  /* it exited and starts again at the gate's restart_at_ns */
    HP__PROCESS_FAILED,   /* the policy gave up (or does not restart it): 503 until a start */
    HP__PROCESS_STOPPING, /* a stop was asked; SIGTERM sent, the exit not yet seen */
} hp__process_state;

/* "stopped", "booting", "ready", "backoff", "failed", "stopping". */
const char *hp__process_state_name(hp__process_state state);

/* What a worker reads per request: written by the control thread alone (release), read with
 * acquire loads. */
typedef struct hp__process_gate {
    _Atomic uint32_t state;         /* hp__process_state */
    _Atomic uint64_t restart_at_ns; /* BACKOFF: CLOCK_MONOTONIC time of the next start */
} hp__process_gate;

typedef struct hp__supervisor hp__supervisor;

typedef struct hp__supervisor_hooks {
    /* Every event (process.started, .ready, .exited, .restarting, .giveup): `event` has its
     * topic and figures; the hook fills in the server (and publishes it). */
    void (*publish)(hp__supervisor *s, hp_event *event, void *data);
    /* The state changed (after the event of the change and the gate's write, before waiters
     * are answered). */
    void (*on_state)(hp__supervisor *s, hp__process_state from, hp__process_state to, void *data);
} hp__supervisor_hooks;

typedef struct hp__supervisor_options {
    const char *name;                /* the server's, for messages; copied */
    const hp_process_config *config; /* deep-copied; zero fields take their defaults */
    uint16_t port;                   /* the program's port ({port}; ready checks); not 0 */
    hp__supervisor_hooks hooks;
    void *data; /* the hooks' */
} hp__supervisor_options;

/* HP_EINVAL with the reason in `err` when the config is invalid (no command, a restart field
 * out of range, an unknown placeholder, an env entry that is not NAME=VALUE, a ready_path not
 * starting with "/" or holding a space, port 0). Starts nothing. The placeholders of command,
 * cwd and env are expanded here, once: {port} is `port`, and {name} (left only by a template
 * nobody expanded) the server's name. */
int hp__supervisor_create(uv_loop_t *loop, const hp__supervisor_options *options,
                          hp__supervisor **out, char *err, size_t errlen);

/* Starts the program (STOPPED or FAILED → BOOTING); clears the restart count. In BACKOFF it
 * starts at once (the pending restart is dropped, the count cleared); in BOOTING, READY and
 * STOPPING it does nothing. A program that cannot be started (not found, cwd missing) is an
 * abnormal exit, decided inside this call: a line saying why joins the output ("hostpool:
 * cannot start ./x: No such file or directory"), then BACKOFF or FAILED as after a crash. */
void hp__supervisor_start(hp__supervisor *s);

/* Stops the program and any restart pending; waiters are answered DOWN. `cb` (may be NULL)
 * once nothing runs: from inside this call when nothing did (STOPPED, FAILED, BACKOFF →
 * STOPPED), else when the program's exit is seen (STOPPING → STOPPED). A stop while STOPPING
 * adds its cb; every one is called, in order. The exit of a stopped program gets its
 * process.exited event and is never counted as a crash. */
typedef void (*hp__supervisor_cb)(hp__supervisor *s, void *data);
void hp__supervisor_stop(hp__supervisor *s, hp__supervisor_cb cb, void *data);

/* Frees it; the program, if any still runs, is killed (SIGKILL to its group) and reaped, with
 * no event. Waiters are answered DOWN and each watcher gets its last call (ended); the cbs of
 * a pending stop are not called. The memory goes in a libuv close callback: the loop must run
 * (uv_run) before it is closed, as after hp__child_destroy. NULL is a no-op. */
void hp__supervisor_destroy(hp__supervisor *s);

/* A request waiting for the program to be ready (memory is the caller's until `done`). */
typedef enum hp__process_wait_result {
    HP__WAIT_READY,   /* proxy it */
    HP__WAIT_TIMEOUT, /* boot_timeout passed: 504 */
    HP__WAIT_BACKOFF, /* it exited while booting and restarts later: 503 + Retry-After */
    HP__WAIT_DOWN,    /* given up, stopped, or the policy keeps it down: 503 */
    HP__WAIT_FULL,    /* `queue` requests wait already: 503 */
} hp__process_wait_result;

typedef struct hp__process_waiter hp__process_waiter;
struct hp__process_waiter {
    void (*done)(hp__process_waiter *w, hp__process_wait_result result);
    hp__process_waiter *next; /* the supervisor's */
};

/* Answers `w` (its `done`, once) when the program is ready, or with why it will not be: from
 * inside this call when that is already decided (READY, BACKOFF, FAILED, STOPPED, STOPPING, the
 * queue is full, or the boot timed out and the program is being stopped: TIMEOUT), else
 * later, from the control loop. Waiters are answered in the order they came. */
void hp__supervisor_wait(hp__supervisor *s, hp__process_waiter *w);

hp__process_gate *hp__supervisor_gate(hp__supervisor *s);
hp__process_state hp__supervisor_state(const hp__supervisor *s);
uint16_t hp__supervisor_port(const hp__supervisor *s);

/* For the admin API: the program's pid (0 when none runs), its restarts since the last manual
 * start, its starts in all (programs that ran; a failed start is not one), and the last exit
 * (the code, or the signal: the other one is -1; both -1 before any exit and after a failed
 * start). */
typedef struct hp__supervisor_info {
    hp__process_state state;
    int pid;
    uint32_t restarts;
    uint64_t starts;
    int last_exit_code;
    int last_signal;
    uint64_t ready_ms; /* how long its last boot took; 0 before it was ready */
} hp__supervisor_info;
void hp__supervisor_info_get(const hp__supervisor *s, hp__supervisor_info *out);

/* Its output: the last lines of stdout and stderr (1,000 lines, each cut at 4 KiB), across
 * restarts. A line's time is Unix time in milliseconds (when the bytes that completed it were
 * read). */
const hp__line_ring *hp__supervisor_output(const hp__supervisor *s);

/* `fn(data)` after new lines joined the ring (and once with `ended` true when the supervisor is
 * destroyed: the watcher's last call). Returns an id for unwatch, never 0. */
typedef void (*hp__supervisor_watch_fn)(void *data, bool ended);
uint64_t hp__supervisor_watch(hp__supervisor *s, hp__supervisor_watch_fn fn, void *data);
/* Idempotent; safe from inside a watcher's call. */
void hp__supervisor_unwatch(hp__supervisor *s, uint64_t id);

#endif
