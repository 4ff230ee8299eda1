/* The event bus (src/core/events.c): patterns, order, failing subscribers, re-entrancy
 * (publish, subscribe and unsubscribe from a callback), the end of the stream, seq.
 *
 * Every callback appends "name:topic#seq " (or "name:END ") to one shared log, so the tests
 * see the order across subscribers, not only within one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/events.h"
#include "hostpool/errors.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static char journal[2048];

typedef struct sub {
    const char *name;
    hp__events *bus;
    int fail;              /* returned by the callback */
    int calls, ends;       /* calls counts the ends too */
    uint64_t id;           /* this subscription */
    uint64_t drop;         /* unsubscribe this id on the next call */
    const char *publish;   /* publish this topic on the next call */
    struct sub *subscribe; /* subscribe this one (to "**") on the next call */
    bool close;            /* close the bus on the next call */
    int publish_rc, subscribe_rc;
    hp__event seen;                          /* the last event, strings excepted */
    char topic[32], server[32], message[32]; /* copies: the event is borrowed */
} sub;

static void note(const char *text)
{
    size_t n = strlen(journal);
    snprintf(journal + n, sizeof journal - n, "%s", text);
}

static int record(const hp__event *ev, void *data);

static int publish(hp__events *bus, const char *topic)
{
    hp__event ev = {.topic = topic};
    return hp__events_publish(bus, &ev);
}

static int on_event(sub *s, const hp__event *ev)
{
    char line[128];
    if (!ev) {
        s->ends++;
        snprintf(line, sizeof line, "%s:END ", s->name);
        note(line);
        if (s->publish) s->publish_rc = publish(s->bus, s->publish);
        if (s->subscribe) s->subscribe_rc = hp__events_subscribe(s->bus, "**", record, s, NULL);
        return 0;
    }
    snprintf(line, sizeof line, "%s:%s#%llu ", s->name, ev->topic, (unsigned long long)ev->seq);
    note(line);
    s->seen = *ev;
    snprintf(s->topic, sizeof s->topic, "%s", ev->topic);
    snprintf(s->server, sizeof s->server, "%s", ev->server ? ev->server : "(null)");
    snprintf(s->message, sizeof s->message, "%s", ev->message ? ev->message : "(null)");
    if (s->drop) {
        hp__events_unsubscribe(s->bus, s->drop);
        s->drop = 0;
    }
    if (s->publish) {
        char topic[64]; /* the bus must copy it: this buffer dies with the call */
        snprintf(topic, sizeof topic, "%s", s->publish);
        s->publish = NULL;
        hp__event inner = {.topic = topic, .server = topic};
        s->publish_rc = hp__events_publish(s->bus, &inner);
        memset(topic, 'x', sizeof topic - 1);
    }
    if (s->subscribe) {
        sub *n = s->subscribe;
        s->subscribe = NULL;
        s->subscribe_rc = hp__events_subscribe(s->bus, "**", record, n, &n->id);
    }
    if (s->close) {
        s->close = false;
        hp__events_close(s->bus);
    }
    return s->fail;
}

static int record(const hp__event *ev, void *data)
{
    sub *s = data;
    s->calls++;
    return on_event(s, ev);
}

static void subscribe(hp__events *bus, const char *pattern, sub *s)
{
    s->bus = bus;
    assert_int_equal(hp__events_subscribe(bus, pattern, record, s, &s->id), 0);
}

static int setup(void **state)
{
    journal[0] = '\0';
    return 0;
}

static void exact_and_wildcard_subscribers_both_receive(void **state)
{
    hp__events *bus = hp__events_create();
    sub exact = {.name = "exact"}, wild = {.name = "wild"}, all = {.name = "all"},
        other = {.name = "other"};
    subscribe(bus, "server.started", &exact);
    subscribe(bus, "server.*", &wild);
    subscribe(bus, "**", &all);
    subscribe(bus, "pool.*", &other);
    publish(bus, "server.started");
    assert_string_equal(journal, "exact:server.started#1 wild:server.started#1 "
                                 "all:server.started#1 ");
    hp__events_destroy(bus);
}

static void a_hierarchy_of_patterns_delivers_once_to_each(void **state)
{
    /* noex: `*`, `user.*` and `user.profile.updated` each get one; here `**` and `user.**`
     * are what match three segments. */
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"}, d = {.name = "d"};
    subscribe(bus, "**", &a);
    subscribe(bus, "user.**", &b);
    subscribe(bus, "user.profile.updated", &c);
    subscribe(bus, "user.*", &d);
    publish(bus, "user.profile.updated");
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(c.calls, 1);
    assert_int_equal(d.calls, 0);
    hp__events_destroy(bus);
}

static void delivery_follows_publication_then_subscription_order(void **state)
{
    hp__events *bus = hp__events_create();
    sub b = {.name = "b"}, a = {.name = "a"};
    subscribe(bus, "**", &b); /* subscribed first, so called first whatever its name */
    subscribe(bus, "x.*", &a);
    publish(bus, "x.one");
    publish(bus, "y.two");
    publish(bus, "x.three");
    assert_string_equal(journal, "b:x.one#1 a:x.one#1 b:y.two#2 b:x.three#3 a:x.three#3 ");
    hp__events_destroy(bus);
}

static void a_failing_subscriber_does_not_stop_delivery(void **state)
{
    hp__events *bus = hp__events_create();
    sub first = {.name = "first", .fail = -1}, second = {.name = "second"},
        third = {.name = "third", .fail = 7};
    subscribe(bus, "**", &first);
    subscribe(bus, "**", &second);
    subscribe(bus, "**", &third);
    publish(bus, "a.b");
    publish(bus, "a.c");
    assert_string_equal(journal, "first:a.b#1 second:a.b#1 third:a.b#1 "
                                 "first:a.c#2 second:a.c#2 third:a.c#2 ");
    assert_int_equal(hp__events_failures(bus), 4);
    hp__events_destroy(bus);
}

static void the_event_reaches_subscribers_whole_with_increasing_seq(void **state)
{
    hp__events *bus = hp__events_create();
    sub s = {.name = "s"};
    subscribe(bus, "**", &s);
    hp__event ev = {.topic = "server.failed",
                    .server = "api",
                    .port = 8080,
                    .message = "address in use",
                    .time_ms = 1234,
                    .seq = 999}; /* ignored: the bus numbers events */
    assert_int_equal(hp__events_publish(bus, &ev), 0);
    assert_string_equal(s.topic, "server.failed");
    assert_string_equal(s.server, "api");
    assert_string_equal(s.message, "address in use");
    assert_int_equal(s.seen.port, 8080);
    assert_int_equal(s.seen.time_ms, 1234);
    assert_int_equal(s.seen.seq, 1);
    publish(bus, "pool.stopped");
    assert_int_equal(s.seen.seq, 2);
    assert_string_equal(s.server, "(null)");
    assert_string_equal(s.message, "(null)");
    assert_int_equal(s.seen.port, 0);
    publish(bus, "pool.stopped");
    assert_int_equal(s.seen.seq, 3);
    hp__events_destroy(bus);
}

/* An upstream event published from a callback waits in the queue: its upstream and target
 * must be copies, since the publisher's buffers are gone by the time it is delivered. */
typedef struct upstream_seen {
    hp__events *bus;
    bool published;
    char upstream[32], target[32], message[32];
    int calls;
} upstream_seen;

static int publish_upstream_event_once(const hp__event *ev, void *data)
{
    upstream_seen *u = data;
    if (!ev || u->published) return 0;
    u->published = true;
    char upstream[32], target[32];
    snprintf(upstream, sizeof upstream, "api");
    snprintf(target, sizeof target, "127.0.0.1:9001");
    hp__event down = {.topic = "upstream.target_down",
                      .upstream = upstream,
                      .target = target,
                      .message = "health"};
    hp__events_publish(u->bus, &down);
    memset(upstream, 'x', sizeof upstream - 1);
    memset(target, 'x', sizeof target - 1);
    return 0;
}

static int record_upstream_event(const hp__event *ev, void *data)
{
    upstream_seen *u = data;
    if (!ev || strcmp(ev->topic, "upstream.target_down") != 0) return 0;
    u->calls++;
    snprintf(u->upstream, sizeof u->upstream, "%s", ev->upstream ? ev->upstream : "(null)");
    snprintf(u->target, sizeof u->target, "%s", ev->target ? ev->target : "(null)");
    snprintf(u->message, sizeof u->message, "%s", ev->message ? ev->message : "(null)");
    return 0;
}

static void a_queued_upstream_event_keeps_copies_of_its_upstream_and_target(void **state)
{
    hp__events *bus = hp__events_create();
    upstream_seen u = {.bus = bus};
    assert_int_equal(hp__events_subscribe(bus, "**", publish_upstream_event_once, &u, NULL), 0);
    assert_int_equal(hp__events_subscribe(bus, "upstream.*", record_upstream_event, &u, NULL), 0);
    publish(bus, "pool.started");
    assert_int_equal(u.calls, 1);
    assert_string_equal(u.upstream, "api");
    assert_string_equal(u.target, "127.0.0.1:9001");
    assert_string_equal(u.message, "health");
    hp__events_destroy(bus);
}

static void a_rejected_publish_uses_no_seq(void **state)
{
    hp__events *bus = hp__events_create();
    sub s = {.name = "s"};
    subscribe(bus, "**", &s);
    assert_int_equal(publish(bus, "a.b"), 0);
    assert_int_equal(publish(bus, ""), HP_EINVAL);
    assert_int_equal(publish(bus, "a..b"), HP_EINVAL);
    assert_int_equal(publish(bus, "a.*"), HP_EINVAL);
    assert_int_equal(publish(bus, NULL), HP_EINVAL);
    assert_int_equal(hp__events_publish(bus, NULL), HP_EINVAL);
    assert_int_equal(publish(bus, "a.c"), 0);
    assert_string_equal(journal, "s:a.b#1 s:a.c#2 ");
    hp__events_destroy(bus);
}

static void events_published_during_delivery_come_after_it(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a", .publish = "inner.event"}, b = {.name = "b"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    assert_int_equal(publish(bus, "outer.event"), 0);
    /* b gets the outer event before anyone gets the inner one: no recursion */
    assert_string_equal(journal, "a:outer.event#1 b:outer.event#1 "
                                 "a:inner.event#2 b:inner.event#2 ");
    assert_string_equal(b.server, "inner.event"); /* copied when queued */
    hp__events_destroy(bus);
}

static void a_chain_of_publishes_from_callbacks_keeps_its_order(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a", .publish = "step.two"}, b = {.name = "b", .publish = "step.three"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    publish(bus, "step.one");
    assert_string_equal(journal, "a:step.one#1 b:step.one#1 a:step.two#2 b:step.two#2 "
                                 "a:step.three#3 b:step.three#3 ");
    hp__events_destroy(bus);
}

static void unsubscribing_another_during_delivery_stops_it_at_once(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    a.drop = b.id;
    publish(bus, "x.one");
    publish(bus, "x.two");
    assert_string_equal(journal, "a:x.one#1 a:x.two#2 "); /* b dropped before its turn */
    assert_int_equal(hp__events_subscribers(bus), 1);
    hp__events_unsubscribe(bus, b.id); /* idempotent */
    hp__events_unsubscribe(bus, 4242); /* unknown */
    assert_int_equal(hp__events_subscribers(bus), 1);
    hp__events_destroy(bus);
}

static void unsubscribing_oneself_or_an_earlier_one_during_delivery_is_safe(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    subscribe(bus, "**", &c);
    b.drop = b.id; /* itself */
    publish(bus, "x.one");
    c.drop = a.id; /* one already called for this event */
    publish(bus, "x.two");
    publish(bus, "x.three");
    assert_string_equal(journal, "a:x.one#1 b:x.one#1 c:x.one#1 a:x.two#2 c:x.two#2 "
                                 "c:x.three#3 ");
    assert_int_equal(hp__events_subscribers(bus), 1);
    hp__events_destroy(bus);
}

static void a_subscriber_added_during_delivery_gets_only_later_events(void **state)
{
    hp__events *bus = hp__events_create();
    sub late = {.name = "late"}, a = {.name = "a", .publish = "queued.before", .subscribe = &late};
    late.bus = bus;
    subscribe(bus, "**", &a);
    /* a publishes queued.before, then subscribes `late`: the event being delivered and the
     * one already queued were both published before `late` subscribed */
    publish(bus, "first.event");
    assert_int_equal(a.subscribe_rc, 0);
    publish(bus, "second.event");
    assert_string_equal(journal, "a:first.event#1 a:queued.before#2 "
                                 "a:second.event#3 late:second.event#3 ");
    hp__events_destroy(bus);
}

static void close_ends_every_stream_once_and_silences_the_bus(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"}, late = {.name = "late"};
    subscribe(bus, "**", &a);
    subscribe(bus, "server.*", &b);
    publish(bus, "server.started");
    hp__events_close(bus);
    hp__events_close(bus);
    assert_int_equal(publish(bus, "server.stopped"), HP_ESTATE);
    assert_int_equal(hp__events_subscribe(bus, "**", record, &late, NULL), HP_ESTATE);
    hp__events_unsubscribe(bus, a.id); /* harmless after the end */
    assert_string_equal(journal, "a:server.started#1 b:server.started#1 a:END b:END ");
    assert_int_equal(a.ends, 1);
    assert_int_equal(b.ends, 1);
    assert_int_equal(late.calls, 0);
    assert_int_equal(hp__events_subscribers(bus), 0);
    hp__events_destroy(bus);
}

static void close_from_a_callback_delivers_what_was_published_before_it(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a", .publish = "before.close"}, b = {.name = "b", .close = true};
    sub c = {.name = "c", .publish = "after.close"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    subscribe(bus, "**", &c);
    publish(bus, "outer.event");
    /* before.close was published before b closed the bus: everyone still gets it, then the
     * ends; c's publish came after the close and is refused */
    assert_int_equal(a.publish_rc, 0);
    assert_int_equal(c.publish_rc, HP_ESTATE);
    assert_string_equal(journal, "a:outer.event#1 b:outer.event#1 c:outer.event#1 "
                                 "a:before.close#2 b:before.close#2 c:before.close#2 "
                                 "a:END b:END c:END ");
    assert_int_equal(publish(bus, "after.close"), HP_ESTATE);
    hp__events_destroy(bus);
}

static void publishing_or_subscribing_from_an_end_callback_is_refused(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    a.publish = "too.late";
    a.subscribe = &b;
    a.drop = b.id; /* not used by the end callback: b still gets its end */
    hp__events_close(bus);
    assert_int_equal(a.publish_rc, HP_ESTATE);
    assert_int_equal(a.subscribe_rc, HP_ESTATE);
    assert_string_equal(journal, "a:END b:END ");
    hp__events_destroy(bus);
}

static void bad_patterns_and_callbacks_are_refused(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"};
    uint64_t id = 77;
    assert_int_equal(hp__events_subscribe(bus, "server.**.x", record, &a, &id), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, "", record, &a, &id), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, "ser*", record, &a, &id), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, "a..b", record, &a, &id), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, NULL, record, &a, &id), HP_EINVAL);
    assert_int_equal(hp__events_subscribe(bus, "**", NULL, &a, &id), HP_EINVAL);
    assert_int_equal(id, 77); /* untouched */
    assert_int_equal(hp__events_subscribers(bus), 0);
    publish(bus, "server.x.x");
    assert_int_equal(a.calls, 0);
    hp__events_destroy(bus);
}

static void ids_start_at_one_and_are_not_reused(void **state)
{
    hp__events *bus = hp__events_create();
    sub a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    subscribe(bus, "**", &a);
    subscribe(bus, "**", &b);
    hp__events_unsubscribe(bus, b.id);
    subscribe(bus, "**", &c);
    assert_int_equal(a.id, 1);
    assert_int_equal(b.id, 2);
    assert_int_equal(c.id, 3);
    hp__events_destroy(bus);
    hp__events_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(exact_and_wildcard_subscribers_both_receive, setup),
        cmocka_unit_test_setup(a_hierarchy_of_patterns_delivers_once_to_each, setup),
        cmocka_unit_test_setup(delivery_follows_publication_then_subscription_order, setup),
        cmocka_unit_test_setup(a_failing_subscriber_does_not_stop_delivery, setup),
        cmocka_unit_test_setup(the_event_reaches_subscribers_whole_with_increasing_seq, setup),
        cmocka_unit_test_setup(a_rejected_publish_uses_no_seq, setup),
        cmocka_unit_test_setup(a_queued_upstream_event_keeps_copies_of_its_upstream_and_target,
                               setup),
        cmocka_unit_test_setup(events_published_during_delivery_come_after_it, setup),
        cmocka_unit_test_setup(a_chain_of_publishes_from_callbacks_keeps_its_order, setup),
        cmocka_unit_test_setup(unsubscribing_another_during_delivery_stops_it_at_once, setup),
        cmocka_unit_test_setup(unsubscribing_oneself_or_an_earlier_one_during_delivery_is_safe,
                               setup),
        cmocka_unit_test_setup(a_subscriber_added_during_delivery_gets_only_later_events, setup),
        cmocka_unit_test_setup(close_ends_every_stream_once_and_silences_the_bus, setup),
        cmocka_unit_test_setup(close_from_a_callback_delivers_what_was_published_before_it, setup),
        cmocka_unit_test_setup(publishing_or_subscribing_from_an_end_callback_is_refused, setup),
        cmocka_unit_test_setup(bad_patterns_and_callbacks_are_refused, setup),
        cmocka_unit_test_setup(ids_start_at_one_and_are_not_reused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
