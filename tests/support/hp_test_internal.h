/* Internal to the test support library: what its files share and tests do not call. */
#ifndef HP_TEST_INTERNAL_H
#define HP_TEST_INTERNAL_H

#include "hp_test.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- child processes (hp_test_process.c): every child is tracked until reaped ---- */

/* Spawns `argv[0]` (searched in PATH) with argv, stdin from `in_fd` (-1: /dev/null), stdout to
 * `out_fd` and stderr to `err_fd` (-1: inherit ours). Returns the pid, or -1 with a message
 * printed. */
pid_t hp_test__spawn(const char *const argv[], int in_fd, int out_fd, int err_fd);

/* waitpid with a deadline (timeout_ms < 0: don't wait). Returns true and the exit status
 * (exit code, or 128 + signal) once the child was reaped; the child is then untracked. */
bool hp_test__reap(pid_t pid, int timeout_ms, int *status);

/* SIGKILL and reap. */
void hp_test__kill(pid_t pid);

/* ---- connections (hp_test_conn.c) ---- */

/* Reads more bytes into conn->buf, waiting until `deadline` (hp_test_now_ms() time) at most.
 * Returns HP_TEST_OK (bytes arrived), HP_TEST_CLOSED or HP_TEST_TIMEOUT. */
int hp_test__fill(hp_test_conn *conn, int64_t deadline);

#endif
