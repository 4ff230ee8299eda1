/* Running curl as a real client: spawned like the server (tracked, never left behind), its
 * stdout collected through a pipe while we wait, so a large output cannot block it. */
#include "hp_test_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hp_test_curl(const char *const args[], char **out, size_t *out_len, int timeout_ms)
{
    size_t argc = 0;
    while (args[argc]) argc++;
    const char **argv = calloc(argc + 2, sizeof *argv);
    argv[0] = "curl";
    for (size_t i = 0; i < argc; i++) argv[i + 1] = args[i];

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        free(argv);
        return HP_TEST_ERROR;
    }
    pid_t pid = hp_test__spawn(argv, -1, pipe_fds[1], -1);
    free(argv);
    close(pipe_fds[1]);
    if (pid < 0) {
        close(pipe_fds[0]);
        return HP_TEST_ERROR;
    }

    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        int left = (int)(deadline - hp_test_now_ms());
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {pipe_fds[0], POLLIN, 0};
        if (poll(&pfd, 1, left) <= 0) continue;
        if (cap - len < 2048) buf = realloc(buf, cap *= 2);
        ssize_t got = read(pipe_fds[0], buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break; /* curl closed its stdout: it is exiting */
        len += (size_t)got;
    }
    close(pipe_fds[0]);
    buf[len] = '\0';

    int status;
    if (timed_out || !hp_test__reap(pid, (int)(deadline - hp_test_now_ms()) + 1, &status)) {
        fprintf(stderr, "hp_test: curl did not finish within %d ms; killed\n", timeout_ms);
        hp_test__kill(pid);
        free(buf);
        return HP_TEST_TIMEOUT;
    }
    if (out)
        *out = buf;
    else
        free(buf);
    if (out_len) *out_len = len;
    return status;
}
