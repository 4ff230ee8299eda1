/* The `pubsub` mode of a WebSocket route: clients publish and subscribe to topics in a JSON
 * protocol of text frames (docs/WEBSOCKET.md, "## pub/sub"), built on the C API of
 * include/hostpool/websocket.h and the hub's names (ws/ws_topics.h).
 *
 *   client                                      server
 *                                               {"type":"welcome","id":"7"}        (on open)
 *   {"type":"subscribe","topic":"chat.*"}    →  {"type":"subscribed","topic":"chat.*"}
 *   {"type":"unsubscribe","topic":"chat.*"}  →  {"type":"unsubscribed","topic":"chat.*"}
 *   {"type":"publish","topic":"chat.a","data":D}
 *                        → to each subscriber:
 * {"type":"message","topic":"chat.a","data":D,"from":"7"}
 *   {"type":"join","name":"alice"}           →  on topic presence:
 * {"type":"joined","name":"alice","id":"7"} (on close, when joined:
 * {"type":"left","name":"alice","id":"7"})
 *   {"type":"who"}                           →  {"type":"present","members":
 *                                                  [{"id":"7","name":"alice"}, ...]}
 *   {"type":"ping"}                          →  {"type":"pong"}
 *   anything else                            →  {"type":"error","message":"..."} (stays open)
 *
 * Settings: `allow` (topic patterns clients may use; a subscribe pattern is allowed when
 * every topic it matches is, hp__topic_pattern_covered; default: all), `publish` (clients,
 * or server: only the admin API and C publish), `events` (the pool's events matching it are
 * published on "events.<topic>" as {"type":"message","topic":...,"data":<GET /events's
 * JSON>,"from":"server"}, subscribed on the control thread when the handler is bound to a
 * pool, unsubscribed when it is destroyed). Joins and leaves are also the pool's events
 * ws.joined and ws.left (server, id, name).
 *
 * Threads: the callbacks on the connection's worker; bind, the events and destroy on the
 * control thread. */
#ifndef HP_WS_PUBSUB_H
#define HP_WS_PUBSUB_H

#include "hostpool/websocket.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp__pubsub_options {
    char **allow; /* patterns; NULL (allow_count 0): every topic */
    size_t allow_count;
    bool server_only; /* publish: server */
    char *events;     /* a pattern of the pool's events, or NULL */
} hp__pubsub_options;

/* A deep copy; NULL gives the defaults. */
hp__pubsub_options *hp__pubsub_options_copy(const hp__pubsub_options *o);
/* NULL is a no-op. */
void hp__pubsub_options_free(hp__pubsub_options *o);

/* A WebSocket handler in the pubsub mode (`ws` and `pubsub` copied). NULL with *err as
 * hp_websocket_handler_create says, or HP_EINVAL for an invalid pattern in `pubsub`. */
hp_handler *hp__pubsub_handler_create(const hp_ws_options *ws, const hp__pubsub_options *pubsub,
                                      int *err);

/* Is `handler` a WebSocket handler in the pubsub mode? */
bool hp__pubsub_handler_is(const hp_handler *handler);

#endif
