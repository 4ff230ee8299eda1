#include "core/events.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

typedef struct subscriber {
    uint64_t id;
    char *pattern;
    hp_event_cb cb;
    void *data;
    bool gone; /* unsubscribed during a delivery; freed after it */
    struct subscriber *next;
} subscriber;

typedef struct queued {
    hp__event event; /* strings owned below */
    char *topic, *server, *message;
    struct queued *next;
} queued;

struct hp__events {
    subscriber *subscribers, *last_subscriber;
    uint64_t next_id;
    uint64_t seq;
    uint64_t failures;
    queued *queue, *queue_tail;
    bool delivering;
    bool closed;
    bool close_pending; /* close() was called during a delivery */
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
    free(bus);
}

int hp__events_subscribe(hp__events *bus, const char *pattern, hp_event_cb cb, void *data,
                         uint64_t *id)
{
    if (!cb || !hp__topic_pattern_valid(pattern)) return HP_EINVAL;
    subscriber *s = HP_NEW(subscriber);
    s->id = bus->next_id++;
    s->pattern = hp__strdup(pattern);
    s->cb = cb;
    s->data = data;
    if (bus->last_subscriber) {
        bus->last_subscriber->next = s;
    } else {
        bus->subscribers = s;
    }
    bus->last_subscriber = s;
    if (id) *id = s->id;
    return 0;
}

/* Frees the subscribers marked gone; only outside a delivery. */
static void sweep(hp__events *bus)
{
    subscriber **pp = &bus->subscribers;
    bus->last_subscriber = NULL;
    while (*pp) {
        subscriber *s = *pp;
        if (s->gone) {
            *pp = s->next;
            free_subscriber(s);
        } else {
            bus->last_subscriber = s;
            pp = &s->next;
        }
    }
}

void hp__events_unsubscribe(hp__events *bus, uint64_t id)
{
    for (subscriber *s = bus->subscribers; s; s = s->next)
        if (s->id == id) s->gone = true;
    if (!bus->delivering) sweep(bus);
}

static void deliver(hp__events *bus, const hp__event *ev)
{
    for (subscriber *s = bus->subscribers; s; s = s->next) {
        if (s->gone || (ev && !hp__topic_match(s->pattern, ev->topic))) continue;
        if (s->cb(ev, s->data) != 0) bus->failures++;
    }
}

static char *dup_or_null(const char *s)
{
    return s ? hp__strdup(s) : NULL;
}

void hp__events_publish(hp__events *bus, const hp__event *event)
{
    if (bus->closed) return;
    queued *q = HP_NEW(queued);
    q->event = *event;
    q->event.topic = q->topic = hp__strdup(event->topic);
    q->event.server = q->server = dup_or_null(event->server);
    q->event.message = q->message = dup_or_null(event->message);
    q->event.seq = ++bus->seq;
    if (bus->queue_tail) {
        bus->queue_tail->next = q;
    } else {
        bus->queue = q;
    }
    bus->queue_tail = q;
    if (bus->delivering) return; /* the loop below, further up the stack, delivers it */
    bus->delivering = true;
    while (bus->queue) {
        queued *head = bus->queue;
        bus->queue = head->next;
        if (!bus->queue) bus->queue_tail = NULL;
        deliver(bus, &head->event);
        free_queued(head);
    }
    bus->delivering = false;
    sweep(bus);
    if (bus->close_pending) hp__events_close(bus);
}

void hp__events_close(hp__events *bus)
{
    if (bus->closed) return;
    if (bus->delivering) {
        bus->close_pending = true; /* after the events already published */
        return;
    }
    bus->closed = true;
    bus->delivering = true;
    deliver(bus, NULL);
    bus->delivering = false;
    sweep(bus);
}

uint64_t hp__events_failures(const hp__events *bus)
{
    return bus->failures;
}
