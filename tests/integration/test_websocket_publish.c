/* Topics through the C API of include/hostpool/websocket.h (the engine in-process:
 * engine_fixture.h): a program's on_open subscribes its connection to the pattern the path
 * names; hp_websocket_publish from a thread of the program's own reaches it as a text or
 * binary frame and returns how many connections were subscribed; a duplicate subscribe is
 * HP_EEXISTS; a closed connection's subscriptions are gone; what is not a topic or not a
 * WebSocket handler is HP_EINVAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hostpool/errors.h"
#include "hp_test.h"
#include "hp_test_ws.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int opened, closes, again_rc;

/* Subscribes to the pattern after "/sub/", twice (the second must say HP_EEXISTS). */
static void on_open(hp_ws *ws, const hp_request *req, void *data)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%.*s", (int)req->path.len - 5, req->path.base + 5);
    if (hp_ws_subscribe(ws, pattern) == 0) atomic_store(&again_rc, hp_ws_subscribe(ws, pattern));
    atomic_fetch_add(&opened, 1);
}

static void on_close(hp_ws *ws, uint16_t code, void *data)
{
    atomic_fetch_add(&closes, 1);
}

static bool two(void *counter)
{
    return atomic_load((atomic_int *)counter) == 2;
}

static bool one(void *counter)
{
    return atomic_load((atomic_int *)counter) == 1;
}

typedef struct publish_call {
    hp_handler *handler;
    const char *topic, *text;
    bool binary;
    int reached;
} publish_call;

static void *publish_thread(void *arg)
{
    publish_call *c = arg;
    c->reached = hp_websocket_publish(c->handler, c->topic, c->text, strlen(c->text), c->binary);
    return NULL;
}

/* hp_websocket_publish on a thread of the test's own (neither the control loop nor a worker). */
static int publish_from_a_thread(hp_handler *h, const char *topic, const char *text, bool binary)
{
    publish_call c = {h, topic, text, binary, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, publish_thread, &c), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return c.reached;
}

static void expect_frame(hp_test_conn *c, uint8_t first, const char *text)
{
    hp_test_ws_frame f;
    assert_true(hp_test_ws_read(c, &f, HP_TEST_DEADLINE_MS));
    assert_int_equal(f.first, first);
    assert_int_equal(f.len, strlen(text));
    assert_memory_equal(f.payload, text, f.len);
}

static void a_programs_thread_publishes_to_the_subscribed_connections(void **state)
{
    hp_ws_options o;
    hp_ws_options_init(&o);
    static const hp_ws_callbacks callbacks = {.on_open = on_open, .on_close = on_close};
    int err;
    hp_handler *h = hp_websocket_handler_create(&o, &callbacks, NULL, &err);
    assert_non_null(h);
    engine_fixture *f = engine_fixture_start(h, 0);
    hp_test_conn a, b;
    assert_int_equal(hp_test_connect(&a, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&a, "/sub/chat.*"), 101);
    assert_int_equal(hp_test_connect(&b, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(&b, "/sub/chat.**"), 101);
    assert_true(hp_test_poll_until(two, &opened, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&again_rc), HP_EEXISTS);

    assert_int_equal(publish_from_a_thread(h, "chat.room", "to both", false), 2);
    expect_frame(&a, 0x81, "to both");
    expect_frame(&b, 0x81, "to both");
    assert_int_equal(publish_from_a_thread(h, "chat.a.b", "bytes", true), 1);
    expect_frame(&b, 0x82, "bytes");
    assert_int_equal(publish_from_a_thread(h, "news", "nobody", false), 0);
    assert_int_equal(publish_from_a_thread(h, "chat.*", "x", false), HP_EINVAL);
    hp_handler *other = hp_respond_handler_create(200, "x", 1, NULL, 0);
    assert_int_equal(hp_websocket_publish(other, "chat.room", "x", 1, false), HP_EINVAL);
    hp_handler_destroy(other);

    hp_test_close(&b); /* lost: its subscriptions go with it */
    assert_true(hp_test_poll_until(one, &closes, HP_TEST_DEADLINE_MS));
    assert_int_equal(publish_from_a_thread(h, "chat.room", "to a", false), 1);
    expect_frame(&a, 0x81, "to a");
    hp_test_close(&a);
    engine_fixture_stop(f, 1000);
    assert_int_equal(atomic_load(&closes), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_programs_thread_publishes_to_the_subscribed_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
