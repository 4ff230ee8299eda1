/* Servers of a pool sharing one listen address, chosen by Host, over real sockets: routing,
 * clashes, and how stopping or replacing one of them leaves the others and their connections
 * alone. The pool runs in-process; its control loop is this test's loop, run until a callback
 * says an asynchronous step finished (with a deadline); worker threads serve meanwhile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "hostpool/pool.h"
#include "hp_test.h"

#include <stdio.h>
#include <string.h>

#define PORT_MIN 23500
#define PORT_MAX 23599

static uv_loop_t loop;
static hp_pool *pool;
static int callbacks;
static int pool_done;
static char address[64]; /* the shared address: "127.0.0.1:PORT" */
static int port;

static void count_callback(hp_pool *p, const char *name, int status, void *data)
{
    callbacks++;
    *(int *)data = status;
}

static void run_until(int *counter, int target)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (*counter < target && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    assert_true(*counter >= target);
}

static void pool_stopped(hp_pool *p, void *data)
{
    pool_done++;
}

/* Adds a server answering `body` for `hosts` (NULL-ended; NULL: the default) on `listen`. */
static int add_server(const char *name, const char *listen, const char *const *hosts,
                      const char *body, char *err, size_t errlen)
{
    size_t n = 0;
    while (hosts && hosts[n]) n++;
    hp_route_config route = {.handler =
                                 hp_respond_handler_create(200, body, strlen(body), NULL, 0)};
    hp_server_config c = {.name = name,
                          .listen = &listen,
                          .listen_count = 1,
                          .hosts = hosts,
                          .host_count = n,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    int rc = hp_pool_add(pool, &c, err, errlen);
    if (rc != 0) hp_handler_destroy(route.handler);
    return rc;
}

static const char *const blue_hosts[] = {"blue.localhost", NULL};
static const char *const green_hosts[] = {"*.green.localhost", NULL};

/* blue, green and (when `with_default`) a default server on one address. The address is the
 * automatic port the first of them got, so no other program can hold it. */
static int setup_pool(bool with_default)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 2, .port_min = PORT_MIN, .port_max = PORT_MAX};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    callbacks = pool_done = 0;
    char err[256];
    if (add_server("blue", "127.0.0.1:auto", blue_hosts, "blue", err, sizeof err) != 0) return -1;
    if (hp_pool_start(pool, "blue", err, sizeof err) != 0) return -1;
    hp_server_info info;
    hp_pool_info(pool, "blue", &info);
    port = hp_pool_bound_port(pool, info.server, 0);
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    if (add_server("green", address, green_hosts, "green", err, sizeof err) != 0) return -1;
    if (with_default && add_server("default", address, NULL, "default", err, sizeof err) != 0)
        return -1;
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    int failed = (int)r.failed;
    hp_pool_result_free(&r);
    return failed == 0 ? 0 : -1;
}

static int setup_with_default(void **state)
{
    return setup_pool(true);
}

static int setup_without_default(void **state)
{
    return setup_pool(false);
}

static int teardown(void **state)
{
    if (!pool_done) {
        hp_pool_shutdown(pool, pool_stopped, NULL);
        run_until(&pool_done, 1);
    }
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

/* A request for `host` on `conn` (keep-alive); returns the response (free it). */
static hp_test_response ask(hp_test_conn *conn, const char *host)
{
    char request[256];
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
    assert_int_equal(hp_test_send_str(conn, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(conn, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    return r;
}

static void expect_body(hp_test_conn *conn, const char *host, const char *body)
{
    hp_test_response r = ask(conn, host);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, body);
    hp_test_response_free(&r);
}

static void servers_sharing_an_address_are_chosen_by_host(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&conn, "blue.localhost", "blue");
    expect_body(&conn, "a.green.localhost", "green");
    expect_body(&conn, "BLUE.localhost:80", "blue");
    expect_body(&conn, "red.localhost", "default");
    expect_body(&conn, "green.localhost", "default"); /* a wildcard never matches its suffix */
    hp_test_close(&conn);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "default", &info), 0);
    assert_int_equal(hp_pool_bound_port(pool, info.server, 0), port);
    assert_string_equal(hp_pool_find_by_bind(pool, address), "blue");
}

static void a_host_no_server_claims_gets_421_without_a_default(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r = ask(&conn, "red.localhost");
    assert_int_equal(r.status, 421);
    hp_test_response_free(&r);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

static void a_second_default_or_a_host_claimed_twice_fails_alone(void **state)
{
    char err[256];
    assert_int_equal(add_server("copy", address, blue_hosts, "copy", err, sizeof err), 0);
    assert_int_equal(add_server("default2", address, NULL, "d2", err, sizeof err), 0);
    err[0] = '\0';
    assert_int_equal(hp_pool_start(pool, "copy", err, sizeof err), UV_EADDRINUSE);
    assert_non_null(strstr(err, "blue.localhost"));
    assert_non_null(strstr(err, "server blue"));
    assert_int_equal(hp_pool_start(pool, "default2", err, sizeof err), UV_EADDRINUSE);
    assert_non_null(strstr(err, "server default"));
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "copy", &info), 0);
    assert_int_equal(info.state, HP_SERVER_FAILED);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&conn, "blue.localhost", "blue");
    expect_body(&conn, "x.localhost", "default");
    hp_test_close(&conn);
}

/* The request for blue is in flight (its body half sent) when blue stops: the stop waits for
 * it, it completes on blue, and the connection goes on to serve the servers that stay. */
static void a_stopping_server_finishes_its_request_and_the_connection_serves_on(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_send_str(&conn,
                                      "POST / HTTP/1.1\r\nHost: blue.localhost\r\n"
                                      "Content-Length: 10\r\n\r\n01234",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(&conn, HP_TEST_DEADLINE_MS));
    int status = -1;
    assert_int_equal(hp_pool_stop(pool, "blue", count_callback, &status), 0);
    for (int i = 0; i < 50; i++) uv_run(&loop, UV_RUN_NOWAIT); /* replies would come now */
    assert_int_equal(callbacks, 0);
    hp_server_info info;
    hp_pool_info(pool, "blue", &info);
    assert_int_equal(info.state, HP_SERVER_DRAINING);
    assert_int_equal(hp_test_send_str(&conn, "56789", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&conn, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, "blue");
    assert_false(hp_test_response_header_has(&r, "Connection", "close"));
    hp_test_response_free(&r);
    run_until(&callbacks, 1);
    assert_int_equal(status, 0);
    expect_body(&conn, "blue.localhost", "default"); /* blue is gone from the address */
    expect_body(&conn, "a.green.localhost", "green");
    hp_test_close(&conn);
}

static void stopping_every_server_of_an_address_closes_it(void **state)
{
    int status = -1;
    const char *names[] = {"blue", "green", "default"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hp_pool_stop(pool, names[i], count_callback, &status), 0);
        run_until(&callbacks, i + 1);
        hp_test_conn conn;
        int rc = hp_test_connect(&conn, port, 500);
        if (i < 2) {
            assert_int_equal(rc, HP_TEST_OK); /* the others still hold it */
            hp_test_close(&conn);
        } else {
            assert_int_not_equal(rc, HP_TEST_OK);
        }
    }
}

static void replacing_a_server_on_a_shared_address_keeps_its_connections(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&conn, "blue.localhost", "blue");
    hp_route_config route = {.handler = hp_respond_handler_create(200, "blue2", 5, NULL, 0)};
    const char *listen = address;
    hp_server_config c = {.name = "blue",
                          .listen = &listen,
                          .listen_count = 1,
                          .hosts = blue_hosts,
                          .host_count = 1,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    int status = -1;
    char err[256];
    assert_int_equal(hp_pool_replace(pool, &c, count_callback, &status, err, sizeof err), 0);
    run_until(&callbacks, 1);
    expect_body(&conn, "blue.localhost", "blue2");
    expect_body(&conn, "a.green.localhost", "green");
    hp_test_close(&conn);
}

static void replacing_a_server_with_a_clashing_host_changes_nothing(void **state)
{
    static const char *const clash[] = {"x.green.localhost", "*.green.localhost", NULL};
    hp_route_config route = {.handler = hp_respond_handler_create(200, "b", 1, NULL, 0)};
    const char *listen = address;
    hp_server_config c = {.name = "blue",
                          .listen = &listen,
                          .listen_count = 1,
                          .hosts = clash,
                          .host_count = 2,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256] = "";
    assert_int_equal(hp_pool_replace(pool, &c, NULL, NULL, err, sizeof err), UV_EADDRINUSE);
    assert_non_null(strstr(err, "*.green.localhost"));
    hp_handler_destroy(route.handler); /* still ours after a failed replace */
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_body(&conn, "blue.localhost", "blue");
    hp_test_close(&conn);
}

static void find_by_host_prefers_an_exact_name_then_the_longest_wildcard(void **state)
{
    static const char *const deep_hosts[] = {"*.deep.green.localhost", NULL};
    static const char *const exact_hosts[] = {"x.deep.green.localhost", NULL};
    char err[256];
    assert_int_equal(add_server("deep", "127.0.0.1:auto", deep_hosts, "deep", err, sizeof err), 0);
    assert_string_equal(hp_pool_find_by_host(pool, "y.deep.green.localhost"), "deep");
    assert_string_equal(hp_pool_find_by_host(pool, "x.deep.green.localhost"), "deep");
    assert_int_equal(add_server("exact", "127.0.0.1:auto", exact_hosts, "x", err, sizeof err), 0);
    assert_string_equal(hp_pool_find_by_host(pool, "x.deep.green.localhost"), "exact");
    assert_string_equal(hp_pool_find_by_host(pool, "a.green.localhost"), "green");
    assert_string_equal(hp_pool_find_by_host(pool, "blue.localhost"), "blue");
    assert_string_equal(hp_pool_find_by_host(pool, "BLUE.LocalHost:8080"), "blue");
    assert_string_equal(hp_pool_find_by_host(pool, "blue.localhost."), "blue");
    /* A wildcard never matches its bare suffix, and a default server claims no name. */
    assert_null(hp_pool_find_by_host(pool, "green.localhost"));
    assert_null(hp_pool_find_by_host(pool, "unknown.test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(servers_sharing_an_address_are_chosen_by_host,
                                        setup_with_default, teardown),
        cmocka_unit_test_setup_teardown(a_host_no_server_claims_gets_421_without_a_default,
                                        setup_without_default, teardown),
        cmocka_unit_test_setup_teardown(a_second_default_or_a_host_claimed_twice_fails_alone,
                                        setup_with_default, teardown),
        cmocka_unit_test_setup_teardown(
            a_stopping_server_finishes_its_request_and_the_connection_serves_on, setup_with_default,
            teardown),
        cmocka_unit_test_setup_teardown(stopping_every_server_of_an_address_closes_it,
                                        setup_with_default, teardown),
        cmocka_unit_test_setup_teardown(
            replacing_a_server_on_a_shared_address_keeps_its_connections, setup_with_default,
            teardown),
        cmocka_unit_test_setup_teardown(replacing_a_server_with_a_clashing_host_changes_nothing,
                                        setup_with_default, teardown),
        cmocka_unit_test_setup_teardown(
            find_by_host_prefers_an_exact_name_then_the_longest_wildcard, setup_with_default,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
