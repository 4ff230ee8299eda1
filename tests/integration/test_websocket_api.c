/* The C API of include/hostpool/websocket.h with a program of its own (the engine in-process:
 * engine_fixture.h): on_open reads the handshake request and may send at once (the message
 * arrives right after the 101); ids are distinct; hp_ws_close makes the close handshake with
 * the program's code and reason, and on_close hears that code once the client answered;
 * hp_websocket_handler_create refuses invalid options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hp_test.h"
#include "hp_test_ws.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int closes, last_code;
static _Atomic uint64_t ids[2];
static atomic_int opened;
static atomic_int wrong; /* a callback saw what it should not (asserted on the test's thread) */

static void on_open(hp_ws *ws, const hp_request *req, void *data)
{
    char welcome[128];
    int n = snprintf(welcome, sizeof welcome, "welcome %.*s", (int)req->path.len, req->path.base);
    if (hp_ws_send(ws, welcome, (size_t)n, false) != 0) atomic_fetch_add(&wrong, 1);
    int i = atomic_fetch_add(&opened, 1);
    if (i < 2) atomic_store(&ids[i], hp_ws_id(ws));
    hp_ws_set_user(ws, (void *)(uintptr_t)(i + 1));
}

static void on_message(hp_ws *ws, const char *bytes, size_t len, bool binary, void *data)
{
    if (len == 4 && memcmp(bytes, "quit", 4) == 0) hp_ws_close(ws, 4000, "bye");
}

static void on_close(hp_ws *ws, uint16_t code, void *data)
{
    if (hp_ws_user(ws) == NULL) atomic_fetch_add(&wrong, 1);
    atomic_store(&last_code, code);
    atomic_fetch_add(&closes, 1);
}

static bool closed_once(void *data)
{
    return atomic_load(&closes) == 1;
}

static void on_open_sends_and_hp_ws_close_makes_the_close_handshake(void **state)
{
    hp_ws_options o;
    hp_ws_options_init(&o);
    static const hp_ws_callbacks callbacks = {
        .on_open = on_open, .on_message = on_message, .on_close = on_close};
    int err;
    hp_handler *h = hp_websocket_handler_create(&o, &callbacks, NULL, &err);
    assert_non_null(h);
    engine_fixture *f = engine_fixture_start(h, 0);
    hp_test_conn a, b;
    hp_test_ws_frame frame;
    assert_int_equal(hp_test_connect(&a, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&a, "/room/1"), 101);
    assert_true(hp_test_ws_read(&a, &frame, HP_TEST_DEADLINE_MS));
    assert_int_equal(frame.first, 0x81);
    assert_int_equal(frame.len, strlen("welcome /room/1"));
    assert_memory_equal(frame.payload, "welcome /room/1", frame.len);
    assert_int_equal(hp_test_connect(&b, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&b, "/other"), 101);
    assert_true(hp_test_ws_read(&b, &frame, HP_TEST_DEADLINE_MS));
    assert_true(atomic_load(&ids[0]) != 0 && atomic_load(&ids[0]) != atomic_load(&ids[1]));

    assert_int_equal(hp_test_ws_send(&a, 0x81, true, "quit", 4), HP_TEST_OK);
    assert_true(hp_test_ws_read(&a, &frame, HP_TEST_DEADLINE_MS));
    assert_int_equal(frame.first, 0x88);
    assert_int_equal(frame.len, 5);
    assert_memory_equal(frame.payload,
                        "\x0f\xa0"
                        "bye",
                        5);                    /* 4000 */
    assert_int_equal(atomic_load(&closes), 0); /* waits for the client's close */
    assert_int_equal(hp_test_ws_send(&a, 0x88, true, "\x0f\xa0", 2), HP_TEST_OK);
    assert_true(hp_test_poll_until(closed_once, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&last_code), 4000);
    assert_int_equal(hp_test_wait_closed(&a, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&a);
    hp_test_close(&b);
    engine_fixture_stop(f, 1000);
    assert_int_equal(atomic_load(&closes), 2); /* b, at the engine's stop */
    assert_int_equal(atomic_load(&wrong), 0);
}

static void invalid_options_are_refused(void **state)
{
    hp_ws_options o;
    hp_ws_options_init(&o);
    int err = 0;
    o.max_message = 0;
    assert_null(hp_websocket_handler_create(&o, NULL, NULL, &err));
    assert_int_equal(err, HP_EINVAL);
    hp_ws_options_init(&o);
    o.max_backpressure = o.max_message - 1;
    assert_null(hp_websocket_handler_create(&o, NULL, NULL, &err));
    assert_int_equal(err, HP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(on_open_sends_and_hp_ws_close_makes_the_close_handshake),
        cmocka_unit_test(invalid_options_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
