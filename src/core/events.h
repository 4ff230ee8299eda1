/* The event bus: topics published on the pool's control loop, delivered by pattern.
 *
 * Threads: single-threaded. Every function is called on one thread (the pool's control
 * loop), and callbacks run on it, inside hp__events_publish() or hp__events_close(). There
 * is no lock; a worker thread that has something to say posts it to the control loop first.
 *
 * Delivery is synchronous and ordered. hp__events_publish() gives the event a sequence number
 * (1, 2, 3 ...) and delivers it, before returning, to every subscriber whose pattern matches
 * its topic (src/core/topic.h), in subscription order. A callback that returns non-zero has
 * failed: the bus counts it (hp__events_failures) and goes on with the next subscriber.
 *
 * Re-entrancy, from inside a callback:
 *  - publish: the event is queued and delivered once the current event has reached every
 *    subscriber, in publication order. Delivery never recurses.
 *  - unsubscribe (oneself or another): that subscriber gets nothing more, not even the rest
 *    of the current event. Its memory is freed after the delivery.
 *  - subscribe: the new subscriber gets the events published after it subscribed, so not the
 *    one being delivered nor those already queued.
 *  - close: the events published before the close are still delivered, then the end.
 *  - destroy: not allowed.
 *
 * Closing ends every stream: each subscriber gets one last callback with a NULL event, then
 * is dropped. From the moment close is called, publish and subscribe fail with HP_ESTATE and
 * do nothing (so a subscriber can never miss its end); unsubscribe stays harmless. */
#ifndef HP_CORE_EVENTS_H
#define HP_CORE_EVENTS_H

#include "hostpool/events.h"

#include <stddef.h>
#include <stdint.h>

typedef hp_event hp__event;
typedef struct hp__events hp__events;

/* A new, open bus with no subscriber. Never NULL (allocation aborts on failure). */
hp__events *hp__events_create(void);
/* Frees the bus, its subscribers and any queued event, calling nobody (close first to send
 * the ends). NULL is a no-op. Not from inside a callback. */
void hp__events_destroy(hp__events *bus);

/* Calls `cb(event, data)` for every later event whose topic matches `pattern` (copied).
 * `*id`, if not NULL, gets the subscription's id: 1, 2, 3 ..., never reused, never 0.
 * HP_EINVAL for an invalid pattern or a NULL cb, HP_ESTATE once the bus is closed; on error
 * nothing is registered and `cb` is never called. */
int hp__events_subscribe(hp__events *bus, const char *pattern, hp_event_cb cb, void *data,
                         uint64_t *id);
/* Removes the subscription `id`. Idempotent: an unknown or already removed id is ignored. */
void hp__events_unsubscribe(hp__events *bus, uint64_t id);

/* Publishes `event` (borrowed: its strings are copied when it has to wait in the queue). The
 * caller sets topic, server, port, message, upstream, target and time_ms; the bus overwrites
 * seq. Returns 0 when delivered (or queued, from inside a callback); HP_EINVAL when `event` is
 * NULL or its topic invalid (hp__topic_valid), HP_ESTATE when the bus is closed; on error
 * nothing is delivered and no sequence number is used. */
int hp__events_publish(hp__events *bus, const hp__event *event);

/* Ends every stream (see above). Idempotent. */
void hp__events_close(hp__events *bus);

/* Deliveries whose callback returned non-zero, since the bus was created. */
uint64_t hp__events_failures(const hp__events *bus);
/* Live subscriptions (unsubscribed ones are not counted, even before they are freed). */
size_t hp__events_subscribers(const hp__events *bus);

/* Events published since the bus was created, by topic, in the order each topic first
 * appeared. */
typedef struct hp__event_count {
    char *topic;
    uint64_t count;
} hp__event_count;
/* The counts (borrowed: valid until the next publish); *n gets how many topics. */
const hp__event_count *hp__events_counts(const hp__events *bus, size_t *n);

#endif
