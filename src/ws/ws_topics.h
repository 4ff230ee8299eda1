/* The topics of a WebSocket handler: its hub (ws/hub.h) tied to its connections (ws/ws_conn.h).
 *
 * Every WebSocket handler has a hub (made with the handler, destroyed with it) and, on each
 * worker it runs on, a hub worker (kept as the hp__ws_worker's pubsub pointer). Every open
 * connection is a member of the hub (ws->pubsub) from before the program's on_open until
 * before its on_close, so the registry lists every connection, and on_close finds its
 * subscriptions gone. The hub delivers a published frame with hp__ws_send_frame (the frame,
 * built once by hp__ws_frame_create, is what connections on every worker share).
 *
 * Here too: hp_ws_subscribe, hp_ws_unsubscribe and hp_websocket_publish (websocket.h), and
 * the internal calls of the pubsub mode and the admin API.
 *
 * Threads: as hub.h. The calls taking an hp_ws on its worker; hp_websocket_publish and
 * hp__ws_topics_hub from any thread. */
#ifndef HP_WS_WS_TOPICS_H
#define HP_WS_WS_TOPICS_H

#include "hostpool/websocket.h"
#include "ws/hub.h"

struct hp__ws_worker;

/* ---- the handler's side (handlers/websocket.c, ws/ws_conn.c) ------------------------------ */

hp__ws_hub *hp__ws_topics_hub_create(void);
hp__ws_hub_worker *hp__ws_topics_worker_start(hp__ws_hub *hub, hp_worker *worker);
/* NULL is a no-op. */
void hp__ws_topics_worker_stop(hp__ws_hub_worker *hw);
/* The connection opened (the 101 is written): it joins the registry. */
void hp__ws_topics_open(hp_ws *ws);
/* The connection closed: it leaves the registry with its name and subscriptions. Idempotent. */
void hp__ws_topics_close(hp_ws *ws);

/* ---- for the pubsub mode and the admin API ------------------------------------------------ */

/* The hub of a WebSocket handler (any mode), or NULL for another handler. */
hp__ws_hub *hp__ws_topics_hub(const hp_handler *handler);

/* Gives the connection a name unique among its handler's connections (copied); HP_EEXISTS
 * when another connection has it (the name stays with it), HP_ESTATE once closed. */
int hp__ws_join(hp_ws *ws, const char *name);

/* What the registry shows of a connection (GET /servers/{name}/connections). */
typedef struct hp__ws_counters {
    uint64_t messages_in, messages_out, bytes_in, bytes_out, bytes_queued;
} hp__ws_counters;

/* Any thread, for a connection found through the registry under its lock (it stays open for
 * the call): its counters, read with relaxed atomic loads (its worker writes them). */
void hp__ws_counters_read(const hp_ws *ws, hp__ws_counters *out);

#endif
