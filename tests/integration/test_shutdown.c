/* Graceful shutdown on SIGTERM and SIGINT: stop accepting, let requests in flight finish,
 * close idle keep-alive connections at once, force-close busy ones at the drain deadline,
 * exit 0.
 *
 * "In flight" must be certain before the signal is sent, or the test would race the server:
 * the client first completes one request (so the connection has been accepted), then sends
 * part of the next one and waits until the server process has read those bytes from its
 * socket (hp_test_wait_server_read_all, from /proc/net/tcp). That the signal has been acted
 * on is observed the same way a client would: new connections are refused. */
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

#include "hp_test.h"

static hp_test_server srv;

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

/* Waits for the exit and asserts status 0 (hp_test_server_wait shows the server's stderr
 * when it is not). */
static void assert_exits_0(int timeout_ms)
{
    int status = hp_test_server_wait(&srv, timeout_ms);
    if (status != 0)
        fail_msg("exit status %d (%s)", status,
                 status == HP_TEST_TIMEOUT ? "still running at the deadline" : "exited");
}

static void get_ok(hp_test_conn *conn)
{
    hp_test_response resp;
    assert_int_equal(hp_test_send_str(conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    hp_test_response_free(&resp);
}

/* A connection that was accepted and has sent the headers and half of a 10-byte body, all of
 * which the server has read. */
static void open_request_in_flight(hp_test_conn *conn)
{
    assert_int_equal(hp_test_connect(conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    get_ok(conn);
    assert_int_equal(hp_test_send_str(conn,
                                      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
                                      "hello",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(conn, HP_TEST_DEADLINE_MS));
}

static bool new_connection_refused(void *data)
{
    hp_test_conn probe;
    int rc = hp_test_connect(&probe, *(int *)data, 1000);
    if (rc == 0) hp_test_close(&probe);
    return rc == -ECONNREFUSED;
}

static void sigterm_lets_a_request_in_flight_finish_then_exits_0(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--drain-timeout", "10s", NULL), 0);
    hp_test_conn conn;
    open_request_in_flight(&conn);
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    /* The server is draining once it refuses new connections; only then the rest is sent. */
    assert_true(hp_test_poll_until(new_connection_refused, &srv.port, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_send_str(&conn, "world", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, HP_TEST_BODY);
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    assert_exits_0(HP_TEST_DEADLINE_MS);
    hp_test_close(&conn);
}

static void new_connections_are_refused_after_sigterm(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--drain-timeout", "10s", NULL), 0);
    hp_test_conn conn;
    open_request_in_flight(&conn); /* keeps the process draining, not exited */
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_true(hp_test_poll_until(new_connection_refused, &srv.port, 2000));
    assert_true(hp_test_server_running(&srv));
    assert_int_equal(hp_test_send_str(&conn, "world", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_exits_0(HP_TEST_DEADLINE_MS);
    hp_test_close(&conn);
}

static void sigterm_closes_an_idle_keep_alive_connection_at_once(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--drain-timeout", "10s", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    get_ok(&conn);
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_int_equal(hp_test_wait_closed(&conn, 2000), HP_TEST_CLOSED); /* not after 10 s */
    assert_exits_0(2000);
    print_message("closed and exited %lld ms after SIGTERM\n",
                  (long long)(hp_test_now_ms() - start));
    hp_test_close(&conn);
}

static void sigint_drains_like_sigterm(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--drain-timeout", "10s", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    get_ok(&conn);
    assert_int_equal(hp_test_server_signal(&srv, SIGINT), 0);
    assert_int_equal(hp_test_wait_closed(&conn, 2000), HP_TEST_CLOSED);
    assert_exits_0(2000);
    hp_test_close(&conn);
}

static void busy_connection_is_force_closed_at_the_drain_deadline(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--drain-timeout", "500ms", NULL), 0);
    hp_test_conn conn;
    open_request_in_flight(&conn); /* and never finished */
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_exits_0(HP_TEST_DEADLINE_MS);
    int64_t elapsed = hp_test_now_ms() - start;
    print_message("exited %lld ms after SIGTERM\n", (long long)elapsed);
    assert_true(elapsed >= 400); /* it waited for the deadline */
    hp_test_read_some(&conn, 2000);
    assert_true(conn.eof); /* the connection is closed, whatever was sent before */
    hp_test_close(&conn);
}

static void idle_server_exits_0_promptly_on_sigterm(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_exits_0(2000);
    print_message("exited %lld ms after SIGTERM\n", (long long)(hp_test_now_ms() - start));
}

static void sigterm_right_after_the_ready_line_exits_0(void **state)
{
    /* Ready means ready for signals too: SIGTERM at once after the ready line must drain
     * and exit 0, not kill the process with the default action. Twenty tries make a race
     * between the ready line and the signal handler show up. */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
        assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
        int status = hp_test_server_wait(&srv, 2000);
        if (status != 0)
            fail_msg("try %d: exit status %d (143 = killed by SIGTERM)", i + 1, status);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sigterm_lets_a_request_in_flight_finish_then_exits_0,
                                  kill_server),
        cmocka_unit_test_teardown(new_connections_are_refused_after_sigterm, kill_server),
        cmocka_unit_test_teardown(sigterm_closes_an_idle_keep_alive_connection_at_once,
                                  kill_server),
        cmocka_unit_test_teardown(sigint_drains_like_sigterm, kill_server),
        cmocka_unit_test_teardown(busy_connection_is_force_closed_at_the_drain_deadline,
                                  kill_server),
        cmocka_unit_test_teardown(idle_server_exits_0_promptly_on_sigterm, kill_server),
        cmocka_unit_test_teardown(sigterm_right_after_the_ready_line_exits_0, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
