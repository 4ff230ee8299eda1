/* The state a WebSocket handler keeps on one worker (ws_conn.h's hp__ws_worker), shared by its
 * connections there: the wslay frame context that parses every frame, the connections with
 * frames to write at the end of this loop iteration (the
 * uv_check that writes them), the deflate streams and the last shared frame compressed.
 *
 * Invariants: `reader` is between frames whenever no frame is being fed (a connection feeds it
 * whole frames only, and a parse error resets it). A connection is in `dirty` at most once; a
 * closed connection still in `dirty` is freed by the next flush (or by the worker's end).
 * Threads: the worker's only. */
#ifndef HP_WS_WS_WORKER_H
#define HP_WS_WS_WORKER_H

#include "ws/ws_conn.h"
#include "ws/ws_deflate.h"

#include <uv.h>
#include <wslay/wslay.h>

struct hp__ws_worker {
    const hp__ws_config *config;
    hp_worker *worker;
    wslay_frame_context_ptr reader;
    const unsigned char *in; /* the rest of the frame being fed to `reader` */
    size_t in_len;
    uv_check_t *flush; /* its own allocation: freed by its close callback */
    hp_ws *dirty;      /* connections with frames to write (through next_dirty) */
    hp__ws_deflate *deflate;
    hp__ws_frame *deflated_from, *deflated; /* the last frame compressed, and its result */
    hp__ws_stats_slice *stats;
    void *pubsub;
};

/* Makes `ws` write its queued frames at the end of this loop iteration. */
void hp__ws_worker_mark_dirty(hp__ws_worker *w, hp_ws *ws);
/* `frame` compressed (a new reference), reusing the last result when it is the same frame. */
hp__ws_frame *hp__ws_worker_compressed(hp__ws_worker *w, hp__ws_frame *frame);
hp__ws_deflate *hp__ws_worker_deflate(hp__ws_worker *w);
/* Parses the frame bytes[0..len) (whole) with `reader`: calls `chunk` for each piece of its
 * payload, the first with first = true. Returns 0, or -1 when wslay found it invalid (the
 * reader is then reset). `chunk` returns false to stop (the frame is then dropped whole). */
typedef bool (*hp__ws_chunk_cb)(hp_ws *ws, const struct wslay_frame_iocb *iocb, bool first);
int hp__ws_worker_parse(hp__ws_worker *w, hp_ws *ws, const unsigned char *bytes, size_t len,
                        hp__ws_chunk_cb chunk);

/* ws_conn.c's side of the flush: writes what `ws` has queued (one writev). */
void hp__ws_conn_flush(hp_ws *ws);
/* Frees a closed connection's memory. */
void hp__ws_conn_free(hp_ws *ws);

#endif
