/* Keep-alive: which connections the server keeps open after an answer, and for how long. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hp_test.h"

static hp_test_server srv;

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

/* Sends `request` on `conn` and asserts a 200 with the respond body; returns whether the
 * answer said Connection: close. */
static bool request_ok(hp_test_conn *conn, const char *request)
{
    hp_test_response resp;
    assert_int_equal(hp_test_send_str(conn, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, HP_TEST_BODY);
    bool close = hp_test_response_header_has(&resp, "Connection", "close");
    hp_test_response_free(&resp);
    return close;
}

static void keep_alive_connection_serves_100_requests(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    for (int i = 0; i < 100; i++) assert_false(request_ok(&conn, HP_TEST_GET));
    hp_test_close(&conn);
}

static void http10_request_without_keep_alive_is_closed_after_its_answer(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_true(request_ok(&conn, "GET / HTTP/1.0\r\n\r\n"));
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

static void http10_keep_alive_request_is_answered_keep_alive_and_stays_open(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    const char *request = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        hp_test_response resp;
        assert_int_equal(hp_test_send_str(&conn, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
        assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        assert_true(hp_test_response_header_has(&resp, "Connection", "keep-alive"));
        assert_non_null(hp_test_response_header(&resp, "Content-Length"));
        hp_test_response_free(&resp);
    }
    hp_test_close(&conn);
}

static void connection_close_request_is_answered_then_closed(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_false(request_ok(&conn, HP_TEST_GET));
    assert_true(request_ok(&conn, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

static void idle_keep_alive_connection_is_closed_after_idle_timeout(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--idle-timeout", "300ms", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_false(request_ok(&conn, HP_TEST_GET));
    int64_t idle_since = hp_test_now_ms();
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    int64_t idle_for = hp_test_now_ms() - idle_since;
    print_message("closed after %lld ms idle\n", (long long)idle_for);
    assert_true(idle_for >= 250);  /* not before the timeout */
    assert_true(idle_for <= 2000); /* and soon after it */
    hp_test_close(&conn);
}

static void active_connection_outlives_idle_timeout(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--idle-timeout", "400ms", NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    /* Requests every 100 ms for 1.2 s: three idle timeouts long, never idle for one. */
    for (int i = 0; i < 12; i++) {
        assert_false(request_ok(&conn, HP_TEST_GET));
        hp_test_pause_ms(100); /* pacing: the client's think time */
    }
    hp_test_close(&conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(keep_alive_connection_serves_100_requests, kill_server),
        cmocka_unit_test_teardown(http10_request_without_keep_alive_is_closed_after_its_answer,
                                  kill_server),
        cmocka_unit_test_teardown(http10_keep_alive_request_is_answered_keep_alive_and_stays_open,
                                  kill_server),
        cmocka_unit_test_teardown(connection_close_request_is_answered_then_closed, kill_server),
        cmocka_unit_test_teardown(idle_keep_alive_connection_is_closed_after_idle_timeout,
                                  kill_server),
        cmocka_unit_test_teardown(active_connection_outlives_idle_timeout, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
