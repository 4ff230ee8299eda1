/* Limits and the header timeout: each one answered with its status, then the connection
 * closed. Small limits (and a 300 ms header timeout) keep the suite fast; each limit is
 * checked on both sides, just over it (refused) and within it (served). */
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

/* Sends `len` bytes on a new connection and reads one answer. When `status_closes`, asserts
 * the answer says Connection: close and the server closes; else that it stays open. */
static void expect_status(const void *request, size_t len, int status, bool closes)
{
    hp_test_conn conn;
    hp_test_response resp;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    int sent = hp_test_send(&conn, request, len, HP_TEST_DEADLINE_MS);
    assert_true(sent == HP_TEST_OK || (closes && sent == HP_TEST_CLOSED));
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, status);
    assert_int_equal(hp_test_response_header_has(&resp, "Connection", "close"), closes);
    hp_test_response_free(&resp);
    if (closes) assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

/* A GET with `extra` header bytes made of `count` headers "X-N: vvv..." */
static char *request_with_headers(size_t count, size_t value_len, size_t *len)
{
    char *buf = malloc(64 + count * (value_len + 16));
    size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: hostpool.test\r\n");
    for (size_t i = 0; i < count; i++) {
        n += (size_t)sprintf(buf + n, "X-%zu: ", i);
        memset(buf + n, 'v', value_len);
        n += value_len;
        n += (size_t)sprintf(buf + n, "\r\n");
    }
    n += (size_t)sprintf(buf + n, "\r\n");
    *len = n;
    return buf;
}

static void header_section_over_max_header_bytes_answers_431(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-header-bytes", "2KiB", NULL),
        0);
    size_t len;
    char *small = request_with_headers(1, 1500, &len);
    expect_status(small, len, 200, false);
    free(small);
    char *big = request_with_headers(1, 2500, &len);
    expect_status(big, len, 431, true);
    free(big);
}

static void header_count_over_max_headers_answers_431(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-headers", "30", NULL), 0);
    size_t len;
    char *at_limit = request_with_headers(29, 4, &len); /* + Host = 30 */
    expect_status(at_limit, len, 200, false);
    free(at_limit);
    char *over = request_with_headers(30, 4, &len); /* + Host = 31 */
    expect_status(over, len, 431, true);
    free(over);
}

static void target_over_max_target_bytes_answers_414(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-target-bytes", "1024", NULL),
        0);
    char request[4096];
    int n = snprintf(request, sizeof request, "GET /%0900d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    expect_status(request, (size_t)n, 200, false);
    n = snprintf(request, sizeof request, "GET /%01100d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    expect_status(request, (size_t)n, 414, true);
}

static void declared_body_over_max_body_bytes_answers_413_before_the_body(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-body-bytes", "1KiB", NULL), 0);
    /* Only the headers are sent: the answer must not wait for the body. */
    static const char over[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n";
    expect_status(over, sizeof over - 1, 413, true);

    size_t len = 64 + 1024;
    char *at_limit = malloc(len);
    int n = sprintf(at_limit, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n");
    memset(at_limit + n, 'b', 1024);
    expect_status(at_limit, (size_t)n + 1024, 200, false);
    free(at_limit);
}

static void chunked_body_over_max_body_bytes_answers_413(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-body-bytes", "1KiB", NULL), 0);
    /* 100-byte chunks: 10 fit (1000 bytes), 11 do not (1100 bytes). */
    for (int chunks = 10; chunks <= 11; chunks++) {
        char *request = malloc(128 + (size_t)chunks * 110);
        size_t n = (size_t)sprintf(request, "POST / HTTP/1.1\r\nHost: h\r\n"
                                            "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < chunks; i++) {
            n += (size_t)sprintf(request + n, "64\r\n");
            memset(request + n, 'c', 100);
            n += 100;
            n += (size_t)sprintf(request + n, "\r\n");
        }
        n += (size_t)sprintf(request + n, "0\r\n\r\n");
        expect_status(request, n, chunks == 10 ? 200 : 413, chunks == 11);
        free(request);
    }
}

static void expect_100_continue_with_body_over_the_limit_answers_413_without_100(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--max-body-bytes", "1KiB", NULL), 0);
    static const char request[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n"
                                  "Expect: 100-continue\r\n\r\n";
    expect_status(request, sizeof request - 1, 413, true); /* the first answer is the 413 */
}

static void header_timeout_answers_408_and_closes(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--header-timeout", "300ms", NULL),
        0);
    hp_test_conn conn;
    hp_test_response resp;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_send_str(&conn, "GET / HTTP/1.1\r\nHost: h\r\n", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    int64_t elapsed = hp_test_now_ms() - start;
    print_message("408 after %lld ms\n", (long long)elapsed);
    assert_int_equal(resp.status, 408);
    assert_true(hp_test_response_header_has(&resp, "Connection", "close"));
    assert_true(elapsed >= 250 && elapsed <= 2000);
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

static void slowloris_trickling_header_bytes_gets_408(void **state)
{
    /* One byte every 50 ms: each byte comes well within the timeout, but the header section
     * as a whole would take 5 s. The server must answer 408 at the 300 ms deadline of the
     * section, not wait for the trickle to end. */
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--header-timeout", "300ms", NULL),
        0);
    size_t len;
    char *request = request_with_headers(4, 16, &len);
    assert_true(len >= 100);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    int64_t start = hp_test_now_ms();
    ssize_t sent = hp_test_send_trickle(&conn, request, 100, 1, 50);
    int64_t elapsed = hp_test_now_ms() - start;
    print_message("the server answered after %zd bytes, %lld ms\n", sent, (long long)elapsed);
    assert_true(sent >= 0 && sent < 100); /* stopped early: the server answered or closed */
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 408);
    assert_true(elapsed <= 2000);
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
    free(request);
}

static void header_timeout_applies_to_a_later_request_on_a_keep_alive_connection(void **state)
{
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--header-timeout", "300ms", NULL),
        0);
    hp_test_conn conn;
    hp_test_response resp;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_send_str(&conn, "GET /second HTTP/1.1\r\n", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 408);
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

static void complete_requests_slower_than_the_header_timeout_in_total_are_served(void **state)
{
    /* The header timeout is per request: five requests 100 ms apart on one connection
     * (500 ms in total, more than the 300 ms timeout) are all served. */
    assert_int_equal(
        hp_test_server_start_respond(&srv, "--no-access-log", "--header-timeout", "300ms", NULL),
        0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    for (int i = 0; i < 5; i++) {
        hp_test_response resp;
        assert_int_equal(hp_test_send_str(&conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
        assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        hp_test_response_free(&resp);
        hp_test_pause_ms(100); /* pacing: the client's think time */
    }
    hp_test_close(&conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(header_section_over_max_header_bytes_answers_431, kill_server),
        cmocka_unit_test_teardown(header_count_over_max_headers_answers_431, kill_server),
        cmocka_unit_test_teardown(target_over_max_target_bytes_answers_414, kill_server),
        cmocka_unit_test_teardown(declared_body_over_max_body_bytes_answers_413_before_the_body,
                                  kill_server),
        cmocka_unit_test_teardown(chunked_body_over_max_body_bytes_answers_413, kill_server),
        cmocka_unit_test_teardown(
            expect_100_continue_with_body_over_the_limit_answers_413_without_100, kill_server),
        cmocka_unit_test_teardown(header_timeout_answers_408_and_closes, kill_server),
        cmocka_unit_test_teardown(slowloris_trickling_header_bytes_gets_408, kill_server),
        cmocka_unit_test_teardown(
            header_timeout_applies_to_a_later_request_on_a_keep_alive_connection, kill_server),
        cmocka_unit_test_teardown(
            complete_requests_slower_than_the_header_timeout_in_total_are_served, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
