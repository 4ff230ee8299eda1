/* The WebSocket handler's internals that other parts reach: its config (options, callbacks,
 * counters: ws/ws_conn.h) and its state on a worker, for the metrics (pool_metrics.c) and
 * pub/sub. */
#ifndef HP_HANDLERS_WEBSOCKET_H
#define HP_HANDLERS_WEBSOCKET_H

#include "hostpool/websocket.h"
#include "ws/ws_conn.h"

/* The largest max_message (a connection's buffers are indexed by 32 bits). */
#define HP__WS_MAX_MESSAGE (256ull << 20)

/* The config of `handler` when it is a WebSocket handler, else NULL. */
const hp__ws_config *hp__websocket_config(const hp_handler *handler);

/* The handler's state on `worker` (NULL when it has none there). */
hp__ws_worker *hp__websocket_worker(const hp_handler *handler, hp_worker *worker);

#endif
