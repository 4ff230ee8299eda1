/* The request body, streamed (request.h: hp_request_body_pull), through the memory transport:
 * a streaming handler is called at the head and pulls pieces; nothing is parsed while it does
 * not ask and reading stops when the buffer is full; 100 Continue goes out at the first pull
 * and never when the handler answers first, which closes the connection without parsing the
 * body as a request; a client that resets or closes mid-body, a body over max_body_bytes and
 * a client that stops sending are reported to the consumer; hp_request_body_read_all gives
 * the whole body as before. */
#include "session_fixture.h"

#include "http/server.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ID1 "X-Request-Id: 00000000000000000001\r\n"
#define ID2 "X-Request-Id: 00000000000000000002\r\n"

/* A handler that keeps the request and pulls only when the test says so. */
typedef struct puller {
    hp_request *req;
    char got[65536];
    size_t got_len;
    unsigned pieces, ends, errors, dones;
    int err;
    bool done_ok;
    bool answer_first;    /* answers 401 at once, without reading */
    bool pull_in_data;    /* asks for the next piece from on_data */
    bool answer_on_error; /* answers 500 from on_error */
} puller;

static const hp_body_consumer consumer;

static void on_data(hp_request *req, void *data, const void *bytes, size_t len)
{
    puller *p = data;
    assert_int_equal(p->ends, 0); /* nothing after the end */
    if (len == 0) {
        p->ends++;
        return;
    }
    p->pieces++;
    assert_true(p->got_len + len <= sizeof p->got);
    memcpy(p->got + p->got_len, bytes, len);
    p->got_len += len;
    if (p->pull_in_data) hp_request_body_pull(req, &consumer, p);
}

static void on_error(hp_request *req, void *data, int err)
{
    puller *p = data;
    p->errors++;
    p->err = err;
    if (p->answer_on_error) hp_respond(req, 500, "late", 4);
}

static const hp_body_consumer consumer = {on_data, on_error};

static void on_done(hp_request *req, bool ok, void *data)
{
    puller *p = data;
    p->dones++;
    p->done_ok = ok;
    p->req = NULL;
}

static void keep(hp_request *req, void *data)
{
    puller *p = data;
    p->req = req;
    hp_request_on_done(req, on_done, p);
    if (p->answer_first) hp_respond(req, 401, "no", 2);
}

static void pull(puller *p)
{
    hp_request_body_pull(p->req, &consumer, p);
}

static void a_streaming_handler_is_called_at_the_head_and_pulls_the_body_in_pieces(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n");
    assert_non_null(p.req);
    assert_int_equal(p.req->body.len, 0);
    pull(&p);
    assert_int_equal(p.pieces, 0); /* nothing arrived yet */
    mem_transport_feed_str(f->m, "hello");
    assert_int_equal(p.pieces, 1);
    mem_transport_feed_str(f->m, "world");
    assert_int_equal(p.pieces, 1); /* not asked for */
    pull(&p);
    assert_int_equal(p.pieces, 2);
    assert_int_equal(p.ends, 0);
    pull(&p);
    assert_int_equal(p.ends, 1);
    assert_memory_equal(p.got, "helloworld", 10);
    hp_respond(p.req, 200, "ok", 2);
    assert_int_equal(p.dones, 1);
    assert_true(p.done_ok);
    mem_transport_feed_str(f->m, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->requests, 2);
    hp_respond(p.req, 200, "ok", 2);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID1 "\r\nok"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID2 "\r\nok");
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void chunked_pieces_arrive_de_chunked(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m,
                           "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    while (p.ends == 0 && p.errors == 0 && p.pieces < 10) pull(&p);
    assert_int_equal(p.ends, 1);
    assert_int_equal(p.got_len, 7);
    assert_memory_equal(p.got, "abcdefg", 7);
    hp_respond(p.req, 204, NULL, 0);
    session_fixture_destroy(f);
}

static void reading_stops_while_the_handler_does_not_pull_and_resumes_when_it_does(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    f->server->limits.max_body_bytes = 1 << 20;
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 60000\r\n\r\n");
    static char body[60000];
    memset(body, 'b', sizeof body);
    size_t fed = mem_transport_feed(f->m, body, sizeof body);
    assert_true(fed < sizeof body); /* the read buffer is the bound */
    assert_false(f->m->reading);
    assert_int_equal(p.pieces, 0);
    while (fed < sizeof body || p.ends == 0) {
        pull(&p);
        fed += mem_transport_feed(f->m, body + fed, sizeof body - fed);
        assert_true(p.pieces < 1000);
    }
    assert_int_equal(p.got_len, sizeof body);
    assert_int_equal(p.ends, 1);
    assert_int_equal(p.errors, 0);
    hp_respond(p.req, 200, "ok", 2);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void a_handler_that_pulls_from_on_data_gets_every_byte_then_one_end(void **state)
{
    puller p = {.pull_in_data = true};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    f->server->limits.max_body_bytes = 1 << 20;
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 30000\r\n\r\n");
    pull(&p);
    static char body[30000];
    memset(body, 'c', sizeof body);
    assert_int_equal(mem_transport_feed(f->m, body, sizeof body), sizeof body);
    assert_int_equal(p.got_len, sizeof body);
    assert_int_equal(p.ends, 1);
    hp_respond(p.req, 200, "ok", 2);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void continue_is_sent_at_the_first_pull_and_not_before(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
                                 "Expect: 100-continue\r\n\r\n");
    assert_non_null(p.req);
    assert_int_equal(f->m->out_len, 0);
    pull(&p);
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 100 Continue\r\n\r\n");
    pull(&p); /* a second pull while the first waits changes nothing */
    assert_int_equal(mem_transport_count(f->m, "100 Continue"), 1);
    mem_transport_feed_str(f->m, "hi");
    assert_int_equal(p.pieces, 1);
    session_fixture_destroy(f);
}

static void
a_handler_that_answers_first_sends_no_continue_and_reads_no_body_as_a_request(void **state)
{
    puller p = {.answer_first = true};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 38\r\n"
                                 "Expect: 100-continue\r\n\r\n"
                                 "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->requests, 1);
    assert_int_equal(mem_transport_count(f->m, "100 Continue"), 0);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 401 Unauthorized\r\n"
                        "Content-Length: 2\r\n" ID1 "Connection: close\r\n\r\nno");
    assert_true(f->m->closed);
    assert_true(f->m->lingered);
    assert_int_equal(p.dones, 1);
    session_fixture_destroy(f);
}

static void a_client_reset_mid_body_is_reported_to_the_waiting_consumer_at_once(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab");
    pull(&p);
    assert_int_equal(p.pieces, 1);
    pull(&p);
    mem_transport_read_error(f->m);
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.err, -ECONNRESET);
    assert_int_equal(p.dones, 1);
    assert_false(p.done_ok);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void an_answer_from_on_error_after_the_client_left_is_dropped(void **state)
{
    puller p = {.answer_on_error = true};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab");
    pull(&p);
    pull(&p);
    mem_transport_read_error(f->m);
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.dones, 1);
    assert_false(p.done_ok);
    assert_int_equal(f->m->out_len, 0);
    session_fixture_destroy(f); /* counters balanced, no call after the close */
}

static void a_client_closing_while_the_handler_works_is_reported_at_once(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab");
    pull(&p);
    assert_int_equal(p.pieces, 1);
    /* The handler works on its piece and has not asked for the next one. */
    mem_transport_eof(f->m);
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.err, -ECONNRESET);
    assert_int_equal(p.dones, 1);
    assert_false(p.done_ok);
    session_fixture_destroy(f);
}

static void a_body_over_the_limit_is_told_to_the_consumer_and_answered_413(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m,
                           "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    static char chunk[FIXTURE_MAX_BODY + 16];
    int n = snprintf(chunk, sizeof chunk, "%x\r\n", FIXTURE_MAX_BODY + 1);
    memset(chunk + n, 'x', FIXTURE_MAX_BODY + 1);
    for (unsigned i = 0; i < 100 && p.errors == 0; i++) {
        pull(&p);
        mem_transport_feed(f->m, chunk, (size_t)n + FIXTURE_MAX_BODY + 1);
    }
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.err, -EMSGSIZE);
    assert_non_null(strstr(session_fixture_output(f), "HTTP/1.1 413 Content Too Large\r\n"));
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void a_client_that_stops_sending_is_answered_408_and_told_to_the_consumer(void **state)
{
    puller p = {0};
    session_fixture *f = session_fixture_create_streaming(keep, &p);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n");
    pull(&p);
    assert_int_equal(f->m->timer_ms, FIXTURE_HEADER_TIMEOUT);
    mem_transport_fire_timer(f->m);
    assert_int_equal(p.errors, 1);
    assert_int_equal(p.err, -ETIMEDOUT);
    assert_non_null(strstr(session_fixture_output(f), "HTTP/1.1 408 Request Timeout\r\n"));
    session_fixture_destroy(f);
}

static void on_whole_body(hp_request *req, void *data)
{
    hp_respond(req, 200, req->body.base, req->body.len);
}

static void read_all(hp_request *req, void *data)
{
    hp_request_body_read_all(req, on_whole_body, NULL);
}

static void read_all_gives_the_whole_body_as_before(void **state)
{
    session_fixture *f = session_fixture_create_streaming(read_all, NULL);
    mem_transport_feed_str(f->m, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                                 "Expect: 100-continue\r\n\r\n");
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 100 Continue\r\n\r\n");
    mem_transport_feed_str(f->m, "whole");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 100 Continue\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" ID1 "\r\nwhole");
    session_fixture_destroy(f);
}

static void ignore(hp_request *req, void *data) {}

/* A pool's clone and merge copy handlers: the copy must still ask for the body as it comes. */
static void a_clone_of_a_streaming_handler_streams_too(void **state)
{
    hp_handler *streaming = hp_callback_handler_create(ignore, NULL);
    streaming->stream_request_body = true;
    hp_handler *buffering = hp_callback_handler_create(ignore, NULL);
    hp_handler *a = hp_handler_clone(streaming), *b = hp_handler_clone(buffering);
    assert_true(a->stream_request_body);
    assert_false(b->stream_request_body);
    hp_handler_destroy(a);
    hp_handler_destroy(b);
    hp_handler_destroy(streaming);
    hp_handler_destroy(buffering);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_streaming_handler_is_called_at_the_head_and_pulls_the_body_in_pieces),
        cmocka_unit_test(chunked_pieces_arrive_de_chunked),
        cmocka_unit_test(reading_stops_while_the_handler_does_not_pull_and_resumes_when_it_does),
        cmocka_unit_test(a_handler_that_pulls_from_on_data_gets_every_byte_then_one_end),
        cmocka_unit_test(continue_is_sent_at_the_first_pull_and_not_before),
        cmocka_unit_test(
            a_handler_that_answers_first_sends_no_continue_and_reads_no_body_as_a_request),
        cmocka_unit_test(a_client_reset_mid_body_is_reported_to_the_waiting_consumer_at_once),
        cmocka_unit_test(an_answer_from_on_error_after_the_client_left_is_dropped),
        cmocka_unit_test(a_client_closing_while_the_handler_works_is_reported_at_once),
        cmocka_unit_test(a_body_over_the_limit_is_told_to_the_consumer_and_answered_413),
        cmocka_unit_test(a_client_that_stops_sending_is_answered_408_and_told_to_the_consumer),
        cmocka_unit_test(read_all_gives_the_whole_body_as_before),
        cmocka_unit_test(a_clone_of_a_streaming_handler_streams_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
