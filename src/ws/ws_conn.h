/* One WebSocket connection (hp_ws, include/hostpool/websocket.h) over an upgraded stream
 * (hostpool/upgrade.h), and the per-worker state every connection of a handler shares.
 *
 * This is the internal API the handler (src/handlers/websocket.c) and pub/sub build on.
 *
 * Reading: a connection hands the worker's wslay frame context whole frames only. From the
 * bytes of on_read it reads a frame's length (hp__ws_frame_peek); a frame that is all there is
 * parsed in place; the start of one that is not is kept in `partial`, a buffer that exists
 * only while a frame is incomplete (at most max_message + 14 bytes), so an idle connection
 * holds no buffer. wslay parses each frame (opcode, rsv, mask, lengths); the message layer
 * here checks what RFC 6455 requires of the sequence (fragments, control frames, close codes,
 * UTF-8) and joins fragments in `message` (allocated while a fragmented message is incomplete).
 *
 * Writing: frames (ws_frame.h, shared by reference) are queued on the connection; what one
 * loop iteration queues goes out in one writev at the end of the iteration (the worker's
 * uv_check), one write in flight at a time. `queued_bytes` (frames queued and in flight) is
 * bounded by max_backpressure.
 *
 * Threads: everything here runs on the connection's worker, except hp__ws_frame_* (any). */
#ifndef HP_WS_WS_CONN_H
#define HP_WS_WS_CONN_H

#include "common/utf8.h"
#include "hostpool/upgrade.h"
#include "hostpool/websocket.h"
#include "ws/ws_frame.h"
#include "ws/ws_stats.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct hp__ws_worker hp__ws_worker;
struct hp__ws_hub;
struct hp__ws_mode;

/* What a WebSocket handler is: its options and callbacks (websocket.h), shared read-only by
 * every worker. */
typedef struct hp__ws_config {
    hp_handler *handler; /* the handler these belong to (hp_ws_handler) */
    hp_ws_options options;
    hp_ws_callbacks callbacks;
    void *data; /* the callbacks' */
    hp__ws_stats stats;
    struct hp__ws_hub *hub;         /* its topics and registry (ws/hub.h, ws/ws_topics.h) */
    const struct hp__ws_mode *mode; /* a mode's hooks (handlers/websocket.h), or NULL */
} hp__ws_config;

struct hp_ws {
    hp_upgraded *u;
    hp__ws_worker *w;
    const hp__ws_config *config;
    void *user;   /* hp_ws_set_user */
    void *pubsub; /* the pub/sub layer's state of this connection (its subscriptions) */
    uint64_t id;  /* unique in the process, never reused */
    /* Connections of the worker (w->connections), for pub/sub and the registry. */
    hp_ws *next_dirty; /* in w->dirty while frames wait for the end of the iteration */

    /* reading */
    unsigned char *partial; /* an incomplete frame's first bytes; NULL when none */
    uint32_t partial_len, partial_cap;
    unsigned char *message; /* joined fragments; NULL when no message is incomplete */
    uint32_t message_len, message_cap;
    hp__utf8 utf8;           /* of the text message in progress */
    uint8_t message_opcode;  /* HP__WS_TEXT or HP__WS_BINARY while a message is in progress */
    bool message_compressed; /* its first frame had RSV1 (permessage-deflate) */

    /* writing */
    hp__ws_frame **frames; /* [0, in_flight) written and not done; then queued; NULL: none */
    uint32_t frame_count, frame_cap, in_flight;
    _Atomic uint64_t queued_bytes; /* of every frame in `frames` */

    /* time (the worker's clock, ms) */
    uint64_t connected_wall_ms; /* when it opened, milliseconds since the Unix epoch */
    uint64_t last_read_ms;      /* the last frame received */

    /* counters (websocket.h's registry): written by the worker only (hp__counter_add), read by
     * the registry from the control thread */
    _Atomic uint64_t messages_in, messages_out, bytes_in, bytes_out;

    uint16_t close_code; /* sent or received first; 0 while none */
    bool deflate;        /* permessage-deflate was negotiated */
    bool dirty;          /* in w->dirty */
    bool ping_sent;      /* a ping went out since the last frame received */
    bool close_sent, close_received;
    bool opened, closed; /* on_open called; the upgraded stream closed (on_close called) */
    uint8_t depth;       /* calls into ws_conn.c on the stack: the memory outlives them */
    char client[46];     /* the client's address as text ("" for a unix socket client) */
};

/* ---- the worker's state, shared by a handler's connections there ---------------------------- */

/* Made by the handler's worker_start, closed by its worker_stop. */
hp__ws_worker *hp__ws_worker_create(const hp__ws_config *config, hp_worker *worker);
void hp__ws_worker_destroy(hp__ws_worker *w);
hp_worker *hp__ws_worker_of(const hp__ws_worker *w);
/* The pub/sub layer's per-worker state (NULL until it sets one). */
void *hp__ws_worker_pubsub(const hp__ws_worker *w);
void hp__ws_worker_set_pubsub(hp__ws_worker *w, void *pubsub);

/* ---- a connection ------------------------------------------------------------------------ */

/* Checks `req` as a WebSocket handshake and, when it is one, answers 101 and opens the
 * connection (on_open follows); otherwise answers 400 or 426 itself. */
void hp__ws_accept(const hp__ws_config *config, hp__ws_worker *w, hp_request *req);

/* Queues `frame` (taking a reference) to go out at the end of this loop iteration. Returns 0;
 * HP_ELIMIT when queued_bytes would pass max_backpressure (then the connection closes with
 * 1008, or the frame is skipped and counted as dropped, as on_backpressure says); HP_ESTATE
 * once the connection is closing. A data frame counts as a message out. A shared frame
 * whose connection negotiated permessage-deflate is compressed once per worker, not per
 * connection. The connection may close inside the call (on_close is called before it
 * returns, and `ws` is gone then). */
int hp__ws_send_frame(hp_ws *ws, hp__ws_frame *frame);

#endif
