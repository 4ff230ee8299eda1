/* Pipelining: requests sent before the previous answers arrive are answered in order.
 * Each request carries its own X-Request-Id, which the server echoes, so the order of the
 * answers can be checked even though respond answers every request with the same body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

static void start(void)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
}

/* Appends a GET carrying X-Request-Id: pipe-<n> to `out`. */
static size_t append_get(char *out, size_t at, int n)
{
    return at + (size_t)sprintf(out + at,
                                "GET /%d HTTP/1.1\r\nHost: hostpool.test\r\n"
                                "X-Request-Id: pipe-%d\r\n\r\n",
                                n, n);
}

/* Reads `count` answers and asserts they carry pipe-<first>...pipe-<first+count-1>. */
static void expect_answers_in_order(hp_test_conn *conn, int first, int count)
{
    for (int i = first; i < first + count; i++) {
        hp_test_response resp;
        char id[32];
        snprintf(id, sizeof id, "pipe-%d", i);
        assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, HP_TEST_BODY);
        assert_non_null(hp_test_response_header(&resp, "X-Request-Id"));
        assert_string_equal(hp_test_response_header(&resp, "X-Request-Id"), id);
        hp_test_response_free(&resp);
    }
}

static void three_pipelined_requests_are_answered_in_order(void **state)
{
    start();
    char buf[1024];
    size_t len = 0;
    for (int i = 1; i <= 3; i++) len = append_get(buf, len, i);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send(&conn, buf, len, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_answers_in_order(&conn, 1, 3);
    hp_test_close(&conn);
}

static void pipelined_requests_split_at_every_byte_are_answered_in_order(void **state)
{
    start();
    char buf[1024];
    size_t len = 0;
    for (int i = 1; i <= 3; i++) len = append_get(buf, len, i);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    for (size_t i = 0; i < len; i++) /* one byte per send (TCP_NODELAY) */
        assert_int_equal(hp_test_send(&conn, buf + i, 1, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_answers_in_order(&conn, 1, 3);
    hp_test_close(&conn);
}

static void two_thousand_requests_sent_before_reading_any_answer_are_all_answered(void **state)
{
    /* The answers (about 300 KB) outgrow the socket buffers while the client is still
     * writing and not reading: the server must hold back, not drop or reorder. */
    start();
    enum { COUNT = 2000 };
    char *buf = malloc(COUNT * 80);
    size_t len = 0;
    for (int i = 1; i <= COUNT; i++) len = append_get(buf, len, i);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send(&conn, buf, len, 10000), HP_TEST_OK);
    free(buf);
    expect_answers_in_order(&conn, 1, COUNT);
    hp_test_close(&conn);
}

static void pipelined_bodies_do_not_leak_into_the_next_request(void **state)
{
    /* A body that looks like a request must be read as a body, for each framing. */
    start();
    static const char requests[] = "POST /1 HTTP/1.1\r\nHost: h\r\nX-Request-Id: pipe-1\r\n"
                                   "Content-Length: 33\r\n\r\n"
                                   "GET /evil HTTP/1.1\r\nHost: h\r\n\r\n\r\n"
                                   "POST /2 HTTP/1.1\r\nHost: h\r\nX-Request-Id: pipe-2\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "1f\r\nGET /evil HTTP/1.1\r\nHost: h\r\n\r\n\r\n0\r\n\r\n"
                                   "GET /3 HTTP/1.1\r\nHost: h\r\nX-Request-Id: pipe-3\r\n\r\n";
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn, requests, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_answers_in_order(&conn, 1, 3);
    /* Nothing more: the "GET /evil" inside the bodies were not answered. */
    assert_int_equal(hp_test_read_some(&conn, 200), 0);
    hp_test_close(&conn);
}

static void pipelined_request_after_a_malformed_one_is_not_answered(void **state)
{
    start();
    static const char requests[] = "GET /1 HTTP/1.1\r\nHost: h\r\nX-Request-Id: pipe-1\r\n\r\n"
                                   "GET /2 HTTP/1.1\r\nHost: h\r\nHost: h2\r\n\r\n"
                                   "GET /3 HTTP/1.1\r\nHost: h\r\nX-Request-Id: pipe-3\r\n\r\n";
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn, requests, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    expect_answers_in_order(&conn, 1, 1);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 400);
    assert_true(hp_test_response_header_has(&resp, "Connection", "close"));
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(three_pipelined_requests_are_answered_in_order, kill_server),
        cmocka_unit_test_teardown(pipelined_requests_split_at_every_byte_are_answered_in_order,
                                  kill_server),
        cmocka_unit_test_teardown(
            two_thousand_requests_sent_before_reading_any_answer_are_all_answered, kill_server),
        cmocka_unit_test_teardown(pipelined_bodies_do_not_leak_into_the_next_request, kill_server),
        cmocka_unit_test_teardown(pipelined_request_after_a_malformed_one_is_not_answered,
                                  kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
