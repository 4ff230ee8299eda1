/* Several servers on one engine, run in-process: stopping one closes its sockets and drains
 * its connections while the others keep serving, a request in flight on the stopped server
 * finishes, and a stopped server can be started again.
 *
 * The engine is driven from a control loop on its own thread; the test thread asks it to act
 * through an async handle (on_call) and waits with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/engine.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef enum { CALL_NONE, CALL_STOP_ALPHA, CALL_START_ALPHA, CALL_SHUTDOWN } call_kind;

static struct {
    uv_loop_t loop;
    uv_async_t call;
    hp_engine *engine;
    hp_server *alpha, *beta;
    pthread_t thread;
    atomic_int pending; /* call_kind asked of the loop */
    atomic_int done;    /* the last call's completion */
    atomic_int stopped; /* alpha's stop callback ran */
    int start_result;
} env;

static void on_alpha_stopped(hp_engine *e, hp_server *server, void *data)
{
    atomic_store(&env.stopped, 1);
}

static void on_engine_stopped(hp_engine *engine, void *data)
{
    uv_close((uv_handle_t *)&env.call, NULL);
}

static void on_call(uv_async_t *a)
{
    char err[256];
    switch (atomic_exchange(&env.pending, CALL_NONE)) {
    case CALL_STOP_ALPHA:
        atomic_store(&env.stopped, 0);
        hp_engine_stop_server(env.engine, env.alpha, 5000, on_alpha_stopped, NULL);
        break;
    case CALL_START_ALPHA:
        env.start_result = hp_engine_start_server(env.engine, env.alpha, err, sizeof err);
        break;
    case CALL_SHUTDOWN:
        hp_engine_shutdown(env.engine, 0, on_engine_stopped, NULL);
        break;
    default:
        break;
    }
    atomic_store(&env.done, 1);
}

static bool flag_set(void *flag)
{
    return atomic_load((atomic_int *)flag) != 0;
}

static void call(call_kind kind)
{
    atomic_store(&env.done, 0);
    atomic_store(&env.pending, kind);
    uv_async_send(&env.call);
    assert_true(hp_test_poll_until(flag_set, &env.done, HP_TEST_DEADLINE_MS));
}

static hp_server *make_server(const char *name, const char *body)
{
    hp_route_config route = {.handler =
                                 hp_respond_handler_create(200, body, strlen(body), NULL, 0)};
    const char *listen = HP_TEST_LISTEN;
    hp_server_config config = {
        .name = name, .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&config.limits);
    hp_server *s = NULL;
    assert_int_equal(hp_server_create(&config, &s, NULL, 0), 0);
    return s;
}

static void *run_control_loop(void *arg)
{
    uv_run(&env.loop, UV_RUN_DEFAULT);
    return NULL;
}

static int start_engine(void **state)
{
    env.alpha = make_server("alpha", "alpha");
    env.beta = make_server("beta", "beta");
    uv_loop_init(&env.loop);
    uv_async_init(&env.loop, &env.call, on_call);
    hp_engine_options options = {.workers = 2};
    char err[256];
    if (hp_engine_create(&env.loop, &options, &env.engine) != 0 ||
        hp_engine_start_server(env.engine, env.alpha, err, sizeof err) != 0 ||
        hp_engine_start_server(env.engine, env.beta, err, sizeof err) != 0)
        return -1;
    return pthread_create(&env.thread, NULL, run_control_loop, NULL);
}

static int stop_engine(void **state)
{
    call(CALL_SHUTDOWN);
    pthread_join(env.thread, NULL);
    hp_engine_destroy(env.engine);
    hp_server_destroy(env.alpha);
    hp_server_destroy(env.beta);
    uv_loop_close(&env.loop);
    return 0;
}

static void expect_body(hp_test_conn *c, const char *body)
{
    hp_test_response r;
    assert_int_equal(hp_test_send_str(c, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(c, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, body);
    hp_test_response_free(&r);
}

static void stopping_one_server_leaves_the_other_serving(void **state)
{
    int alpha_port = hp_engine_bound_port(env.engine, env.alpha, 0);
    int beta_port = hp_engine_bound_port(env.engine, env.beta, 0);
    hp_test_conn to_beta, probe;
    assert_int_equal(hp_test_connect(&to_beta, beta_port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&to_beta, "beta");

    call(CALL_STOP_ALPHA);
    assert_true(hp_test_poll_until(flag_set, &env.stopped, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_engine_bound_port(env.engine, env.alpha, 0), 0);
    assert_int_not_equal(hp_test_connect(&probe, alpha_port, 1000), HP_TEST_OK);

    expect_body(&to_beta, "beta"); /* the same keep-alive connection, untouched */
    hp_test_close(&to_beta);
    assert_int_equal(hp_test_connect(&probe, beta_port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&probe, "beta");
    hp_test_close(&probe);
}

static void stopped_server_starts_again(void **state)
{
    call(CALL_START_ALPHA);
    assert_int_equal(env.start_result, 0);
    hp_test_conn c;
    assert_int_equal(
        hp_test_connect(&c, hp_engine_bound_port(env.engine, env.alpha, 0), HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    expect_body(&c, "alpha");
    hp_test_close(&c);
}

static void request_in_flight_on_a_stopping_server_finishes(void **state)
{
    hp_test_conn c;
    assert_int_equal(
        hp_test_connect(&c, hp_engine_bound_port(env.engine, env.alpha, 0), HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    const char *head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab";
    assert_int_equal(hp_test_send_str(&c, head, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(&c, HP_TEST_DEADLINE_MS));
    call(CALL_STOP_ALPHA);
    assert_false(atomic_load(&env.stopped)); /* it waits for the request in flight */
    assert_int_equal(hp_test_send_str(&c, "cde", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_true(hp_test_response_header_has(&r, "Connection", "close"));
    hp_test_response_free(&r);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&c);
    assert_true(hp_test_poll_until(flag_set, &env.stopped, HP_TEST_DEADLINE_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stopping_one_server_leaves_the_other_serving),
        cmocka_unit_test(stopped_server_starts_again),
        cmocka_unit_test(request_in_flight_on_a_stopping_server_finishes),
    };
    return cmocka_run_group_tests(tests, start_engine, stop_engine);
}
