/* A supervised child process (src/io/child.h) with real processes: sh -c scripts as children,
 * on a libuv loop of the test's own. The test process is a child subreaper, so descendants
 * orphaned by a kill are reparented to it and the tests reap them (a zombie still answers
 * kill(pid, 0)); every test polls with a deadline and leaves no process and a closed loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "hp_test.h"
#include "io/child.h"

#define DEADLINE_MS 10000
/* The stop timeout of a child that ignores SIGTERM: short, but long enough to measure. */
#define STOP_TIMEOUT_MS 300

typedef struct run {
    uv_loop_t loop;
    hp__child *child;
    char out[256], err[256];
    size_t out_len, err_len;
    size_t out_bytes;
    size_t out_bytes_at_exit; /* every byte of stdout, counted when on_exit comes */
    bool exited;
    int exits;
    int64_t exit_status;
    int term_signal;
} run;

static void on_output(hp__child *child, hp__child_stream stream, const char *bytes, size_t len)
{
    run *r = hp__child_data(child);
    if (stream == HP__CHILD_STDOUT) r->out_bytes += len;
    char *buf = stream == HP__CHILD_STDOUT ? r->out : r->err;
    size_t *used = stream == HP__CHILD_STDOUT ? &r->out_len : &r->err_len;
    size_t room = sizeof r->out - 1 - *used;
    if (len > room) len = room;
    memcpy(buf + *used, bytes, len);
    *used += len;
    buf[*used] = '\0';
}

static void on_exit_cb(hp__child *child, int64_t exit_status, int term_signal)
{
    run *r = hp__child_data(child);
    r->exited = true;
    r->out_bytes_at_exit = r->out_bytes;
    r->exits++;
    r->exit_status = exit_status;
    r->term_signal = term_signal;
}

static const hp__child_callbacks callbacks = {.on_output = on_output, .on_exit = on_exit_cb};

static void on_guard(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop until *flag or the deadline; returns *flag. */
static bool run_until(run *r, const bool *flag, int timeout_ms)
{
    bool late = false;
    uv_timer_t guard;
    uv_timer_init(&r->loop, &guard);
    guard.data = &late;
    uv_timer_start(&guard, on_guard, (uint64_t)timeout_ms, 0);
    while (!*flag && !late) uv_run(&r->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&r->loop, UV_RUN_NOWAIT);
    return *flag;
}

static bool output_contains(run *r, const char *text)
{
    return strstr(r->out, text) != NULL;
}

static void wait_for_stdout(run *r, const char *text)
{
    int64_t deadline = hp_test_now_ms() + DEADLINE_MS;
    while (!output_contains(r, text) && hp_test_now_ms() < deadline && !r->exited) {
        bool never = false;
        run_until(r, &never, 20);
    }
    assert_non_null(strstr(r->out, text));
}

/* The run of the test in progress, for the teardown after a failed assertion. */
static run *live;

static void start_sh(run *r, const char *script)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    const char *argv[] = {"sh", "-c", script, NULL};
    hp__child_options o = {.argv = argv};
    assert_int_equal(hp__child_start(&r->loop, &o, callbacks, r, &r->child), 0);
    live = r;
}

static void finish(run *r)
{
    live = NULL;
    hp__child_destroy(r->child);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

/* Reaps orphans reparented to this subreaper, then tells whether the group is empty. */
static bool group_gone(void *data)
{
    pid_t pgid = *(pid_t *)data;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    return kill(-pgid, 0) < 0 && errno == ESRCH;
}

static bool process_gone(void *data)
{
    pid_t pid = *(pid_t *)data;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    return kill(pid, 0) < 0 && errno == ESRCH;
}

static void output_of_both_streams_reaches_callbacks(void **state)
{
    run r;
    start_sh(&r, "printf 'to stdout'; printf 'to stderr' >&2");
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_string_equal(r.out, "to stdout");
    assert_string_equal(r.err, "to stderr");
    finish(&r);
}

/* Far more than a pipe holds and than one read callback takes: the last of it is still in
 * the pipe when the exit is seen. */
static void output_written_before_exit_is_all_delivered_before_on_exit(void **state)
{
    run r;
    start_sh(&r, "yes 0123456789 | head -c 1000000; exit 3");
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.exit_status, 3);
    assert_int_equal(r.out_bytes_at_exit, 1000000);
    finish(&r);
}

static void exit_code_is_reported_once(void **state)
{
    run r;
    start_sh(&r, "exit 7");
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.exit_status, 7);
    assert_int_equal(r.term_signal, 0);
    assert_int_equal(r.exits, 1);
    pid_t pid = hp__child_pid(r.child);
    assert_true(kill(pid, 0) < 0 && errno == ESRCH); /* reaped: not even a zombie */
    finish(&r);
}

static void terminating_signal_is_reported(void **state)
{
    run r;
    start_sh(&r, "kill -9 $$");
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.term_signal, SIGKILL);
    finish(&r);
}

static void environment_entries_and_cwd_reach_the_child(void **state)
{
    run r;
    memset(&r, 0, sizeof r);
    assert_int_equal(uv_loop_init(&r.loop), 0);
    const char *argv[] = {"sh", "-c", "printf '%s %s' \"$HP_CHILD_TEST\" \"$(pwd)\"", NULL};
    const char *env[] = {"HP_CHILD_TEST=overlaid", NULL};
    hp__child_options o = {.argv = argv, .env = env, .cwd = "/"};
    assert_int_equal(hp__child_start(&r.loop, &o, callbacks, &r, &r.child), 0);
    live = &r;
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_string_equal(r.out, "overlaid /");
    finish(&r);
}

static void start_of_a_missing_program_fails_without_callbacks(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    const char *argv[] = {"/nonexistent/hostpool-child", NULL};
    hp__child_options o = {.argv = argv};
    hp__child *child = NULL;
    assert_int_equal(hp__child_start(&loop, &o, callbacks, NULL, &child), -ENOENT);
    assert_null(child);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void stop_ends_a_child_with_sigterm(void **state)
{
    run r;
    start_sh(&r, "echo ready; exec sleep 1000");
    wait_for_stdout(&r, "ready");
    hp__child_stop(r.child, DEADLINE_MS);
    hp__child_stop(r.child, DEADLINE_MS);
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.term_signal, SIGTERM);
    assert_int_equal(r.exits, 1);
    finish(&r);
}

static void stop_kills_a_child_that_ignores_sigterm_after_the_timeout(void **state)
{
    run r;
    start_sh(&r, "trap '' TERM; echo ready; while :; do sleep 1; done");
    wait_for_stdout(&r, "ready");
    int64_t stopped_at = hp_test_now_ms();
    hp__child_stop(r.child, STOP_TIMEOUT_MS);
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.term_signal, SIGKILL);
    assert_true(hp_test_now_ms() - stopped_at >= STOP_TIMEOUT_MS);
    pid_t pgid = hp__child_pid(r.child);
    assert_true(hp_test_poll_until(group_gone, &pgid, DEADLINE_MS));
    finish(&r);
}

/* The grandchild ignores SIGTERM and so outlives the stop's SIGTERM; the shell does not. */
static void stop_leaves_no_process_in_the_group(void **state)
{
    run r;
    start_sh(&r, "trap '' TERM; sleep 1000 & trap - TERM; echo ready; sleep 1000 & wait");
    wait_for_stdout(&r, "ready");
    pid_t pgid = hp__child_pid(r.child);
    hp__child_stop(r.child, DEADLINE_MS);
    assert_true(run_until(&r, &r.exited, DEADLINE_MS));
    assert_int_equal(r.term_signal, SIGTERM);
    assert_true(hp_test_poll_until(group_gone, &pgid, DEADLINE_MS));
    finish(&r);
}

static void destroy_before_exit_kills_and_reaps_the_child(void **state)
{
    run r;
    start_sh(&r, "exec sleep 1000");
    pid_t pid = hp__child_pid(r.child);
    hp__child_destroy(r.child);
    r.child = NULL;
    assert_true(kill(pid, 0) < 0 && errno == ESRCH);
    assert_false(r.exited);
    finish(&r);
}

/* The parent: a forked copy of this test that starts `sleep 1000` with hp__child_start,
 * writes its pid on `report` and waits to be killed. */
static _Noreturn void run_parent(int report)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *argv[] = {"sleep", "1000", NULL};
    hp__child_options o = {.argv = argv};
    hp__child *child = NULL;
    pid_t pid =
        hp__child_start(&loop, &o, callbacks, NULL, &child) == 0 ? hp__child_pid(child) : -1;
    ssize_t ignored = write(report, &pid, sizeof pid);
    (void)ignored;
    for (;;) pause();
}

static void killed_parent_leaves_no_child_alive(void **state)
{
    int report[2];
    assert_int_equal(pipe(report), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) run_parent(report[1]);
    close(report[1]);
    struct pollfd p = {.fd = report[0], .events = POLLIN};
    pid_t child = -1;
    if (poll(&p, 1, DEADLINE_MS) == 1)
        assert_int_equal(read(report[0], &child, sizeof child), sizeof child);
    close(report[0]);
    kill(parent, SIGKILL);
    assert_int_equal(waitpid(parent, NULL, 0), parent);
    assert_true(child > 0);
    bool gone = hp_test_poll_until(process_gone, &child, DEADLINE_MS);
    if (!gone) kill(child, SIGKILL);
    assert_true(gone);
}

/* After a failed assertion: the child still running is killed and reaped. */
static int kill_live_child(void **state)
{
    if (live) hp__child_destroy(live->child);
    live = NULL;
    return 0;
}

static int become_subreaper(void **state)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(output_of_both_streams_reaches_callbacks, kill_live_child),
        cmocka_unit_test_teardown(output_written_before_exit_is_all_delivered_before_on_exit,
                                  kill_live_child),
        cmocka_unit_test_teardown(exit_code_is_reported_once, kill_live_child),
        cmocka_unit_test_teardown(terminating_signal_is_reported, kill_live_child),
        cmocka_unit_test_teardown(environment_entries_and_cwd_reach_the_child, kill_live_child),
        cmocka_unit_test_teardown(start_of_a_missing_program_fails_without_callbacks,
                                  kill_live_child),
        cmocka_unit_test_teardown(stop_ends_a_child_with_sigterm, kill_live_child),
        cmocka_unit_test_teardown(stop_kills_a_child_that_ignores_sigterm_after_the_timeout,
                                  kill_live_child),
        cmocka_unit_test_teardown(stop_leaves_no_process_in_the_group, kill_live_child),
        cmocka_unit_test_teardown(destroy_before_exit_kills_and_reaps_the_child, kill_live_child),
        cmocka_unit_test_teardown(killed_parent_leaves_no_child_alive, kill_live_child),
    };
    return cmocka_run_group_tests(tests, become_subreaper, NULL);
}
