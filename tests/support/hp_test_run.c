/* Running a command to its end with a deadline: stdin from a file, stdout and stderr each
 * through a pipe that is read while the command runs (so a large output cannot block it),
 * then the exit status. The command is spawned and tracked like every child of a test
 * (hp_test_process.c), and killed at the deadline. */
#include "hp_test_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct output {
    int fd; /* -1 once closed */
    char *text;
    size_t len, cap;
} output;

static void output_init(output *o, int fd)
{
    *o = (output){.fd = fd, .cap = 4096};
    o->text = malloc(o->cap);
    o->text[0] = '\0';
}

/* Reads what is there; closes the pipe at its end. */
static void output_read(output *o)
{
    if (o->cap - o->len < 2048) o->text = realloc(o->text, o->cap *= 2);
    ssize_t got = read(o->fd, o->text + o->len, o->cap - o->len - 1);
    if (got < 0 && errno == EINTR) return;
    if (got <= 0) {
        close(o->fd);
        o->fd = -1;
        return;
    }
    o->len += (size_t)got;
    o->text[o->len] = '\0';
}

/* Collects both outputs until both pipes closed (the command is exiting) or the deadline. */
static bool collect(output outs[2], int64_t deadline)
{
    while (outs[0].fd >= 0 || outs[1].fd >= 0) {
        int left = (int)(deadline - hp_test_now_ms());
        if (left <= 0) return false;
        struct pollfd pfds[2] = {{outs[0].fd, POLLIN, 0}, {outs[1].fd, POLLIN, 0}};
        if (poll(pfds, 2, left) <= 0) continue;
        for (int i = 0; i < 2; i++)
            if (pfds[i].revents) output_read(&outs[i]);
    }
    return true;
}

static void close_fd(int fd)
{
    if (fd >= 0) close(fd);
}

/* Spawns the command with its stdout and stderr on pipes whose read ends go to outs[0] and
 * outs[1] (their fd stays -1 when the pipes could not be made). */
static pid_t spawn_with_pipes(const char *const argv[], const char *stdin_path, output outs[2])
{
    output_init(&outs[0], -1);
    output_init(&outs[1], -1);
    int in_fd = stdin_path ? open(stdin_path, O_RDONLY | O_CLOEXEC) : -1;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    pid_t pid = -1;
    if (stdin_path && in_fd < 0)
        fprintf(stderr, "hp_test: cannot open %s: %s\n", stdin_path, strerror(errno));
    else if (pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0)
        pid = hp_test__spawn(argv, in_fd, out[1], err[1]);
    close_fd(in_fd);
    close_fd(out[1]);
    close_fd(err[1]);
    outs[0].fd = out[0];
    outs[1].fd = err[0];
    return pid;
}

hp_test_run_result hp_test_run(const char *const argv[], const char *stdin_path, int timeout_ms)
{
    output outs[2];
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    pid_t pid = spawn_with_pipes(argv, stdin_path, outs);
    hp_test_run_result r = {HP_TEST_ERROR, NULL, NULL};
    if (pid > 0) {
        bool finished = collect(outs, deadline) &&
                        hp_test__reap(pid, (int)(deadline - hp_test_now_ms()) + 1, &r.status);
        if (!finished) {
            fprintf(stderr, "hp_test: %s did not finish within %d ms; killed\n", argv[0],
                    timeout_ms);
            hp_test__kill(pid);
            r.status = HP_TEST_TIMEOUT;
        }
    }
    for (int i = 0; i < 2; i++) close_fd(outs[i].fd);
    r.out = outs[0].text;
    r.err = outs[1].text;
    return r;
}

void hp_test_run_free(hp_test_run_result *r)
{
    free(r->out);
    free(r->err);
    *r = (hp_test_run_result){0};
}
