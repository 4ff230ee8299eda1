/* The hostpool process under test: spawn, wait for the ready line, signal, stop, reap.
 *
 * The ready line is the first line on stdout that reads
 * "hostpool: listening on http://127.0.0.1:PORT/"; it is printed once the listener accepts.
 * The pipe stays open after it (and is drained when the server stops) so that a server that
 * writes more to stdout can never block on a full pipe while a test runs. */
#include "hp_test.h"
#include "hp_test_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char READY_PREFIX[] = "hostpool: listening on http://127.0.0.1:";

/* Finds the ready line in `text` and returns its port, or 0. */
static int port_from_ready_line(const char *text)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (end == NULL) break; /* incomplete line */
        if (strncmp(line, READY_PREFIX, sizeof READY_PREFIX - 1) == 0) {
            char *after;
            long port = strtol(line + sizeof READY_PREFIX - 1, &after, 10);
            if (port > 0 && port < 65536 && *after == '/') return (int)port;
        }
        line = end + 1;
    }
    return 0;
}

/* Appends what the process wrote to stdout to srv->out, waiting until `deadline` at most.
 * Returns HP_TEST_OK (bytes arrived), HP_TEST_TIMEOUT, HP_TEST_CLOSED (stdout was closed) or
 * HP_TEST_ERROR (srv->out is full). */
static int read_stdout(hp_test_server *srv, int64_t deadline)
{
    for (;;) {
        int left = (int)(deadline - hp_test_now_ms());
        if (left <= 0) return HP_TEST_TIMEOUT;
        if (srv->out_len >= sizeof srv->out - 1) return HP_TEST_ERROR;
        struct pollfd pfd = {srv->stdout_fd, POLLIN, 0};
        if (poll(&pfd, 1, left) <= 0) continue; /* EINTR, or the deadline checked above */
        ssize_t got =
            read(srv->stdout_fd, srv->out + srv->out_len, sizeof srv->out - 1 - srv->out_len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return HP_TEST_CLOSED;
        srv->out_len += (size_t)got;
        srv->out[srv->out_len] = '\0';
        return HP_TEST_OK;
    }
}

static void report_failure(hp_test_server *srv, const char *what, const char *stdout_text)
{
    char *err = hp_test_server_stderr(srv);
    fprintf(stderr, "hp_test: server %s\n  stdout: %s\n  stderr: %s\n", what,
            stdout_text[0] ? stdout_text : "(empty)", err[0] ? err : "(empty)");
    free(err);
}

/* Spawns `prefix` (a command that runs the rest, NULL: none), HOSTPOOL_BIN and `argv`. */
static int spawn(hp_test_server *srv, const char *const prefix[], const char *const argv[])
{
    memset(srv, 0, sizeof *srv);
    srv->stdout_fd = -1;
    snprintf(srv->stderr_path, sizeof srv->stderr_path, "%s/server-stderr.XXXXXX",
             hp_test_temp_dir());
    int err_fd = mkostemp(srv->stderr_path, O_CLOEXEC);
    if (err_fd < 0) {
        fprintf(stderr, "hp_test: mkostemp: %s\n", strerror(errno));
        return -1;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(err_fd);
        return -1;
    }

    size_t argc = 0, n = 0;
    while (argv[argc]) argc++;
    while (prefix && prefix[n]) n++;
    const char **full = calloc(n + argc + 2, sizeof *full);
    for (size_t i = 0; i < n; i++) full[i] = prefix[i];
    full[n] = hp_test_bin();
    for (size_t i = 0; i < argc; i++) full[n + 1 + i] = argv[i];
    pid_t pid = hp_test__spawn(full, -1, out[1], err_fd);
    free(full);
    close(out[1]);
    close(err_fd);
    if (pid < 0) {
        close(out[0]);
        return -1;
    }
    srv->pid = pid;
    srv->stdout_fd = out[0];
    return 0;
}

int hp_test_server_spawn(hp_test_server *srv, const char *const argv[])
{
    return spawn(srv, NULL, argv);
}

/* Waits for the ready line of a spawned server. */
static int wait_ready(hp_test_server *srv, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    int rc = HP_TEST_OK;
    while ((srv->port = port_from_ready_line(srv->out)) == 0 && rc == HP_TEST_OK)
        rc = read_stdout(srv, deadline);
    if (srv->port > 0) return 0;
    report_failure(srv,
                   rc == HP_TEST_TIMEOUT  ? "printed no ready line before the deadline"
                   : rc == HP_TEST_CLOSED ? "exited (or closed stdout) before it was ready"
                                          : "wrote too much to stdout before its ready line",
                   srv->out);
    hp_test_server_kill(srv);
    return -1;
}

int hp_test_server_start(hp_test_server *srv, const char *const argv[], int timeout_ms)
{
    if (hp_test_server_spawn(srv, argv) != 0) return -1;
    return wait_ready(srv, timeout_ms);
}

int hp_test_server_start_nofile(hp_test_server *srv, const char *const argv[], unsigned soft,
                                unsigned hard, int timeout_ms)
{
    char limits[64];
    snprintf(limits, sizeof limits, "--nofile=%u:%u", soft, hard);
    const char *const prefix[] = {"prlimit", limits, "--", NULL};
    if (spawn(srv, prefix, argv) != 0) return -1;
    return wait_ready(srv, timeout_ms);
}

const char *hp_test_server_stdout_until(hp_test_server *srv, const char *text, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (!strstr(srv->out, text))
        if (srv->stdout_fd < 0 || read_stdout(srv, deadline) != HP_TEST_OK) return NULL;
    return srv->out;
}

int hp_test_server_startl(hp_test_server *srv, const char *arg, ...)
{
    const char *argv[128];
    size_t n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 127; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return hp_test_server_start(srv, argv, HP_TEST_DEADLINE_MS);
}

int hp_test_server_start_respond(hp_test_server *srv, ...)
{
    const char *argv[128] = {"respond", "--listen", HP_TEST_LISTEN, "--body", HP_TEST_BODY};
    size_t n = 5;
    va_list ap;
    va_start(ap, srv);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 127;) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return hp_test_server_start(srv, argv, HP_TEST_DEADLINE_MS);
}

static void drain_stdout(hp_test_server *srv)
{
    if (srv->stdout_fd < 0) return;
    char sink[4096];
    int flags = fcntl(srv->stdout_fd, F_GETFL);
    fcntl(srv->stdout_fd, F_SETFL, flags | O_NONBLOCK);
    while (read(srv->stdout_fd, sink, sizeof sink) > 0) {
    }
    close(srv->stdout_fd);
    srv->stdout_fd = -1;
}

bool hp_test_server_running(hp_test_server *srv)
{
    if (srv->pid <= 0) return false;
    if (hp_test__reap(srv->pid, -1, &srv->exit_status)) {
        srv->pid = 0;
        return false;
    }
    return true;
}

int hp_test_server_signal(hp_test_server *srv, int sig)
{
    if (!hp_test_server_running(srv)) return -1;
    return kill(srv->pid, sig) == 0 ? 0 : -1;
}

/* A server that exits with a status other than 0 usually says why on stderr (a sanitizer
 * report, a diagnostic): show its end, so the failing test explains itself. */
static void show_stderr_of_failed_exit(const hp_test_server *srv)
{
    char *text = hp_test_server_stderr(srv);
    size_t len = strlen(text);
    const size_t tail = 6000;
    fprintf(stderr, "hp_test: the server exited with status %d; %s of its stderr:\n%s\n",
            srv->exit_status, len > tail ? "the end" : "all",
            len > tail ? text + len - tail : text);
    free(text);
}

int hp_test_server_wait(hp_test_server *srv, int timeout_ms)
{
    if (srv->pid <= 0) return srv->exit_status;
    if (!hp_test__reap(srv->pid, timeout_ms, &srv->exit_status)) return HP_TEST_TIMEOUT;
    srv->pid = 0;
    drain_stdout(srv);
    if (srv->exit_status != 0) show_stderr_of_failed_exit(srv);
    return srv->exit_status;
}

int hp_test_server_stop(hp_test_server *srv, int sig, int timeout_ms)
{
    if (srv->pid <= 0) {
        drain_stdout(srv);
        return srv->exit_status;
    }
    kill(srv->pid, sig);
    int status = hp_test_server_wait(srv, timeout_ms);
    if (status == HP_TEST_TIMEOUT) {
        fprintf(stderr, "hp_test: server pid %d did not exit within %d ms of signal %d; killed\n",
                (int)srv->pid, timeout_ms, sig);
        hp_test_server_kill(srv);
        return HP_TEST_TIMEOUT;
    }
    return status;
}

void hp_test_server_kill(hp_test_server *srv)
{
    if (srv->pid > 0) {
        hp_test__kill(srv->pid);
        srv->pid = 0;
        srv->exit_status = 128 + SIGKILL;
    }
    drain_stdout(srv);
}

char *hp_test_server_stderr(const hp_test_server *srv)
{
    char *text = srv->stderr_path[0] ? hp_test_read_file(srv->stderr_path, NULL) : NULL;
    return text ? text : calloc(1, 1);
}
