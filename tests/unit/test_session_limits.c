/* The session's limits, through the memory transport: each is answered with its status and
 * "Connection: close", the handler never runs, and the session closes after the answer. */
#include "session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ERROR_HEAD(status, reason, len)                                                            \
    "HTTP/1.1 " status " " reason "\r\nContent-Length: " len "\r\n"                                \
    "X-Request-Id: 00000000000000000001\r\nConnection: close\r\n"                                  \
    "Content-Type: text/plain; charset=utf-8\r\n\r\n" status " " reason "\n"

static void answer_ok(hp_request *req, void *data)
{
    hp_respond(req, 200, "ok", 2);
}

static void body_over_limit_answers_413_and_closes(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4097\r\n\r\nabc");
    assert_string_equal(session_fixture_output(f), ERROR_HEAD("413", "Content Too Large", "22"));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void body_at_limit_is_accepted(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    char wire[200 + FIXTURE_MAX_BODY];
    int n = snprintf(wire, sizeof wire, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
                     FIXTURE_MAX_BODY);
    memset(wire + n, 'b', FIXTURE_MAX_BODY);
    mem_transport_feed(f->m, wire, (size_t)n + FIXTURE_MAX_BODY);
    assert_int_equal(f->requests, 1);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void chunked_body_over_limit_answers_413_and_closes(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m,
                           "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[FIXTURE_MAX_BODY / 2];
    memset(chunk, 'c', sizeof chunk);
    for (int i = 0; i < 3 && !f->m->closed; i++) {
        mem_transport_feed_str(f->m, "800\r\n");
        mem_transport_feed(f->m, chunk, sizeof chunk);
        mem_transport_feed_str(f->m, "\r\n");
    }
    assert_string_equal(session_fixture_output(f), ERROR_HEAD("413", "Content Too Large", "22"));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void header_section_over_limit_answers_431(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    char big[FIXTURE_MAX_HEADER_BYTES + 100];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    mem_transport_feed_str(f->m, big);
    mem_transport_feed_str(f->m, "\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        ERROR_HEAD("431", "Request Header Fields Too Large", "36"));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void header_section_without_end_over_limit_answers_431(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n");
    /* Many small headers, never a blank line: the buffered head alone passes the limit. */
    for (int i = 0; i < 200 && !f->m->closed; i++) mem_transport_feed_str(f->m, "A: b\r\n");
    assert_string_equal(session_fixture_output(f),
                        ERROR_HEAD("431", "Request Header Fields Too Large", "36"));
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void too_many_headers_answers_431(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < FIXTURE_MAX_HEADERS + 1; i++) { /* Host + 16 = one too many */
        char line[32];
        snprintf(line, sizeof line, "X-%d: %d\r\n", i, i);
        mem_transport_feed_str(f->m, line);
    }
    mem_transport_feed_str(f->m, "\r\n");
    assert_string_equal(session_fixture_output(f),
                        ERROR_HEAD("431", "Request Header Fields Too Large", "36"));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void headers_at_limit_are_accepted(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < FIXTURE_MAX_HEADERS; i++) {
        char line[32];
        snprintf(line, sizeof line, "X-%d: %d\r\n", i, i);
        mem_transport_feed_str(f->m, line);
    }
    mem_transport_feed_str(f->m, "\r\n");
    assert_int_equal(f->requests, 1);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void target_over_limit_answers_414(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    char target[FIXTURE_MAX_TARGET + 2];
    memset(target, 'a', sizeof target - 1);
    target[0] = '/';
    target[sizeof target - 1] = '\0';
    mem_transport_feed_str(f->m, "GET ");
    mem_transport_feed_str(f->m, target);
    mem_transport_feed_str(f->m, " HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f), ERROR_HEAD("414", "URI Too Long", "17"));
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_over_limit_answers_413_and_closes),
        cmocka_unit_test(body_at_limit_is_accepted),
        cmocka_unit_test(chunked_body_over_limit_answers_413_and_closes),
        cmocka_unit_test(header_section_over_limit_answers_431),
        cmocka_unit_test(header_section_without_end_over_limit_answers_431),
        cmocka_unit_test(too_many_headers_answers_431),
        cmocka_unit_test(headers_at_limit_are_accepted),
        cmocka_unit_test(target_over_limit_answers_414),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
