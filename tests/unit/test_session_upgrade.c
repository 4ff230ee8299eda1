/* Upgrade (include/hostpool/upgrade.h) through the memory transport: a handler answers 101 and
 * an echo protocol takes the connection over, with the bytes pipelined after the request; a
 * request that did not ask, or a handler that answers normally, keeps HTTP/1.1; the switch
 * waits for the 101 to be written; the exchange is counted as a 101; a drain, an abort and
 * the client's EOF reach the protocol; its writes have back-pressure; a connection lost before
 * the 101 is written cancels the protocol; a half-close lets reading go on; a handler can ask
 * whether a request asked for an upgrade. */
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
#define UPGRADE_REQUEST(path)                                                                      \
    "GET " path " HTTP/1.1\r\nHost: h\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
#define SWITCHING(id)                                                                              \
    "HTTP/1.1 101 Switching Protocols\r\n" id "Connection: Upgrade\r\nUpgrade: echo\r\n\r\n"

/* The echo protocol: writes back every byte it reads; records what happened to it. */
typedef struct echo {
    hp_upgraded *u;
    unsigned opens, reads, eofs, drains, closes, writes_done, cancels;
    int close_status;
    bool close_on_eof;
    int upgrade_rc; /* what hp_request_upgrade returned */
} echo;

static void echo_open(hp_upgraded *u, void *data)
{
    echo *e = data;
    e->u = u;
    e->opens++;
}

static void echo_read(hp_upgraded *u, void *data, const char *bytes, size_t len)
{
    ((echo *)data)->reads++;
    hp_upgraded_write(u, bytes, len);
}

static void echo_eof(hp_upgraded *u, void *data)
{
    echo *e = data;
    e->eofs++;
    if (e->close_on_eof) hp_upgraded_close(u);
}

static void echo_write_done(hp_upgraded *u, void *data)
{
    ((echo *)data)->writes_done++;
}

static void echo_drain(hp_upgraded *u, void *data)
{
    echo *e = data;
    e->drains++;
    hp_upgraded_write(u, "bye", 3);
    hp_upgraded_close(u);
}

static void echo_close(hp_upgraded *u, void *data, int status)
{
    echo *e = data;
    e->closes++;
    e->close_status = status;
    e->u = NULL;
}

static void echo_cancel(void *data)
{
    ((echo *)data)->cancels++;
}

static const hp_upgrade_protocol echo_protocol = {
    .on_open = echo_open,
    .on_read = echo_read,
    .on_eof = echo_eof,
    .on_write_done = echo_write_done,
    .on_drain = echo_drain,
    .on_close = echo_close,
    .on_cancel = echo_cancel,
};

/* /up upgrades (or, when refused, answers 200 "refused"); anything else answers its path. */
static void upgrade_or_answer(hp_request *req, void *data)
{
    echo *e = data;
    if (req->path.len == 3 && memcmp(req->path.base, "/up", 3) == 0) {
        e->upgrade_rc = hp_request_upgrade(req, "echo", &echo_protocol, e);
        if (e->upgrade_rc != 0) hp_respond(req, 200, "refused", 7);
        return;
    }
    hp_respond(req, 200, req->path.base, req->path.len);
}

static void an_upgrade_after_a_keep_alive_request_hands_the_pipelined_bytes_over(void **state)
{
    echo e = {.close_on_eof = true};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" UPGRADE_REQUEST(
                                     "/up") "GET /not-http HTTP/1.1\r\n\r\n");
    assert_int_equal(e.upgrade_rc, 0);
    assert_int_equal(e.opens, 1);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID1
                        "\r\n/a" SWITCHING(ID2) "GET /not-http HTTP/1.1\r\n\r\n");
    assert_int_equal(f->requests, 2);
    mem_transport_clear_output(f->m);
    mem_transport_feed_str(f->m, "\x01\x02 more bytes");
    assert_string_equal(session_fixture_output(f), "\x01\x02 more bytes");
    mem_transport_eof(f->m);
    assert_int_equal(e.eofs, 1);
    assert_int_equal(e.closes, 1);
    assert_int_equal(e.close_status, 0);
    assert_true(f->m->closed);
    assert_true(f->m->lingered); /* a close the protocol asked for lingers */
    session_fixture_destroy(f);
}

static void a_request_that_did_not_ask_is_not_upgraded(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, "GET /up HTTP/1.1\r\nHost: h\r\nUpgrade: echo\r\n\r\n"
                                 "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(e.upgrade_rc, HP_EINVAL);
    assert_int_equal(e.opens, 0);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n" ID1 "\r\nrefused"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" ID2 "\r\n/b");
    session_fixture_destroy(f);
}

static void an_http10_request_is_not_upgraded(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m,
                           "GET /up HTTP/1.0\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n");
    assert_int_equal(e.upgrade_rc, HP_EINVAL);
    assert_int_equal(e.opens, 0);
    session_fixture_destroy(f);
}

static void answer_normally(hp_request *req, void *data)
{
    hp_respond(req, 200, "plain", 5);
}

static void a_handler_that_answers_normally_keeps_http(void **state)
{
    session_fixture *f = session_fixture_create(answer_normally, NULL);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up") "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" ID1 "\r\nplain"
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" ID2 "\r\nplain");
    assert_int_equal(f->requests, 2);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void interim_status(hp_request *req, void *data)
{
    hp_respond(req, 101, "", 0);
}

static void a_101_through_an_ordinary_answer_is_still_a_500(void **state)
{
    session_fixture *f = session_fixture_create(interim_status, NULL);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    assert_non_null(strstr(session_fixture_output(f), "HTTP/1.1 500 Internal Server Error\r\n"));
    session_fixture_destroy(f);
}

static void the_switch_waits_until_the_101_is_written(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up") "early");
    assert_int_equal(e.upgrade_rc, 0);
    assert_int_equal(e.opens, 0);
    assert_int_equal(f->m->out_len, 0);
    f->m->hold_writes = false;
    mem_transport_flush(f->m);
    assert_int_equal(e.opens, 1);
    assert_string_equal(session_fixture_output(f), SWITCHING(ID1) "early");
    session_fixture_destroy(f);
    assert_int_equal(e.closes, 1);
    assert_int_equal(e.close_status, -ECONNABORTED);
}

static void the_upgrade_exchange_counts_as_a_101_and_the_connection_stays_open(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    hp__stats_totals t;
    hp__stats_totals_read(f->server->stats, &t);
    assert_int_equal(t.in_flight, 0);
    assert_int_equal(t.code_count, 1);
    assert_int_equal(t.codes[0].code, 101);
    hp__stats_totals_close(&t);
    assert_int_equal(atomic_load(&f->m->gauges.open), 1);
    assert_int_equal(atomic_load(&f->m->gauges.idle), 0);
    assert_int_equal(f->ctx.connections_open, 1);
    assert_int_equal(f->m->timer_ms, 0); /* the session's idle timer is not the protocol's */
    session_fixture_destroy(f);          /* checks every count went back to 0 */
}

static bool uses_server(session_fixture *f)
{
    const hp__protocol *p = f->m->conn.transport.protocol;
    return p->vt->uses_server(p, f->server);
}

static void an_upgraded_connection_uses_its_server_until_it_closes(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    assert_ptr_not_equal(f->m->conn.transport.protocol, &f->m->conn.http1.protocol);
    assert_true(uses_server(f)); /* a stop of its server waits for it */
    hp_upgraded_close(e.u);
    assert_int_equal(e.closes, 1);
    assert_false(uses_server(f));
    session_fixture_destroy(f);
}

static void a_drain_reaches_the_protocol_which_closes_after_its_writes(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    mem_transport_clear_output(f->m);
    f->m->hold_writes = true;
    mem_transport_drain(f->m);
    assert_int_equal(e.drains, 1);
    assert_false(f->m->closed); /* "bye" is still queued */
    assert_int_equal(e.closes, 0);
    mem_transport_flush(f->m);
    assert_string_equal(session_fixture_output(f), "bye");
    assert_true(f->m->closed);
    assert_int_equal(e.closes, 1);
    assert_int_equal(e.close_status, 0);
    session_fixture_destroy(f);
}

static void a_read_error_closes_with_its_status(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    mem_transport_read_error(f->m);
    assert_true(f->m->closed);
    assert_int_equal(e.closes, 1);
    assert_int_equal(e.close_status, -ECONNRESET);
    assert_false(f->m->lingered);
    session_fixture_destroy(f);
}

static void a_queued_write_completes_through_on_write_done(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    mem_transport_clear_output(f->m);
    f->m->hold_writes = true;
    assert_int_equal(hp_upgraded_write(e.u, "abc", 3), 0);
    assert_int_equal(e.writes_done, 0);
    f->m->hold_writes = false;
    mem_transport_flush(f->m);
    assert_int_equal(e.writes_done, 1);
    assert_string_equal(session_fixture_output(f), "abc");
    session_fixture_destroy(f);
}

static void reading_stops_while_the_protocol_does_not_want_bytes(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    mem_transport_clear_output(f->m);
    hp_upgraded_read_stop(e.u);
    assert_false(f->m->reading);
    assert_int_equal(mem_transport_feed_str(f->m, "held"), 0);
    hp_upgraded_read_start(e.u);
    assert_true(f->m->reading);
    mem_transport_feed_str(f->m, "now");
    assert_string_equal(session_fixture_output(f), "now");
    session_fixture_destroy(f);
}

static void a_connection_lost_before_the_101_is_written_cancels_the_protocol(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    assert_int_equal(e.upgrade_rc, 0);
    assert_true(mem_transport_complete_write(f->m, -EPIPE));
    assert_true(f->m->closed);
    assert_int_equal(e.cancels, 1);
    assert_int_equal(e.opens, 0);
    assert_int_equal(e.closes, 0);
    session_fixture_destroy(f);
    assert_int_equal(e.cancels, 1);
}

static void a_half_close_comes_after_the_queued_writes_and_reading_goes_on(void **state)
{
    echo e = {0};
    session_fixture *f = session_fixture_create(upgrade_or_answer, &e);
    mem_transport_feed_str(f->m, UPGRADE_REQUEST("/up"));
    mem_transport_clear_output(f->m);
    f->m->hold_writes = true;
    assert_int_equal(hp_upgraded_write(e.u, "last", 4), 0);
    hp_upgraded_shutdown(e.u);
    assert_true(f->m->shut);
    assert_int_equal(hp_upgraded_write(e.u, "late", 4), -EPIPE);
    assert_false(f->m->closed);
    f->m->hold_writes = false;
    mem_transport_flush(f->m);
    assert_string_equal(session_fixture_output(f), "last");
    assert_true(f->m->reading);
    mem_transport_feed_str(f->m, "still read"); /* echoed: the write is refused, not sent */
    assert_int_equal(e.reads, 1);
    assert_string_equal(session_fixture_output(f), "last");
    assert_false(f->m->closed);
    assert_int_equal(e.closes, 0);
    session_fixture_destroy(f); /* the transport saw no write after the half-close */
}

static bool asked;

static void record_upgrade_asked(hp_request *req, void *data)
{
    asked = hp_request_upgrade_asked(req);
    hp_respond(req, 200, "", 0);
}

static bool upgrade_asked(const char *request)
{
    asked = false;
    session_fixture *f = session_fixture_create(record_upgrade_asked, NULL);
    mem_transport_feed_str(f->m, request);
    assert_int_equal(f->requests, 1);
    session_fixture_destroy(f);
    return asked;
}

static void a_handler_can_tell_whether_the_request_asked_for_an_upgrade(void **state)
{
    assert_true(upgrade_asked(UPGRADE_REQUEST("/up")));
    assert_true(upgrade_asked(
        "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: x\r\n\r\n"));
    assert_false(upgrade_asked("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: echo\r\n\r\n"));
    assert_false(upgrade_asked("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"));
    assert_false(upgrade_asked("GET / HTTP/1.0\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_upgrade_after_a_keep_alive_request_hands_the_pipelined_bytes_over),
        cmocka_unit_test(a_request_that_did_not_ask_is_not_upgraded),
        cmocka_unit_test(an_http10_request_is_not_upgraded),
        cmocka_unit_test(a_handler_that_answers_normally_keeps_http),
        cmocka_unit_test(a_101_through_an_ordinary_answer_is_still_a_500),
        cmocka_unit_test(the_switch_waits_until_the_101_is_written),
        cmocka_unit_test(the_upgrade_exchange_counts_as_a_101_and_the_connection_stays_open),
        cmocka_unit_test(an_upgraded_connection_uses_its_server_until_it_closes),
        cmocka_unit_test(a_drain_reaches_the_protocol_which_closes_after_its_writes),
        cmocka_unit_test(a_read_error_closes_with_its_status),
        cmocka_unit_test(a_queued_write_completes_through_on_write_done),
        cmocka_unit_test(reading_stops_while_the_protocol_does_not_want_bytes),
        cmocka_unit_test(a_connection_lost_before_the_101_is_written_cancels_the_protocol),
        cmocka_unit_test(a_half_close_comes_after_the_queued_writes_and_reading_goes_on),
        cmocka_unit_test(a_handler_can_tell_whether_the_request_asked_for_an_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
