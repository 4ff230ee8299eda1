/* Drain in the pool daemon: when one server is removed or stopped through the admin API, when
 * it is replaced, and when the daemon gets SIGTERM, requests in flight finish, idle
 * keep-alive connections close at once, and what is still busy at the drain deadline is
 * closed then. The other servers are not touched by a drain of one.
 *
 * "In flight" is made certain as in test_shutdown.c: one request completes on the connection,
 * then half of a request body is sent and the server is seen to have read it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 23800
#define PORT_MAX 23899

static hp_test_server srv;
static hp_test_admin admin;
static int port_a, port_b;

/* `a_limits`: server a's own limits line, or "". */
static void start_pool_with(const char *drain_timeout, const char *a_limits)
{
    port_a = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    port_b = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "limits: { drain_timeout: %s }\n"
             "servers:\n"
             "  - name: a\n"
             "    listen: 127.0.0.1:%d\n"
             "%s"
             "    routes: [ { respond: { body: a } } ]\n"
             "  - name: b\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: b } } ]\n",
             drain_timeout, port_a, a_limits, port_b);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
}

static void start_pool(const char *drain_timeout)
{
    start_pool_with(drain_timeout, "");
}

static int kill_pool(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static void get_ok(hp_test_conn *conn, const char *body)
{
    hp_test_response resp;
    assert_int_equal(hp_test_send_str(conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, body);
    hp_test_response_free(&resp);
}

static void open_idle(hp_test_conn *conn, int port, const char *body)
{
    assert_int_equal(hp_test_connect(conn, port, HP_TEST_DEADLINE_MS), 0);
    get_ok(conn, body);
}

/* A connection to `port` whose second request is half sent, and read by the server. */
static void open_request_in_flight(hp_test_conn *conn, int port, const char *body)
{
    open_idle(conn, port, body);
    assert_int_equal(hp_test_send_str(conn,
                                      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
                                      "hello",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(conn, HP_TEST_DEADLINE_MS));
}

/* Sends the rest of the body; the answer must come, from the version that took the request. */
static void finish_request(hp_test_conn *conn, const char *body)
{
    assert_int_equal(hp_test_send_str(conn, "world", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, body);
    hp_test_response_free(&resp);
}

static bool refuses(void *data)
{
    hp_test_conn probe;
    int rc = hp_test_connect(&probe, *(int *)data, 1000);
    if (rc == 0) hp_test_close(&probe);
    return rc == -ECONNREFUSED;
}

/* An admin call sent now and answered later (a remove answers when the drain is over). */
static void send_admin(hp_test_conn *conn, const char *method, const char *path)
{
    char req[256];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n", method,
             path);
    assert_int_equal(hp_test_connect_unix(conn, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(conn, req, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void read_admin_answer(hp_test_conn *conn, int status, int timeout_ms)
{
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(conn, &resp, false, timeout_ms), HP_TEST_OK);
    assert_int_equal(resp.status, status);
    hp_test_response_free(&resp);
    hp_test_close(conn);
}

/* One server drained through the API (`method` `path`): its request in flight finishes, its
 * idle connection closes at once, the other server keeps its connection. */
static void drain_through_the_api(const char *method, const char *path)
{
    start_pool("10s");
    hp_test_conn busy, idle, other, call;
    open_request_in_flight(&busy, port_a, "a");
    open_idle(&idle, port_a, "a");
    open_idle(&other, port_b, "b");
    send_admin(&call, method, path);
    assert_true(hp_test_poll_until(refuses, &port_a, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_wait_closed(&idle, 2000), HP_TEST_CLOSED); /* not after 10 s */
    finish_request(&busy, "a");
    read_admin_answer(&call, 200, HP_TEST_DEADLINE_MS);
    get_ok(&other, "b");
    hp_test_close(&busy);
    hp_test_close(&idle);
    hp_test_close(&other);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void remove_lets_a_request_in_flight_finish_and_closes_idle_connections_at_once(void **state)
{
    drain_through_the_api("DELETE", "/servers/a");
}

static void stop_lets_a_request_in_flight_finish_and_closes_idle_connections_at_once(void **state)
{
    drain_through_the_api("POST", "/servers/a/stop");
}

static void replace_finishes_a_request_in_flight_on_the_old_version(void **state)
{
    start_pool("10s");
    hp_test_conn busy;
    open_request_in_flight(&busy, port_a, "a");
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"name\":\"a\",\"listen\":\"127.0.0.1:%d\",\"routes\":[{\"respond\":{\"body\":\"a2\"}}]}",
        port_a);
    hp_test_answer answer = hp_test_admin_call(&admin, "PUT", "/servers/a", NULL, body);
    assert_int_equal(answer.status, 200);
    hp_test_answer_free(&answer);
    hp_test_conn fresh;
    open_idle(&fresh, port_a, "a2"); /* new requests go to the new version at once */
    finish_request(&busy, "a");
    get_ok(&busy, "a2"); /* the next request on that connection is the new version's */
    hp_test_close(&fresh);
    hp_test_close(&busy);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* A busy connection is closed at the deadline of the server that drains: the top level's
 * (`top`), or the server's own limits when it overrides it (`a_limits`; it was ignored). */
static void remove_closes_a_busy_connection_at(const char *top, const char *a_limits)
{
    start_pool_with(top, a_limits);
    hp_test_conn busy, call;
    open_request_in_flight(&busy, port_a, "a"); /* and never finished */
    int64_t start = hp_test_now_ms();
    send_admin(&call, "DELETE", "/servers/a");
    read_admin_answer(&call, 200, HP_TEST_DEADLINE_MS);
    int64_t elapsed = hp_test_now_ms() - start;
    print_message("removed %lld ms after the call\n", (long long)elapsed);
    assert_true(elapsed >= 400); /* it waited for the deadline */
    hp_test_read_some(&busy, 2000);
    assert_true(busy.eof);
    hp_test_close(&busy);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void a_busy_connection_is_closed_at_the_drain_deadline(void **state)
{
    remove_closes_a_busy_connection_at("500ms", "");
}

static void a_servers_own_drain_timeout_overrides_the_top_level_one(void **state)
{
    remove_closes_a_busy_connection_at("1h", "    limits: { drain_timeout: 500ms }\n");
}

static bool says_already_draining(void *data)
{
    char *err = hp_test_server_stderr(&srv);
    bool said = strstr(err, "already draining") != NULL;
    free(err);
    return said;
}

static void sigterm_finishes_requests_in_flight_closes_idle_ones_and_exits_0(void **state)
{
    start_pool("10s");
    hp_test_conn busy, idle;
    open_request_in_flight(&busy, port_a, "a");
    open_idle(&idle, port_b, "b");
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_true(hp_test_poll_until(refuses, &port_b, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_wait_closed(&idle, 2000), HP_TEST_CLOSED);
    assert_true(hp_test_server_running(&srv));                 /* still draining a */
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0); /* a second one changes nothing */
    assert_true(hp_test_poll_until(says_already_draining, NULL, HP_TEST_DEADLINE_MS));
    assert_true(hp_test_server_running(&srv));
    finish_request(&busy, "a");
    assert_int_equal(hp_test_server_wait(&srv, HP_TEST_DEADLINE_MS), 0);
    hp_test_close(&busy);
    hp_test_close(&idle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            remove_lets_a_request_in_flight_finish_and_closes_idle_connections_at_once, kill_pool),
        cmocka_unit_test_teardown(
            stop_lets_a_request_in_flight_finish_and_closes_idle_connections_at_once, kill_pool),
        cmocka_unit_test_teardown(replace_finishes_a_request_in_flight_on_the_old_version,
                                  kill_pool),
        cmocka_unit_test_teardown(a_busy_connection_is_closed_at_the_drain_deadline, kill_pool),
        cmocka_unit_test_teardown(a_servers_own_drain_timeout_overrides_the_top_level_one,
                                  kill_pool),
        cmocka_unit_test_teardown(sigterm_finishes_requests_in_flight_closes_idle_ones_and_exits_0,
                                  kill_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
