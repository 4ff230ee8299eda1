/* The session's timers and graceful drain, through the memory transport: which timeout each
 * phase arms, what firing it does, and how drain treats idle and busy sessions. */
#include "session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define OK_RESPONSE(id, extra) "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" id extra "\r\nok"
#define ID1 "X-Request-Id: 00000000000000000001\r\n"
#define TIMEOUT_408                                                                                \
    "HTTP/1.1 408 Request Timeout\r\nContent-Length: 20\r\n" ID1 "Connection: close\r\n"           \
    "Content-Type: text/plain; charset=utf-8\r\n\r\n408 Request Timeout\n"

static void answer_ok(hp_request *req, void *data)
{
    hp_respond(req, 200, "ok", 2);
}

static hp_request *held; /* a request the test answers itself */

static void hold(hp_request *req, void *data)
{
    held = req;
}

static void header_timeout_answers_408(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    assert_int_equal(f->m->timer_ms, FIXTURE_IDLE_TIMEOUT);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHo");
    assert_int_equal(f->m->timer_ms, FIXTURE_HEADER_TIMEOUT);
    assert_true(mem_transport_fire_timer(f->m));
    assert_string_equal(session_fixture_output(f), TIMEOUT_408);
    assert_int_equal(f->requests, 0);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void body_that_stops_arriving_answers_408(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(f->m->timer_ms, FIXTURE_HEADER_TIMEOUT);
    assert_true(mem_transport_fire_timer(f->m));
    assert_string_equal(session_fixture_output(f), TIMEOUT_408);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void idle_timeout_closes_silently(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f), OK_RESPONSE(ID1, ""));
    assert_false(f->m->closed);
    assert_int_equal(f->m->timer_ms, FIXTURE_IDLE_TIMEOUT);
    assert_true(mem_transport_fire_timer(f->m));
    assert_true(f->m->closed);
    assert_string_equal(session_fixture_output(f), OK_RESPONSE(ID1, "")); /* nothing more */
    session_fixture_destroy(f);
}

static void write_timeout_closes_slow_reader(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->m->queued_count, 1);
    assert_int_equal(f->m->timer_ms, FIXTURE_WRITE_TIMEOUT);
    assert_true(mem_transport_fire_timer(f->m));
    assert_true(f->m->closed);
    assert_int_equal(f->m->out_len, 0);
    session_fixture_destroy(f);
}

/* Regression: a queued 100 Continue that completed used to leave the session in the HANDLER
 * phase, which has no timer, while it still waited for the body. */
static void queued_100_continue_keeps_header_timeout(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                 "Content-Length: 4\r\n\r\n");
    assert_int_equal(f->m->queued_count, 1);
    f->m->hold_writes = false;
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(f->m->timer_ms, FIXTURE_HEADER_TIMEOUT);
    assert_true(mem_transport_fire_timer(f->m)); /* the body never comes */
    assert_string_equal(session_fixture_output(f), "HTTP/1.1 100 Continue\r\n\r\n" TIMEOUT_408);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void drain_closes_session_idle_between_requests_at_once(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_false(f->m->closed);
    mem_transport_drain(f->m);
    assert_true(f->m->closed);
    assert_string_equal(session_fixture_output(f), OK_RESPONSE(ID1, ""));
    session_fixture_destroy(f);
}

static void drain_answers_the_first_request_of_a_fresh_connection(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_drain(f->m);
    assert_false(f->m->closed);
    assert_int_equal(f->m->timer_ms, FIXTURE_HEADER_TIMEOUT);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_true(f->m->closed);
    assert_string_equal(session_fixture_output(f), OK_RESPONSE(ID1, "Connection: close\r\n"));
    session_fixture_destroy(f);
}

static void drain_closes_a_silent_fresh_connection_at_the_header_timeout(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_drain(f->m);
    assert_true(mem_transport_fire_timer(f->m));
    assert_true(f->m->closed);
    assert_int_equal(f->m->out_len, 0);
    session_fixture_destroy(f);
}

static void drain_lets_exchange_in_flight_finish_with_connection_close(void **state)
{
    session_fixture *f = session_fixture_create(hold, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->requests, 1);
    mem_transport_drain(f->m);
    assert_false(f->m->closed);
    hp_respond(held, 200, "ok", 2);
    assert_string_equal(session_fixture_output(f), OK_RESPONSE(ID1, "Connection: close\r\n"));
    assert_int_equal(f->requests, 1); /* the pipelined request is not started */
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_timeout_answers_408),
        cmocka_unit_test(body_that_stops_arriving_answers_408),
        cmocka_unit_test(idle_timeout_closes_silently),
        cmocka_unit_test(write_timeout_closes_slow_reader),
        cmocka_unit_test(queued_100_continue_keeps_header_timeout),
        cmocka_unit_test(drain_closes_session_idle_between_requests_at_once),
        cmocka_unit_test(drain_answers_the_first_request_of_a_fresh_connection),
        cmocka_unit_test(drain_closes_a_silent_fresh_connection_at_the_header_timeout),
        cmocka_unit_test(drain_lets_exchange_in_flight_finish_with_connection_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
