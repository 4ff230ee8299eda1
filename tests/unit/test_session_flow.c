/* The session's connection flow, through the memory transport: client EOF before and after a
 * request, errors after good pipelined requests, smuggling-shaped framing, and reading
 * stopping while the buffer is full and resuming when the answer is written. */
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
#define BAD_REQUEST(id)                                                                            \
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 16\r\n" id "Connection: close\r\n"                \
    "Content-Type: text/plain; charset=utf-8\r\n\r\n400 Bad Request\n"

static hp_request *held;

static void hold(hp_request *req, void *data)
{
    held = req;
}

static void client_eof_after_request_still_gets_answer_then_closes(void **state)
{
    session_fixture *f = session_fixture_create(hold, NULL);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    mem_transport_eof(f->m);
    assert_false(f->m->closed);
    assert_false(f->m->reading);
    hp_respond(held, 200, "ok", 2);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID1 "\r\nok");
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void client_eof_mid_request_closes_without_answer(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\nHo");
    mem_transport_eof(f->m);
    assert_true(f->m->closed);
    assert_int_equal(f->m->out_len, 0);
    assert_int_equal(f->requests, 0);
    session_fixture_destroy(f);
}

static void malformed_request_after_good_one_is_answered_400_in_order(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "GET /b HTTP/1.1\r\nHost h\r\n\r\n"
                                 "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID1 "\r\n/a" BAD_REQUEST(ID2));
    assert_int_equal(f->requests, 1);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void content_length_with_transfer_encoding_answers_400(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                                 "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f), BAD_REQUEST(ID1));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void obs_fold_answers_400(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n");
    assert_string_equal(session_fixture_output(f), BAD_REQUEST(ID1));
    assert_int_equal(f->requests, 0);
    session_fixture_destroy(f);
}

static void transfer_encoding_on_http10_answers_400(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_string_equal(session_fixture_output(f), BAD_REQUEST(ID1));
    assert_int_equal(f->requests, 0);
    session_fixture_destroy(f);
}

static void missing_host_on_http11_answers_400(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\n\r\n");
    assert_string_equal(session_fixture_output(f), BAD_REQUEST(ID1));
    assert_int_equal(f->requests, 0);
    session_fixture_destroy(f);
}

#define MANY 300

static void complete_response_goes_out_in_one_write(void **state)
{
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    mem_transport_feed_str(f->m, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->m->write_calls, 1); /* head, handler headers and body in one writev */
    const char *out = session_fixture_output(f);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "\r\n\r\n/one"));
    session_fixture_destroy(f);
}

static void answer_from_stack(hp_request *req, void *data)
{
    char body[16];
    memcpy(body, "copied body", 11);
    hp_respond_copy(req, 200, body, 11);
    memset(body, 'X', sizeof body); /* the caller's buffer is gone; the answer must not be */
}

static void copied_body_survives_its_buffer_while_the_write_is_queued(void **state)
{
    session_fixture *f = session_fixture_create(answer_from_stack, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->m->write_calls, 1);
    assert_true(mem_transport_complete_write(f->m, 0));
    const char *out = session_fixture_output(f);
    assert_non_null(strstr(out, "Content-Length: 11\r\n"));
    assert_non_null(strstr(out, "\r\n\r\ncopied body"));
    session_fixture_destroy(f);
}

static void reading_stops_while_buffer_full_and_resumes_after_answer(void **state)
{
    static char wire[MANY * 40], expected[MANY * 120];
    size_t len = 0, elen = 0;
    for (int i = 0; i < MANY; i++) {
        len += (size_t)snprintf(wire + len, sizeof wire - len,
                                "GET /%03d HTTP/1.1\r\nHost: h\r\n\r\n", i);
        elen += (size_t)snprintf(expected + elen, sizeof expected - elen,
                                 "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
                                 "X-Request-Id: 000000000000%08x\r\n\r\n/%03d",
                                 i + 1, i);
    }
    session_fixture *f = session_fixture_create(fixture_answer_path, NULL);
    f->m->hold_writes = true; /* a client that sends everything and reads nothing */
    size_t fed = mem_transport_feed(f->m, wire, len);
    assert_true(fed < len);
    assert_false(f->m->reading);
    assert_int_equal(f->requests, 1);
    for (int rounds = 0; fed < len && rounds < 2 * MANY; rounds++) {
        assert_true(mem_transport_complete_write(f->m, 0));
        fed += mem_transport_feed(f->m, wire + fed, len - fed);
    }
    assert_int_equal(fed, len);
    mem_transport_flush(f->m);
    assert_int_equal(f->requests, MANY);
    assert_string_equal(session_fixture_output(f), expected);
    assert_true(f->m->reading);
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_eof_after_request_still_gets_answer_then_closes),
        cmocka_unit_test(client_eof_mid_request_closes_without_answer),
        cmocka_unit_test(malformed_request_after_good_one_is_answered_400_in_order),
        cmocka_unit_test(content_length_with_transfer_encoding_answers_400),
        cmocka_unit_test(obs_fold_answers_400),
        cmocka_unit_test(transfer_encoding_on_http10_answers_400),
        cmocka_unit_test(missing_host_on_http11_answers_400),
        cmocka_unit_test(complete_response_goes_out_in_one_write),
        cmocka_unit_test(copied_body_survives_its_buffer_while_the_write_is_queued),
        cmocka_unit_test(reading_stops_while_buffer_full_and_resumes_after_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
