/* What the session counts for metrics: in flight while a handler holds a request and back to
 * zero however it ends (answer, limit, timeout, client gone, write error); responses by code
 * with their bytes; requests refused before routing counted for the head server; idle and
 * open connection gauges. (session_fixture_destroy also checks every session test ends with
 * nothing in flight and no connection counted.) */
#include "session_fixture.h"

#include "http/server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void hold(hp_request *req, void *data)
{
    /* answers later: the test calls hp_respond on f->last */
}

static void answer_ok(hp_request *req, void *data)
{
    hp_respond(req, 200, "ok", 2);
}

static hp__stats_totals totals(session_fixture *f)
{
    hp__stats_totals t;
    hp__stats_totals_read(f->server->stats, &t);
    return t;
}

static uint64_t in_flight(session_fixture *f)
{
    hp__stats_totals t = totals(f);
    uint64_t n = t.in_flight;
    hp__stats_totals_close(&t);
    return n;
}

static void a_held_request_is_in_flight_until_answered(void **state)
{
    session_fixture *f = session_fixture_create(hold, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(in_flight(f), 1);
    assert_int_equal(atomic_load(&f->m->gauges.idle), 0);
    hp_respond(f->last, 201, "made", 4);
    assert_int_equal(in_flight(f), 0);
    assert_int_equal(atomic_load(&f->m->gauges.open), 1);
    assert_int_equal(atomic_load(&f->m->gauges.idle), 1); /* keep-alive, waiting */
    hp__stats_totals t = totals(f);
    assert_int_equal(t.code_count, 1);
    assert_int_equal(t.codes[0].code, 201);
    assert_int_equal(t.bytes_in, strlen("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_int_equal(t.bytes_out, f->m->out_len);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void a_client_gone_mid_body_ends_in_flight_as_aborted(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(in_flight(f), 1);
    mem_transport_eof(f->m);
    assert_true(f->m->closed);
    hp__stats_totals t = totals(f);
    assert_int_equal(t.in_flight, 0);
    assert_int_equal(t.aborted, 1);
    assert_int_equal(t.responses, 0);
    assert_int_equal(t.errors, 1);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void a_held_request_whose_client_goes_away_leaves_flight(void **state)
{
    session_fixture *f = session_fixture_create(hold, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    mem_transport_read_error(f->m);
    hp__stats_totals t = totals(f);
    assert_int_equal(t.in_flight, 0);
    assert_int_equal(t.aborted, 1);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void a_body_over_the_limit_is_a_413_and_leaves_flight(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\n\r\n");
    hp__stats_totals t = totals(f);
    assert_int_equal(t.in_flight, 0);
    assert_int_equal(t.code_count, 1);
    assert_int_equal(t.codes[0].code, 413);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void a_header_timeout_before_routing_counts_408_for_the_head_server(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHo");
    assert_int_equal(in_flight(f), 0); /* not routed yet */
    assert_true(mem_transport_fire_timer(f->m));
    hp__stats_totals t = totals(f);
    assert_int_equal(t.code_count, 1);
    assert_int_equal(t.codes[0].code, 408);
    assert_int_equal(t.in_flight, 0);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void a_write_that_fails_ends_the_request_as_aborted(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(in_flight(f), 1); /* answered, not written yet */
    mem_transport_complete_write(f->m, -32 /* EPIPE */);
    hp__stats_totals t = totals(f);
    assert_int_equal(t.in_flight, 0);
    assert_int_equal(t.aborted, 1);
    hp__stats_totals_close(&t);
    session_fixture_destroy(f);
}

static void idle_connection_counts_as_open_and_idle(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    assert_int_equal(atomic_load(&f->m->gauges.open), 1);
    assert_int_equal(atomic_load(&f->m->gauges.idle), 1);
    mem_transport_feed_str(f->m, "GET / HT");
    assert_int_equal(atomic_load(&f->m->gauges.idle), 0); /* a request is arriving */
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_held_request_is_in_flight_until_answered),
        cmocka_unit_test(a_client_gone_mid_body_ends_in_flight_as_aborted),
        cmocka_unit_test(a_held_request_whose_client_goes_away_leaves_flight),
        cmocka_unit_test(a_body_over_the_limit_is_a_413_and_leaves_flight),
        cmocka_unit_test(a_header_timeout_before_routing_counts_408_for_the_head_server),
        cmocka_unit_test(a_write_that_fails_ends_the_request_as_aborted),
        cmocka_unit_test(idle_connection_counts_as_open_and_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
