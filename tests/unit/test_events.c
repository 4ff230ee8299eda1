/* The event bus (src/core/events.c): order, patterns, failing subscribers, re-entrancy, end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/events.h"
#include "hostpool/errors.h"

#include <stdio.h>
#include <string.h>

typedef struct log {
    char text[512];
    int ends;
    int fail;          /* return this from the callback */
    hp__events *bus;   /* for re-entrant tests */
    uint64_t drop_id;  /* unsubscribe this one on the first call */
    bool publish_once; /* publish "inner.event" on the first call */
} log;

static int record(const hp_event *ev, void *data)
{
    log *l = data;
    if (!ev) {
        l->ends++;
        return 0;
    }
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s#%llu ", ev->topic, (unsigned long long)ev->seq);
    if (l->drop_id) {
        hp__events_unsubscribe(l->bus, l->drop_id);
        l->drop_id = 0;
    }
    if (l->publish_once) {
        l->publish_once = false;
        hp__event inner = {.topic = "inner.event"};
        hp__events_publish(l->bus, &inner);
        strcat(l->text, "| ");
    }
    return l->fail;
}

static void publish(hp__events *bus, const char *topic)
{
    hp__event ev = {.topic = topic};
    hp__events_publish(bus, &ev);
}

static void events_reach_matching_subscribers_in_order(void **state)
{
    hp__events *bus = hp__events_create();
    log exact = {0}, wild = {0};
    assert_int_equal(hp__events_subscribe(bus, "server.started", record, &exact, NULL), 0);
    assert_int_equal(hp__events_subscribe(bus, "server.*", record, &wild, NULL), 0);
    publish(bus, "server.started");
    publish(bus, "server.stopped");
    publish(bus, "pool.stopped");
    assert_string_equal(exact.text, "server.started#1 ");
    assert_string_equal(wild.text, "server.started#1 server.stopped#2 ");
    hp__events_destroy(bus);
}

static void a_failing_subscriber_does_not_stop_delivery(void **state)
{
    hp__events *bus = hp__events_create();
    log first = {.fail = -1}, second = {0};
    hp__events_subscribe(bus, "**", record, &first, NULL);
    hp__events_subscribe(bus, "**", record, &second, NULL);
    publish(bus, "a.b");
    assert_string_equal(second.text, "a.b#1 ");
    assert_int_equal(hp__events_failures(bus), 1);
    hp__events_destroy(bus);
}

static void events_published_during_delivery_come_after_it(void **state)
{
    hp__events *bus = hp__events_create();
    log a = {.bus = bus, .publish_once = true}, b = {0};
    hp__events_subscribe(bus, "**", record, &a, NULL);
    hp__events_subscribe(bus, "**", record, &b, NULL);
    publish(bus, "outer.event");
    assert_string_equal(a.text, "outer.event#1 | inner.event#2 ");
    assert_string_equal(b.text, "outer.event#1 inner.event#2 ");
    hp__events_destroy(bus);
}

static void unsubscribing_during_delivery_is_safe(void **state)
{
    hp__events *bus = hp__events_create();
    log a = {.bus = bus}, b = {0};
    uint64_t id_b;
    hp__events_subscribe(bus, "**", record, &a, NULL);
    hp__events_subscribe(bus, "**", record, &b, &id_b);
    a.drop_id = id_b;
    publish(bus, "x.one");
    publish(bus, "x.two");
    assert_string_equal(a.text, "x.one#1 x.two#2 ");
    assert_string_equal(b.text, "");   /* dropped before its turn */
    hp__events_unsubscribe(bus, id_b); /* idempotent */
    hp__events_destroy(bus);
}

static void close_ends_every_stream_once_and_silences_the_bus(void **state)
{
    hp__events *bus = hp__events_create();
    log a = {0}, b = {0};
    hp__events_subscribe(bus, "**", record, &a, NULL);
    hp__events_subscribe(bus, "server.*", record, &b, NULL);
    hp__events_close(bus);
    hp__events_close(bus);
    publish(bus, "server.started");
    assert_int_equal(a.ends, 1);
    assert_int_equal(b.ends, 1);
    assert_string_equal(a.text, "");
    hp__events_destroy(bus);
}

static void bad_patterns_are_refused(void **state)
{
    hp__events *bus = hp__events_create();
    log a = {0};
    assert_int_equal(hp__events_subscribe(bus, "server.**.x", record, &a, NULL), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, "", record, &a, NULL), HP_EINVAL);
    hp__events_destroy(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_reach_matching_subscribers_in_order),
        cmocka_unit_test(a_failing_subscriber_does_not_stop_delivery),
        cmocka_unit_test(events_published_during_delivery_come_after_it),
        cmocka_unit_test(unsubscribing_during_delivery_is_safe),
        cmocka_unit_test(close_ends_every_stream_once_and_silences_the_bus),
        cmocka_unit_test(bad_patterns_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
