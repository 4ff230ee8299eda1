/* The event bus (design and contract in events.h).
 *
 * State:
 *  - `subscribers`: a singly linked list in subscription order, appended at `tail`. A
 *    subscriber unsubscribed while `delivering` is only marked `gone` and skipped; sweep()
 *    frees marked ones once no delivery is running, so the list walked by deliver() never
 *    loses a node under its feet. Appending during a walk is safe: the walk reaches the new
 *    node, and its `since` keeps it from getting older events.
 *  - `queue`: events published and not yet delivered, FIFO, each owning copies of its
 *    strings. Every publish goes through it, so order is publication order whether or not a
 *    delivery is running.
 *  - `delivering`: true while drain() runs. A publish that finds it true only enqueues: the
 *    drain() further up the stack will deliver it. This is what forbids recursion.
 *  - `closed`: set by close() at once (publish and subscribe refuse from then on);
 *    `end_pending`: the ends are still to be sent, after the queue is empty.
 *
 * Invariants: seq of queued events increases from head to tail; a subscriber receives an
 * event only if event.seq > its `since` (the last seq assigned when it subscribed); after the
 * ends are sent no subscriber remains. */
#include "core/events.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "hostpool/errors.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct subscriber {
    uint64_t id;
    uint64_t since; /* the bus's last seq when it subscribed */
    char *pattern;
    hp_event_cb cb;
    void *data;
    bool gone;
    struct subscriber *next;
} subscriber;

typedef struct queued {
    hp__event event; /* its strings point into the copies below */
    char *topic, *server, *message, *upstream, *target, *switchboard, *name;
    struct queued *next;
} queued;

struct hp__events {
    subscriber *subscribers, *tail;
    size_t live; /* subscribers not gone */
    queued *queue, *queue_tail;
    uint64_t next_id;
    uint64_t seq; /* the last one assigned */
    uint64_t failures;
    hp__event_count *counts; /* by topic; a pool publishes a handful of topics */
    size_t topic_count;
    bool delivering;
    bool closed;
    bool end_pending;
};

hp__events *hp__events_create(void)
{
    hp__events *bus = HP_NEW(hp__events);
    bus->next_id = 1;
    return bus;
}

static void free_subscriber(subscriber *s)
{
    free(s->pattern);
    free(s);
}

static void free_queued(queued *q)
{
    free(q->topic);
    free(q->server);
    free(q->message);
    free(q->upstream);
    free(q->target);
    free(q->switchboard);
    free(q->name);
    free(q);
}

void hp__events_destroy(hp__events *bus)
{
    if (!bus) return;
    for (subscriber *s = bus->subscribers, *next; s; s = next) {
        next = s->next;
        free_subscriber(s);
    }
    for (queued *q = bus->queue, *next; q; q = next) {
        next = q->next;
        free_queued(q);
    }
    for (size_t i = 0; i < bus->topic_count; i++) free(bus->counts[i].topic);
    free(bus->counts);
    free(bus);
}

int hp__events_subscribe(hp__events *bus, const char *pattern, hp_event_cb cb, void *data,
                         uint64_t *id)
{
    if (!cb || !hp__topic_pattern_valid(pattern)) return HP_EINVAL;
    if (bus->closed) return HP_ESTATE;
    subscriber *s = HP_NEW(subscriber);
    s->id = bus->next_id++;
    s->since = bus->seq;
    s->pattern = hp__strdup(pattern);
    s->cb = cb;
    s->data = data;
    if (bus->tail) {
        bus->tail->next = s;
    } else {
        bus->subscribers = s;
    }
    bus->tail = s;
    bus->live++;
    if (id) *id = s->id;
    return 0;
}

/* Frees the subscribers marked gone. Only when no delivery is running. */
static void sweep(hp__events *bus)
{
    subscriber **link = &bus->subscribers;
    bus->tail = NULL;
    while (*link) {
        subscriber *s = *link;
        if (s->gone) {
            *link = s->next;
            free_subscriber(s);
        } else {
            bus->tail = s;
            link = &s->next;
        }
    }
}

void hp__events_unsubscribe(hp__events *bus, uint64_t id)
{
    for (subscriber *s = bus->subscribers; s; s = s->next) {
        if (s->id != id) continue;
        if (!s->gone) {
            s->gone = true;
            bus->live--;
        }
        break;
    }
    if (!bus->delivering) sweep(bus);
}

static void deliver(hp__events *bus, const hp__event *ev)
{
    for (subscriber *s = bus->subscribers; s; s = s->next) {
        if (s->gone || s->since >= ev->seq || !hp__topic_match(s->pattern, ev->topic)) continue;
        if (s->cb(ev, s->data) != 0) bus->failures++;
    }
}

/* The last callback of every subscriber; each is dropped right after its end, so one that
 * unsubscribes another during this walk is harmless. */
static void deliver_end(hp__events *bus)
{
    for (subscriber *s = bus->subscribers; s; s = s->next) {
        if (s->gone) continue;
        s->gone = true;
        bus->live--;
        (void)s->cb(NULL, s->data);
    }
}

/* Delivers the queue, then the ends if a close is pending. Never runs twice on one stack. */
static void drain(hp__events *bus)
{
    bus->delivering = true;
    while (bus->queue) {
        queued *q = bus->queue;
        bus->queue = q->next;
        if (!bus->queue) bus->queue_tail = NULL;
        deliver(bus, &q->event);
        free_queued(q);
    }
    if (bus->end_pending) {
        bus->end_pending = false;
        deliver_end(bus);
    }
    bus->delivering = false;
    sweep(bus);
}

static char *copy_or_null(const char *s)
{
    return s ? hp__strdup(s) : NULL;
}

static void count_topic(hp__events *bus, const char *topic)
{
    for (size_t i = 0; i < bus->topic_count; i++) {
        if (strcmp(bus->counts[i].topic, topic) == 0) {
            bus->counts[i].count++;
            return;
        }
    }
    bus->counts = hp__realloc(bus->counts, (bus->topic_count + 1) * sizeof *bus->counts);
    bus->counts[bus->topic_count++] = (hp__event_count){hp__strdup(topic), 1};
}

int hp__events_publish(hp__events *bus, const hp__event *event)
{
    if (!event || !hp__topic_valid(event->topic)) return HP_EINVAL;
    if (bus->closed) return HP_ESTATE;
    count_topic(bus, event->topic);
    queued *q = HP_NEW(queued);
    q->event = *event;
    q->event.topic = q->topic = hp__strdup(event->topic);
    q->event.server = q->server = copy_or_null(event->server);
    q->event.message = q->message = copy_or_null(event->message);
    q->event.upstream = q->upstream = copy_or_null(event->upstream);
    q->event.target = q->target = copy_or_null(event->target);
    q->event.switchboard = q->switchboard = copy_or_null(event->switchboard);
    q->event.name = q->name = copy_or_null(event->name);
    q->event.seq = ++bus->seq;
    if (bus->queue_tail) {
        bus->queue_tail->next = q;
    } else {
        bus->queue = q;
    }
    bus->queue_tail = q;
    if (!bus->delivering) drain(bus); /* else the drain() up the stack delivers it */
    return 0;
}

void hp__events_close(hp__events *bus)
{
    if (bus->closed) return;
    bus->closed = true;
    bus->end_pending = true;
    if (!bus->delivering) drain(bus); /* else the drain() up the stack sends the ends */
}

uint64_t hp__events_failures(const hp__events *bus)
{
    return bus->failures;
}

size_t hp__events_subscribers(const hp__events *bus)
{
    return bus->live;
}

const hp__event_count *hp__events_counts(const hp__events *bus, size_t *n)
{
    *n = bus->topic_count;
    return bus->counts;
}
