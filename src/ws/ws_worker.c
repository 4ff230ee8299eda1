/* A WebSocket handler's state on one worker (ws_worker.h). */
#include "ws/ws_worker.h"

#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Gives wslay the rest of the frame being fed; -1 (wslay: "want read") when it is all given,
 * which a whole frame never reaches. */
static ssize_t feed(uint8_t *buf, size_t len, int flags, void *user)
{
    hp__ws_worker *w = user;
    if (w->in_len == 0) return -1;
    size_t n = len < w->in_len ? len : w->in_len;
    memcpy(buf, w->in, n);
    w->in += n;
    w->in_len -= n;
    return (ssize_t)n;
}

static wslay_frame_context_ptr reader_create(hp__ws_worker *w)
{
    static const struct wslay_frame_callbacks callbacks = {.recv_callback = feed};
    wslay_frame_context_ptr ctx;
    if (wslay_frame_context_init(&ctx, &callbacks, w) != 0) {
        fputs("hostpool: out of memory\n", stderr);
        abort();
    }
    return ctx;
}

static void flush_dirty(uv_check_t *check)
{
    hp__ws_worker *w = check->data;
    while (w->dirty) {
        hp_ws *ws = w->dirty;
        w->dirty = ws->next_dirty;
        ws->next_dirty = NULL;
        ws->dirty = false;
        if (ws->closed)
            hp__ws_conn_free(ws);
        else
            hp__ws_conn_flush(ws); /* may mark it dirty again only from a later callback */
    }
    uv_check_stop(check);
}

hp__ws_worker *hp__ws_worker_create(const hp__ws_config *config, hp_worker *worker)
{
    hp__ws_worker *w = HP_NEW(hp__ws_worker);
    w->config = config;
    w->worker = worker;
    w->reader = reader_create(w);
    w->flush = HP_NEW(uv_check_t);
    uv_check_init(hp_worker_loop(worker), w->flush);
    w->flush->data = w;
    w->stats = hp__ws_stats_slice_of((hp__ws_stats *)&config->stats, hp_worker_index(worker));
    return w;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void hp__ws_worker_destroy(hp__ws_worker *w)
{
    while (w->dirty) {
        hp_ws *ws = w->dirty;
        w->dirty = ws->next_dirty;
        ws->dirty = false;
        if (ws->closed) hp__ws_conn_free(ws);
    }
    uv_close((uv_handle_t *)w->flush, free_handle);
    wslay_frame_context_free(w->reader);
    hp__ws_deflate_destroy(w->deflate);
    hp__ws_frame_unref(w->deflated_from);
    hp__ws_frame_unref(w->deflated);
    free(w);
}

hp_worker *hp__ws_worker_of(const hp__ws_worker *w)
{
    return w->worker;
}

void *hp__ws_worker_pubsub(const hp__ws_worker *w)
{
    return w->pubsub;
}

void hp__ws_worker_set_pubsub(hp__ws_worker *w, void *pubsub)
{
    w->pubsub = pubsub;
}

void hp__ws_worker_mark_dirty(hp__ws_worker *w, hp_ws *ws)
{
    if (ws->dirty) return;
    ws->dirty = true;
    ws->next_dirty = w->dirty;
    w->dirty = ws;
    if (!uv_is_active((uv_handle_t *)w->flush)) uv_check_start(w->flush, flush_dirty);
}

hp__ws_deflate *hp__ws_worker_deflate(hp__ws_worker *w)
{
    if (!w->deflate) w->deflate = hp__ws_deflate_create();
    return w->deflate;
}

hp__ws_frame *hp__ws_worker_compressed(hp__ws_worker *w, hp__ws_frame *frame)
{
    if (w->deflated_from != frame) {
        const unsigned char *bytes;
        size_t len;
        hp__ws_deflate_compress(hp__ws_worker_deflate(w), hp__ws_frame_payload(frame),
                                hp__ws_frame_payload_len(frame), &bytes, &len);
        hp__ws_frame_unref(w->deflated_from);
        hp__ws_frame_unref(w->deflated);
        w->deflated_from = hp__ws_frame_ref(frame);
        w->deflated = hp__ws_frame_create(frame->opcode, bytes, len, true);
    }
    return hp__ws_frame_ref(w->deflated);
}

int hp__ws_worker_parse(hp__ws_worker *w, hp_ws *ws, const unsigned char *bytes, size_t len,
                        hp__ws_chunk_cb chunk)
{
    w->in = bytes;
    w->in_len = len;
    uint64_t got = 0;
    bool first = true, going = true;
    struct wslay_frame_iocb iocb;
    do {
        ssize_t r = wslay_frame_recv(w->reader, &iocb);
        if (r < 0) {
            wslay_frame_context_free(w->reader); /* it may hold the rest of the frame */
            w->reader = reader_create(w);
            return -1;
        }
        got += (uint64_t)r;
        if (going) going = chunk(ws, &iocb, first);
        first = false;
    } while (got < iocb.payload_length);
    w->in_len = 0;
    return 0;
}
