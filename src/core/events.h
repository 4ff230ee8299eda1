/* The event bus: topics published on the control loop, delivered to subscribers by pattern.
 *
 * Single-threaded: every call happens on one thread (the pool's control loop). Delivery is
 * synchronous and in order: each event goes to every matching subscriber in subscription
 * order. A subscriber that returns non-zero has failed; it is counted and delivery goes on.
 * An event published from inside a callback is queued and delivered after the current one,
 * never recursively. Subscribers may unsubscribe (themselves or others) from a callback.
 * Closing the bus gives every subscriber one final NULL event ("the stream ended"); later
 * publishes do nothing. */
#ifndef HP_CORE_EVENTS_H
#define HP_CORE_EVENTS_H

#include "hostpool/pool.h"

#include <stddef.h>
#include <stdint.h>

typedef hp_event hp__event;
typedef struct hp__events hp__events;

hp__events *hp__events_create(void);
void hp__events_destroy(hp__events *bus);

/* HP_EINVAL for a pattern hp__topic_pattern_valid() refuses. Ids start at 1. */
int hp__events_subscribe(hp__events *bus, const char *pattern, hp_event_cb cb, void *data,
                         uint64_t *id);
void hp__events_unsubscribe(hp__events *bus, uint64_t id);
/* Copies what it needs from `event` (topic, server and message are copied if queued). */
void hp__events_publish(hp__events *bus, const hp__event *event);
void hp__events_close(hp__events *bus);
uint64_t hp__events_failures(const hp__events *bus);

#endif
