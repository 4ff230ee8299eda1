/* A process server in a pool (hostpool/process.h), driven from C: hp_pool_get_or_create answers
 * it only once its program is ready, every caller meanwhile waits and exactly one program is
 * started; a program the policy gives up on fails the entry (still bound) and answers the
 * waiting callers with an error; a stop ends only once the program stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "hostpool/pool.h"
#include "hp_test.h"
#include "pool/pool_internal.h"
#include "pool/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PORT_MIN 25560
#define PORT_MAX 25599

static uv_loop_t loop;
static hp_pool *pool;
static int pool_done;
static char events[2048];
static const char *listen_address = "auto";
static const char *const *command; /* of the process servers make_process adds */
static size_t command_count;
static uint32_t max_restarts;
static uint32_t stop_timeout_ms;

static int record_event(const hp_event *ev, void *data)
{
    size_t n = strlen(events);
    if (ev) snprintf(events + n, sizeof events - n, "%s ", ev->topic);
    return 0;
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 1, .port_min = PORT_MIN, .port_max = PORT_MAX};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    events[0] = '\0';
    pool_done = 0;
    max_restarts = 0;
    stop_timeout_ms = 0;
    return hp_pool_subscribe(pool, "**", record_event, NULL, NULL);
}

static void pool_stopped(hp_pool *p, void *data)
{
    pool_done++;
}

static int teardown(void **state)
{
    hp_pool_shutdown(pool, pool_stopped, NULL);
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!pool_done && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return pool_done && uv_loop_close(&loop) == 0 ? 0 : -1;
}

static int make_process(hp_pool *p, const char *name, void *data)
{
    hp_process_config process = {.command = command,
                                 .command_count = command_count,
                                 .stop_timeout_ms = stop_timeout_ms,
                                 .restart = {.max_restarts = max_restarts}};
    hp_server_config c = {
        .name = name, .listen = &listen_address, .listen_count = 1, .process = &process};
    hp_limits_init(&c.limits);
    return hp_pool_add(p, &c, NULL, 0);
}

typedef struct answers {
    int count;
    int status[4];
} answers;

static void on_answer(hp_pool *p, const char *name, int status, void *data)
{
    answers *a = data;
    a->status[a->count++] = status;
}

static bool answered_twice(void *data)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    return ((answers *)data)->count == 2;
}

static bool answered_once(void *data)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    return ((answers *)data)->count == 1;
}

static hp_server_state state_of(const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, name, &info), 0);
    return info.state;
}

static size_t occurrences(const char *text, const char *word)
{
    size_t n = 0;
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) n++;
    return n;
}

static void get_or_create_answers_a_process_server_once_its_program_is_ready(void **state)
{
    char script[4400];
    snprintf(script, sizeof script, "sleep 0.3; exec %s respond --listen 127.0.0.1:{port}",
             hp_test_bin());
    const char *argv[] = {"/bin/sh", "-c", script};
    command = argv;
    command_count = 3;
    answers a = {0};
    assert_int_equal(hp_pool_get_or_create(pool, "p", make_process, NULL, on_answer, &a), 0);
    assert_int_equal(hp_pool_get_or_create(pool, "p", make_process, NULL, on_answer, &a), 0);
    assert_int_equal(a.count, 0); /* both wait for the program */
    assert_int_equal(state_of("p"), HP_SERVER_STARTING);
    assert_true(hp_test_poll_until(answered_twice, &a, HP_TEST_DEADLINE_MS));
    assert_int_equal(a.status[0], 0);
    assert_int_equal(a.status[1], 0);
    assert_int_equal(state_of("p"), HP_SERVER_RUNNING);
    assert_int_equal(occurrences(events, "process.started "), 1);
    assert_non_null(strstr(events, "server.started "));
    assert_non_null(strstr(events, "process.ready "));
}

static void a_program_the_policy_gives_up_on_fails_its_server_and_its_waiting_callers(void **state)
{
    const char *argv[] = {"/bin/false"};
    command = argv;
    command_count = 1;
    max_restarts = HP_RESTART_NONE; /* the first exit gives up */
    answers a = {0};
    assert_int_equal(hp_pool_get_or_create(pool, "f", make_process, NULL, on_answer, &a), 0);
    assert_true(hp_test_poll_until(answered_once, &a, HP_TEST_DEADLINE_MS));
    assert_int_equal(a.status[0], HP_ESTATE);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "f", &info), 0);
    assert_int_equal(info.state, HP_SERVER_FAILED);
    assert_non_null(strstr(info.last_error, "exited with code 1"));
    assert_true(hp_pool_bound_port(pool, info.server, 0) > 0); /* still bound: 503s */
    assert_non_null(strstr(events, "process.giveup "));
    answers stopped = {0};
    assert_int_equal(hp_pool_stop(pool, "f", on_answer, &stopped), 0);
    assert_true(hp_test_poll_until(answered_once, &stopped, HP_TEST_DEADLINE_MS));
    assert_int_equal(state_of("f"), HP_SERVER_STOPPED);
}

static void a_stop_ends_once_the_program_stopped(void **state)
{
    char script[4400];
    snprintf(script, sizeof script, "exec %s respond --listen 127.0.0.1:{port}", hp_test_bin());
    const char *argv[] = {"/bin/sh", "-c", script};
    command = argv;
    command_count = 3;
    answers a = {0};
    assert_int_equal(hp_pool_get_or_create(pool, "s", make_process, NULL, on_answer, &a), 0);
    assert_true(hp_test_poll_until(answered_once, &a, HP_TEST_DEADLINE_MS));
    hp__supervisor *s = hp__pool_supervisor(pool, "s");
    assert_non_null(s);
    assert_int_equal(hp__supervisor_state(s), HP__PROCESS_READY);
    answers stopped = {0};
    assert_int_equal(hp_pool_stop(pool, "s", on_answer, &stopped), 0);
    assert_true(hp_test_poll_until(answered_once, &stopped, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp__supervisor_state(s), HP__PROCESS_STOPPED);
    assert_non_null(strstr(events, "process.exited "));
    assert_null(hp__pool_supervisor(pool, "nothing"));
}

static bool pool_stopped_yet(void *data)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    return pool_done > 0;
}

static void a_shutdown_during_a_replace_waits_for_the_old_program(void **state)
{
    /* The first program ignores SIGTERM: replaced, it stops only at SIGKILL, stop_timeout on,
     * after the new one, which does not ignore it, has stopped with the pool. */
    char script[4400];
    snprintf(script, sizeof script,
             "trap '' TERM; %s respond --listen 127.0.0.1:{port} & while :; do sleep 0.05; done",
             hp_test_bin());
    const char *argv[] = {"/bin/sh", "-c", script};
    command = argv;
    command_count = 3;
    stop_timeout_ms = 300;
    answers a = {0};
    assert_int_equal(hp_pool_get_or_create(pool, "r", make_process, NULL, on_answer, &a), 0);
    assert_true(hp_test_poll_until(answered_once, &a, HP_TEST_DEADLINE_MS));
    hp__supervisor_info old;
    hp__supervisor_info_get(hp__pool_supervisor(pool, "r"), &old);
    char plain[4400];
    snprintf(plain, sizeof plain, "exec %s respond --listen 127.0.0.1:{port}", hp_test_bin());
    const char *new_argv[] = {"/bin/sh", "-c", plain};
    hp_process_config process = {.command = new_argv, .command_count = 3};
    hp_server_config c = {
        .name = "r", .listen = &listen_address, .listen_count = 1, .process = &process};
    hp_limits_init(&c.limits);
    assert_int_equal(hp_pool_replace(pool, &c, NULL, NULL, NULL, 0), 0);
    hp_pool_shutdown(pool, pool_stopped, NULL);
    assert_true(hp_test_poll_until(pool_stopped_yet, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(kill(old.pid, 0), -1); /* gone before the pool said it stopped */
    assert_int_equal(errno, ESRCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            get_or_create_answers_a_process_server_once_its_program_is_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_program_the_policy_gives_up_on_fails_its_server_and_its_waiting_callers, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_stop_ends_once_the_program_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_shutdown_during_a_replace_waits_for_the_old_program,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
