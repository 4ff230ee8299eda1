/* Back-pressure of a WebSocket connection (max_backpressure, on_backpressure), with a program
 * of its own (hp_websocket_handler_create, the engine in-process: engine_fixture.h) that sends
 * 16 KiB messages every few milliseconds to a client that never reads: what waits for the
 * client never passes max_backpressure; with `close` the connection is closed with 1008, with
 * `drop` the messages that do not fit are skipped and counted, the connection stays open, and
 * the client reads whole messages when it reads again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "handlers/websocket.h"
#include "hp_test.h"
#include "hp_test_ws.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE (16 * 1024)
#define LIMIT (256 * 1024)

static atomic_int close_code, limited, opened;
static _Atomic uint64_t most_queued;

typedef struct sender {
    hp_timer timer;
    hp_ws *ws;
} sender;

static void send_some(hp_timer *timer)
{
    sender *s = timer->data;
    static char message[MESSAGE];
    for (int i = 0; i < 16; i++) {
        int rc = hp_ws_send(s->ws, message, sizeof message, true);
        if (s->ws->queued_bytes > atomic_load(&most_queued))
            atomic_store(&most_queued, s->ws->queued_bytes);
        if (rc == HP_ELIMIT) atomic_fetch_add(&limited, 1);
        if (rc == HP_ESTATE) return; /* closing: stop */
    }
    hp_timer_start(hp__ws_worker_of(s->ws->w), timer, 5, send_some);
}

static void on_open(hp_ws *ws, const hp_request *req, void *data)
{
    sender *s = calloc(1, sizeof *s);
    s->ws = ws;
    s->timer.data = s;
    hp_ws_set_user(ws, s);
    hp_timer_start(hp_request_worker(req), &s->timer, 1, send_some);
    atomic_fetch_add(&opened, 1);
}

static void on_close(hp_ws *ws, uint16_t code, void *data)
{
    sender *s = hp_ws_user(ws);
    hp_timer_stop(&s->timer);
    free(s);
    atomic_store(&close_code, code);
}

static hp_handler *sender_handler(hp_ws_backpressure policy)
{
    atomic_store(&close_code, 0);
    atomic_store(&limited, 0);
    atomic_store(&opened, 0);
    atomic_store(&most_queued, 0);
    hp_ws_options o;
    hp_ws_options_init(&o);
    o.max_backpressure = LIMIT;
    o.on_backpressure = policy;
    static const hp_ws_callbacks callbacks = {.on_open = on_open, .on_close = on_close};
    int err;
    hp_handler *h = hp_websocket_handler_create(&o, &callbacks, NULL, &err);
    assert_non_null(h);
    return h;
}

static bool is_set(void *value)
{
    return atomic_load((atomic_int *)value) != 0;
}

static void a_client_that_stops_reading_is_closed_with_1008(void **state)
{
    engine_fixture *f = engine_fixture_start(sender_handler(HP_WS_BACKPRESSURE_CLOSE), 0);
    hp_test_conn c;
    assert_int_equal(hp_test_connect_rcvbuf(&c, engine_fixture_port(f), 4096, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&c, "/"), 101);
    assert_true(hp_test_poll_until(is_set, &close_code, 2 * HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&close_code), 1008);
    assert_true(atomic_load(&limited) >= 1);
    assert_true(atomic_load(&most_queued) <= LIMIT);
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
}

static bool dropped_some(void *data)
{
    return atomic_load(&limited) >= 20;
}

static void with_drop_the_messages_that_do_not_fit_are_skipped_and_counted(void **state)
{
    hp_handler *h = sender_handler(HP_WS_BACKPRESSURE_DROP);
    const hp__ws_config *config = hp__websocket_config(h);
    engine_fixture *f = engine_fixture_start(h, 0);
    hp_test_conn c;
    assert_int_equal(hp_test_connect_rcvbuf(&c, engine_fixture_port(f), 4096, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&c, "/"), 101);
    assert_true(hp_test_poll_until(dropped_some, NULL, 2 * HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&close_code), 0); /* still open */
    assert_true(atomic_load(&most_queued) <= LIMIT);
    hp__ws_totals totals = {0};
    hp__ws_stats_add(&config->stats, &totals);
    assert_true(totals.dropped >= 20);
    assert_int_equal(totals.connections, 1);
    /* Reading again: whole binary messages, in order of sending. */
    for (int i = 0; i < 8; i++) {
        hp_test_ws_frame frame;
        assert_true(hp_test_ws_read(&c, &frame, HP_TEST_DEADLINE_MS));
        assert_int_equal(frame.first, 0x82);
        assert_int_equal(frame.len, MESSAGE);
    }
    hp_test_close(&c);
    assert_true(hp_test_poll_until(is_set, &close_code, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&close_code), 1006); /* gone without a close frame */
    engine_fixture_stop(f, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_client_that_stops_reading_is_closed_with_1008),
        cmocka_unit_test(with_drop_the_messages_that_do_not_fit_are_skipped_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
