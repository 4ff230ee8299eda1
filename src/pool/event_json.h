/* An event (hostpool/events.h) as the JSON object GET /events sends in its `data:` lines and
 * a pubsub route forwards on "events.<topic>": seq, topic, server, port, message, time_ms,
 * and the fields of its kind that are set. Any thread; the event is borrowed. */
#ifndef HP_POOL_EVENT_JSON_H
#define HP_POOL_EVENT_JSON_H

#include "hostpool/events.h"

#include <jansson.h>

/* A new reference. */
json_t *hp__event_json(const hp_event *e);

#endif
