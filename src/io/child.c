/* A supervised child process: fork and exec of our own, watched through libuv's SIGCHLD.
 *
 * Why not uv_spawn: the child must set PR_SET_PDEATHSIG(SIGKILL) between fork and exec (so it
 * dies when hostpool is killed, even with SIGKILL), and uv_spawn runs no caller code there.
 * So this file forks itself and, in the child, does only async-signal-safe calls: reset
 * every signal disposition and the mask (hostpool ignores SIGPIPE; libuv's handlers would write
 * into the parent's signal pipe), setsid (its own session and process group, out of reach of
 * the terminal's Ctrl+C, which hostpool handles and passes on as a stop), PR_SET_PDEATHSIG
 * then a check that the parent did not die before it took effect, dup2 of /dev/null and the
 * two pipes onto 0, 1, 2, chdir, execvpe. Everything the child needs (argv, the merged
 * environment) is prepared before fork. A close-on-exec status pipe tells the parent whether
 * exec happened: it reads EOF (exec succeeded) or the errno of the failed step, so
 * hp__child_start returns only once setsid is done and a failure is a return value.
 *
 * Cooperation with libuv: libuv reaps only the pids of its own uv_process_t handles, with
 * waitpid(pid), and uv_signal_t handles for SIGCHLD share its process-wide handler. Each child
 * has a uv_signal_t for SIGCHLD, started before fork so no exit can be missed; on every
 * SIGCHLD (of any child) it asks about its own pid only.
 *
 * Exit, no zombie, no grandchild: waitid(WNOWAIT) sees the exit without reaping, so the pid,
 * which is also the group id, cannot be reused while we then SIGKILL whatever is left in the
 * group (grandchildren, a `sleep &` of a shell script); then waitpid reaps the child. What is
 * still in the pipes is read out (the child is dead, so it is all there), the pipes are closed
 * (output of descendants after the child's exit is not read), and on_exit is called.
 *
 * Limits: PR_SET_PDEATHSIG fires when the *thread* that forked exits, so children are started
 * from the control thread, which lives as long as the process. When hostpool dies, the child
 * gets SIGKILL, but its own descendants are not in reach of PDEATHSIG (it is not inherited);
 * a process that leaves the group (setsid, setpgid) is out of reach of the group kills.
 *
 * Memory: the hp__child holds four handles (SIGCHLD watcher, stop timer, two pipes) and is
 * freed in the last close callback after hp__child_destroy. Control loop thread only. */
#include "io/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Bytes read from a pipe per callback: the buffer lives in the hp__child, nothing is
 * allocated per read. */
#define OUTPUT_BUFFER 4096
#define STREAMS 2

typedef struct output {
    uv_pipe_t pipe;
    hp__child_stream stream;
    bool reading;
    char buffer[OUTPUT_BUFFER];
} output;

struct hp__child {
    uv_loop_t *loop;
    pid_t pid;
    hp__child_callbacks callbacks;
    void *data;
    uv_signal_t sigchld;
    uv_timer_t kill_timer;
    output outputs[STREAMS];
    int open_handles;
    bool exited;
    bool stopping;
    bool destroyed;
};

/* ---- the forked child: async-signal-safe calls only ---- */

typedef struct exec_plan {
    const char *const *argv;
    char **envp;
    const char *cwd;
    pid_t parent;
    int devnull, stdout_write, stderr_write, status_write;
} exec_plan;

static _Noreturn void fail_in_child(int status_write)
{
    int err = errno;
    ssize_t ignored = write(status_write, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

static void reset_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* dup2 onto 0, 1, 2 from copies above 2, so that no source is overwritten by an earlier dup2
 * when hostpool itself was started with a standard descriptor closed. */
static void install_std_fds(const exec_plan *p)
{
    int sources[3] = {p->devnull, p->stdout_write, p->stderr_write};
    int high[3];
    for (int i = 0; i < 3; i++) {
        high[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
        if (high[i] < 0) fail_in_child(p->status_write);
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(high[i], i) < 0) fail_in_child(p->status_write);
    }
}

static _Noreturn void run_child(const exec_plan *p)
{
    reset_signals();
    if (setsid() < 0) fail_in_child(p->status_write);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_in_child(p->status_write);
    if (getppid() != p->parent) _exit(127); /* the parent died before PDEATHSIG was set */
    install_std_fds(p);
    if (p->cwd && chdir(p->cwd) < 0) fail_in_child(p->status_write);
    execvpe(p->argv[0], (char *const *)p->argv, p->envp);
    fail_in_child(p->status_write);
}

/* ---- the environment: hostpool's, with the options' entries laid over it ---- */

static size_t name_length(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool overridden(const char *entry, const char *const *env)
{
    size_t len = name_length(entry);
    for (size_t i = 0; env[i]; i++) {
        if (name_length(env[i]) == len && memcmp(env[i], entry, len) == 0) return true;
    }
    return false;
}

/* A NULL-terminated array of borrowed strings; free() only the array. */
static char **merged_environment(const char *const *env)
{
    size_t inherited = 0, added = 0;
    while (environ[inherited]) inherited++;
    while (env && env[added]) added++;
    char **envp = malloc((inherited + added + 1) * sizeof *envp);
    if (!envp) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < inherited; i++) {
        if (!env || !overridden(environ[i], env)) envp[n++] = environ[i];
    }
    for (size_t i = 0; i < added; i++) envp[n++] = (char *)env[i];
    envp[n] = NULL;
    return envp;
}

/* ---- handles and their closing ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    hp__child *child = handle->data;
    if (--child->open_handles == 0 && child->destroyed) free(child);
}

static void close_handle(uv_handle_t *handle)
{
    if (!uv_is_closing(handle)) uv_close(handle, on_handle_closed);
}

/* ---- output ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    output *out = (output *)handle;
    *buf = uv_buf_init(out->buffer, sizeof out->buffer);
}

static void stop_reading(output *out)
{
    if (!out->reading) return;
    out->reading = false;
    uv_read_stop((uv_stream_t *)&out->pipe);
    close_handle((uv_handle_t *)&out->pipe);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    output *out = (output *)stream;
    hp__child *child = stream->data;
    if (nread > 0) {
        child->callbacks.on_output(child, out->stream, buf->base, (size_t)nread);
    } else if (nread < 0) {
        stop_reading(out); /* EOF: the child closed it (or a read error: nothing more comes) */
    }
}

/* After the child's exit: what it wrote is all in the pipe; read it to the end, or to EAGAIN
 * when a descendant still holds the pipe open. Returns false when on_output destroyed the
 * child. */
static bool drain(hp__child *child, output *out)
{
    if (!out->reading) return true;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&out->pipe, &fd) == 0) {
        for (;;) {
            ssize_t n = read(fd, out->buffer, sizeof out->buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            child->callbacks.on_output(child, out->stream, out->buffer, (size_t)n);
            if (child->destroyed) return false;
        }
    }
    stop_reading(out);
    return true;
}

/* ---- exit ---- */

static void reap(hp__child *child, int64_t *exit_status, int *term_signal)
{
    kill(-child->pid, SIGKILL); /* the rest of the group; the pid is not reaped yet */
    int status = 0;
    while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
    }
    child->exited = true;
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    *term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void on_sigchld(uv_signal_t *handle, int signum)
{
    hp__child *child = handle->data;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)child->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0) return;
    if (info.si_pid == 0) return; /* another child's SIGCHLD */
    int64_t exit_status;
    int term_signal;
    reap(child, &exit_status, &term_signal);
    uv_signal_stop(&child->sigchld);
    uv_timer_stop(&child->kill_timer);
    for (int i = 0; i < STREAMS; i++) {
        if (!drain(child, &child->outputs[i])) return;
    }
    child->callbacks.on_exit(child, exit_status, term_signal);
}

static void on_stop_timeout(uv_timer_t *timer)
{
    hp__child *child = timer->data;
    if (!child->exited) kill(-child->pid, SIGKILL);
}

/* ---- start ---- */

typedef struct start_fds {
    int devnull;
    int out[2], err[2], status[2];
} start_fds;

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void close_start_fds(start_fds *f)
{
    close_fd(&f->devnull);
    for (int i = 0; i < 2; i++) {
        close_fd(&f->out[i]);
        close_fd(&f->err[i]);
        close_fd(&f->status[i]);
    }
}

static int open_start_fds(start_fds *f)
{
    *f = (start_fds){.devnull = -1, .out = {-1, -1}, .err = {-1, -1}, .status = {-1, -1}};
    f->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (f->devnull < 0 || pipe2(f->out, O_CLOEXEC) < 0 || pipe2(f->err, O_CLOEXEC) < 0 ||
        pipe2(f->status, O_CLOEXEC) < 0) {
        int err = -errno;
        close_start_fds(f);
        return err;
    }
    return 0;
}

/* Forks with every signal blocked, so no handler of hostpool's runs in the child before it
 * resets them. Returns the pid or a negative errno. */
static pid_t fork_child(const exec_plan *plan)
{
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = fork();
    if (pid == 0) run_child(plan);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return pid < 0 ? -err : pid;
}

/* 0 once the status pipe is closed by exec, or the negative errno the child sent. */
static int exec_result(int status_read)
{
    int child_errno = 0;
    ssize_t n;
    while ((n = read(status_read, &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
    }
    return n == (ssize_t)sizeof child_errno ? -child_errno : 0;
}

static int open_output(hp__child *child, output *out, hp__child_stream stream, int *fd)
{
    out->stream = stream;
    int rc = uv_pipe_init(child->loop, &out->pipe, 0);
    if (rc < 0) return rc;
    out->pipe.data = child;
    child->open_handles++;
    rc = uv_pipe_open(&out->pipe, *fd);
    if (rc < 0) return rc;
    *fd = -1; /* the pipe handle owns it now */
    out->reading = true;
    return uv_read_start((uv_stream_t *)&out->pipe, on_alloc, on_read);
}

/* The child runs: the handles that watch it. On failure the child is killed and reaped. */
static int watch(hp__child *child, start_fds *f)
{
    uv_timer_init(child->loop, &child->kill_timer);
    child->kill_timer.data = child;
    child->open_handles++;
    int rc = open_output(child, &child->outputs[0], HP__CHILD_STDOUT, &f->out[0]);
    if (rc == 0) rc = open_output(child, &child->outputs[1], HP__CHILD_STDERR, &f->err[0]);
    return rc;
}

static int spawn(hp__child *child, const hp__child_options *o, start_fds *f)
{
    char **envp = merged_environment(o->env);
    if (!envp) return -ENOMEM;
    exec_plan plan = {
        .argv = o->argv,
        .envp = envp,
        .cwd = o->cwd,
        .parent = getpid(),
        .devnull = f->devnull,
        .stdout_write = f->out[1],
        .stderr_write = f->err[1],
        .status_write = f->status[1],
    };
    pid_t pid = fork_child(&plan);
    free(envp);
    if (pid < 0) return pid;
    child->pid = pid;
    close_fd(&f->status[1]);
    close_fd(&f->out[1]);
    close_fd(&f->err[1]);
    close_fd(&f->devnull);
    int rc = exec_result(f->status[0]);
    if (rc < 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        child->exited = true;
    }
    return rc;
}

int hp__child_start(uv_loop_t *loop, const hp__child_options *o, hp__child_callbacks callbacks,
                    void *data, hp__child **out)
{
    if (!o->argv || !o->argv[0]) return -EINVAL;
    hp__child *child = calloc(1, sizeof *child);
    if (!child) return -ENOMEM;
    *child = (hp__child){.loop = loop, .callbacks = callbacks, .data = data};
    start_fds f;
    int rc = open_start_fds(&f);
    if (rc < 0) {
        free(child);
        return rc;
    }
    uv_signal_init(loop, &child->sigchld);
    child->sigchld.data = child;
    child->open_handles = 1;
    rc = uv_signal_start(&child->sigchld, on_sigchld, SIGCHLD);
    if (rc == 0) rc = spawn(child, o, &f);
    if (rc == 0) rc = watch(child, &f);
    close_start_fds(&f);
    if (rc < 0) {
        hp__child_destroy(child);
        return rc;
    }
    *out = child;
    return 0;
}

/* ---- stop, accessors, destroy ---- */

void hp__child_stop(hp__child *child, uint64_t stop_timeout_ms)
{
    if (child->exited || child->stopping) return;
    child->stopping = true;
    kill(-child->pid, SIGTERM);
    uv_timer_start(&child->kill_timer, on_stop_timeout, stop_timeout_ms, 0);
}

pid_t hp__child_pid(const hp__child *child)
{
    return child->pid;
}

void *hp__child_data(const hp__child *child)
{
    return child->data;
}

void hp__child_destroy(hp__child *child)
{
    if (!child) return;
    if (!child->exited && child->pid > 0) {
        int64_t exit_status;
        int term_signal;
        reap(child, &exit_status, &term_signal);
    }
    child->destroyed = true;
    close_handle((uv_handle_t *)&child->sigchld);
    if (child->kill_timer.loop) close_handle((uv_handle_t *)&child->kill_timer);
    for (int i = 0; i < STREAMS; i++) {
        output *out = &child->outputs[i];
        out->reading = false;
        /* not initialized when the start failed before the pipes */
        if (out->pipe.loop) close_handle((uv_handle_t *)&out->pipe);
    }
}
