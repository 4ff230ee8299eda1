/* The session's message framing, through the memory transport: pipelining, splits, chunked
 * bodies, HEAD, HTTP/1.0, 100-continue and request ids. Every expectation is the exact bytes
 * a client receives (without the Date line). */
#include "session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ID1 "X-Request-Id: 00000000000000000001\r\n"
#define ID2 "X-Request-Id: 00000000000000000002\r\n"
#define ID3 "X-Request-Id: 00000000000000000003\r\n"

static void pipelined_requests_are_answered_in_order(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "GET /second HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "GET /third HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n" ID1 "\r\n/first"
                        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n" ID2 "\r\n/second"
                        "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n" ID3 "\r\n/third");
    assert_int_equal(f->requests, 3);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

/* 200 with "<path>:<body>" as the body. */
static char answer[FIXTURE_MAX_BODY + 300];

static void answer_path_and_body(hp_request *req, void *data)
{
    int n = snprintf(answer, sizeof answer, "%.*s:%.*s", (int)req->path.len, req->path.base,
                     (int)req->body.len, req->body.base);
    hp_respond(req, 200, answer, (size_t)n);
}

static void request_split_at_every_byte_gives_same_answer(void **state)
{
    static const char wire[] = "POST /a?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                               "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n"
                               "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t len = sizeof wire - 1;
    const char *expected = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n" ID1 "\r\n/a:hello"
                           "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n" ID2 "\r\n/b:abcde"
                           "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" ID3 "\r\n/c:";
    for (size_t cut = 0; cut < len; cut++) {
        session_fixture *f = session_fixture_create(answer_path_and_body, NULL);
        assert_int_equal(mem_transport_feed(f->m, wire, cut), cut);
        assert_int_equal(mem_transport_feed(f->m, wire + cut, len - cut), len - cut);
        assert_string_equal(session_fixture_output(f), expected);
        session_fixture_destroy(f);
    }
    /* And one byte per read. */
    session_fixture *f = session_fixture_create(answer_path_and_body, NULL);
    for (size_t i = 0; i < len; i++) assert_int_equal(mem_transport_feed(f->m, wire + i, 1), 1);
    assert_string_equal(session_fixture_output(f), expected);
    session_fixture_destroy(f);
}

static void chunked_body_is_delivered_dechunked(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_body, NULL);
    mem_transport_feed_str(f->m,
                           "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert_int_equal(f->requests, 1);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n" ID1 "\r\nhello world");
    session_fixture_destroy(f);
}

static void head_response_has_length_but_no_body(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "HEAD /head HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "GET /get HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" ID1 "\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n" ID2 "\r\n/get");
    session_fixture_destroy(f);
}

static void http10_closes_without_keep_alive(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /old HTTP/1.0\r\n\r\n");
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n" ID1
                                                   "Connection: close\r\n\r\n/old");
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void http10_keep_alive_keeps_connection_open(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n" ID1
                                                   "Connection: keep-alive\r\n\r\n/old");
    assert_false(f->m->closed);
    assert_int_equal(f->m->timer_ms, FIXTURE_IDLE_TIMEOUT);
    session_fixture_destroy(f);
}

static void expect_100_continue_sends_interim_response(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_body, NULL);
    mem_transport_feed_str(f->m, "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                 "Content-Length: 4\r\n\r\n");
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(f->requests, 0);
    mem_transport_feed_str(f->m, "data");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 100 Continue\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n" ID1 "\r\ndata");
    session_fixture_destroy(f);
}

static void expect_100_continue_on_http10_sends_no_interim(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_body, NULL);
    mem_transport_feed_str(f->m, "PUT /u HTTP/1.0\r\nExpect: 100-continue\r\n"
                                 "Content-Length: 4\r\n\r\n");
    assert_int_equal(f->m->out_len, 0);
    session_fixture_destroy(f);
}

static void unknown_expectation_answers_417(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_body, NULL);
    mem_transport_feed_str(f->m, "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n"
                                 "Content-Length: 4\r\n\r\ndata");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 23\r\n" ID1
                        "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                        "417 Expectation Failed\n");
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static char seen_id[80];

static void record_request_id(hp_request *req, void *data)
{
    snprintf(seen_id, sizeof seen_id, "%.*s", (int)req->request_id.len, req->request_id.base);
    hp_respond(req, 204, NULL, 0);
}

static void request_id_kept_when_sane_generated_otherwise(void **state)
{
    session_fixture *f = session_fixture_create(record_request_id, NULL);
    mem_transport_feed_str(f->m,
                           "GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123_x.y:Z\r\n\r\n");
    assert_string_equal(seen_id, "abc-123_x.y:Z");
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: not sane!\r\n\r\n");
    assert_string_equal(seen_id, "00000000000000000001");
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: "
                                 "01234567890123456789012345678901234567890123456789012345678901234"
                                 "\r\n\r\n"); /* 65 characters: too long */
    assert_string_equal(seen_id, "00000000000000000002");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 204 No Content\r\nX-Request-Id: abc-123_x.y:Z\r\n\r\n"
                        "HTTP/1.1 204 No Content\r\n" ID1 "\r\n"
                        "HTTP/1.1 204 No Content\r\n" ID2 "\r\n");
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelined_requests_are_answered_in_order),
        cmocka_unit_test(request_split_at_every_byte_gives_same_answer),
        cmocka_unit_test(chunked_body_is_delivered_dechunked),
        cmocka_unit_test(head_response_has_length_but_no_body),
        cmocka_unit_test(http10_closes_without_keep_alive),
        cmocka_unit_test(http10_keep_alive_keeps_connection_open),
        cmocka_unit_test(expect_100_continue_sends_interim_response),
        cmocka_unit_test(expect_100_continue_on_http10_sends_no_interim),
        cmocka_unit_test(unknown_expectation_answers_417),
        cmocka_unit_test(request_id_kept_when_sane_generated_otherwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
