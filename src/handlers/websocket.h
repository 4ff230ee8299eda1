/* The WebSocket handler's internals that other parts reach: its config (options, callbacks,
 * counters: ws/ws_conn.h) and its state on a worker, for the metrics (pool_metrics.c) and
 * pub/sub. */
#ifndef HP_HANDLERS_WEBSOCKET_H
#define HP_HANDLERS_WEBSOCKET_H

#include "hostpool/websocket.h"
#include "ws/ws_conn.h"

/* The largest max_message (a connection's buffers are indexed by 32 bits). */
#define HP__WS_MAX_MESSAGE (256ull << 20)

struct hp_pool;

/* What a mode built on the handler (pubsub, ws/pubsub.c) adds to it: its `data` (the
 * callbacks') is its own, so it is released with the handler and made anew for a clone; and
 * it hears of the pool the handler's server joins (control thread). */
typedef struct hp__ws_mode {
    void (*bind)(hp_handler *handler, void *data, struct hp_pool *pool); /* may be NULL */
    void (*release)(void *data);                                 /* the handler is destroyed */
    hp_handler *(*clone)(const hp_handler *handler, void *data); /* NULL when it cannot be */
} hp__ws_mode;

/* hp_websocket_handler_create for a mode (`mode` borrowed: static). `data` is released by
 * mode->release when the handler is destroyed, and only then (not when this fails). */
hp_handler *hp__websocket_handler_create_mode(const hp_ws_options *options,
                                              const hp_ws_callbacks *callbacks, void *data,
                                              const hp__ws_mode *mode, int *err);

/* The config of `handler` when it is a WebSocket handler, else NULL. */
const hp__ws_config *hp__websocket_config(const hp_handler *handler);

#endif
