#include "ws/ws_topics.h"

#include "core/topic.h"
#include "handlers/websocket.h"
#include "hostpool/errors.h"
#include "io/worker_context.h"
#include "ws/ws_frame.h"
#include "ws/ws_worker.h"

#include <stdatomic.h>

/* ---- what the hub does with connections and payloads (frames) ----------------------------- */

static void deliver(void *conn, void *payload)
{
    hp__ws_send_frame(conn, payload); /* HP_ELIMIT: closed or dropped as configured, counted */
}

static void payload_ref(void *payload)
{
    hp__ws_frame_ref(payload);
}

static void payload_unref(void *payload)
{
    hp__ws_frame_unref(payload);
}

static size_t payload_size(void *payload)
{
    return ((hp__ws_frame *)payload)->len;
}

static void close_conn(void *conn, uint16_t code)
{
    hp_ws_close(conn, code, NULL);
}

static const hp__ws_hub_ops frame_ops = {
    .deliver = deliver,
    .payload_ref = payload_ref,
    .payload_unref = payload_unref,
    .payload_size = payload_size,
    .close = close_conn,
};

hp__ws_hub *hp__ws_topics_hub_create(void)
{
    return hp__ws_hub_create(&frame_ops);
}

hp__ws_hub_worker *hp__ws_topics_worker_start(hp__ws_hub *hub, hp_worker *worker)
{
    return hp__ws_hub_worker_start(hub, hp_worker_loop(worker), hp_worker_index(worker));
}

void hp__ws_topics_worker_stop(hp__ws_hub_worker *hw)
{
    if (hw) hp__ws_hub_worker_stop(hw);
}

void hp__ws_topics_open(hp_ws *ws)
{
    hp__ws_hub_worker *hw = hp__ws_worker_pubsub(ws->w);
    ws->pubsub = hp__ws_member_open(hw, ws, ws->id, ws->client, ws->connected_wall_ms);
}

void hp__ws_topics_close(hp_ws *ws)
{
    hp__ws_member_close(ws->pubsub);
    ws->pubsub = NULL;
}

hp__ws_hub *hp__ws_topics_hub(const hp_handler *handler)
{
    const hp__ws_config *c = hp__websocket_config(handler);
    return c ? c->hub : NULL;
}

/* ---- websocket.h -------------------------------------------------------------------------- */

int hp_ws_subscribe(hp_ws *ws, const char *pattern)
{
    if (!ws->pubsub) return HP_ESTATE;
    return hp__ws_member_subscribe(ws->pubsub, pattern);
}

int hp_ws_unsubscribe(hp_ws *ws, const char *pattern)
{
    if (!ws->pubsub) return HP_ESTATE;
    return hp__ws_member_unsubscribe(ws->pubsub, pattern);
}

int hp_websocket_publish(hp_handler *handler, const char *topic, const void *bytes, size_t len,
                         bool binary)
{
    hp__ws_hub *hub = hp__ws_topics_hub(handler);
    if (!hub || !hp__topic_valid(topic)) return HP_EINVAL;
    hp_worker *worker = hp__worker_context_current();
    hp__ws_hub_worker *from =
        worker ? hp__ws_hub_worker_find(hub, hp_worker_loop(worker), hp_worker_index(worker))
               : NULL;
    hp__ws_frame *frame =
        hp__ws_frame_create(binary ? HP__WS_BINARY : HP__WS_TEXT, bytes, len, false);
    int reached = hp__ws_hub_publish(hub, from, topic, frame);
    hp__ws_frame_unref(frame);
    return reached;
}

/* ---- the pubsub mode and the admin API ---------------------------------------------------- */

int hp__ws_join(hp_ws *ws, const char *name)
{
    hp__ws_member *m = ws->pubsub;
    if (!m) return HP_ESTATE;
    return hp__ws_member_join(m, name);
}

static uint64_t load(const _Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

void hp__ws_counters_read(const hp_ws *ws, hp__ws_counters *out)
{
    out->messages_in = load(&ws->messages_in);
    out->messages_out = load(&ws->messages_out);
    out->bytes_in = load(&ws->bytes_in);
    out->bytes_out = load(&ws->bytes_out);
    out->bytes_queued = load(&ws->queued_bytes);
}
