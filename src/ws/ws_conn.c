/* A WebSocket connection (ws_conn.h): the handshake's answer, frames in, the message layer of
 * RFC 6455, frames out with back-pressure, timers and the close handshake.
 *
 * States: open → closing (a close frame sent: close_sent; or received: close_received) →
 * closed (the upgraded stream's on_close). After a close frame is received nothing more is
 * read; after one is sent nothing but the peer's close is awaited, for CLOSE_WAIT_MS at most,
 * then the stream is aborted (a client that stopped reading never takes the close frame).
 * Failing the connection (a protocol error: 1002, 1007, 1009) sends the close frame and closes
 * once it is written, without waiting for the peer's (RFC 6455 §7.1.7).
 *
 * Timer (the stream's one): while open, it fires at the next of idle_timeout (close 1001) and
 * ping_interval (a ping), counted from the last frame received; while closing, at the close
 * deadline.
 *
 * Memory: `partial` exists while a frame is incomplete, `message` while a fragmented (or
 * compressed) message is, `frames` while frames are queued or in flight: an idle connection
 * holds only its struct. `depth` keeps the struct alive while a call of this file is on the
 * stack; on_close frees it when none is and the worker's flush does not hold it (`dirty`).
 *
 * Threads: the connection's worker only. */
#include "ws/ws_conn.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "ws/ws_handshake.h"
#include "ws/ws_topics.h"
#include "ws/ws_worker.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLOSE_WAIT_MS 3000
/* Data frames smaller than this go out uncompressed (RFC 7692 allows either per message):
 * deflate makes them bigger. */
#define DEFLATE_MIN 32
#define IOV_BATCH 64

static _Atomic uint64_t last_id;

static void enter(hp_ws *ws)
{
    ws->depth++;
}

static void leave(hp_ws *ws)
{
    if (--ws->depth == 0 && ws->closed && !ws->dirty) hp__ws_conn_free(ws);
}

static uint64_t now_ms(const hp_ws *ws)
{
    return hp_worker_now(hp__ws_worker_of(ws->w));
}

/* ---- writing ------------------------------------------------------------------------------ */

static void queue_frame(hp_ws *ws, hp__ws_frame *frame)
{
    if (ws->frame_count == ws->frame_cap) {
        ws->frame_cap = ws->frame_cap ? 2 * ws->frame_cap : 4;
        ws->frames = hp__realloc(ws->frames, ws->frame_cap * sizeof *ws->frames);
    }
    ws->frames[ws->frame_count++] = hp__ws_frame_ref(frame);
    hp__counter_add(&ws->queued_bytes, frame->len);
    hp__counter_add(&ws->w->stats->bytes_out, frame->len);
    hp__counter_add(&ws->bytes_out, frame->len);
    if (ws->u) hp__ws_worker_mark_dirty(ws->w, ws);
}

/* Drops the frames [0, n) of the queue (written). */
static void drop_frames(hp_ws *ws, uint32_t n)
{
    if (n == 0) return;
    for (uint32_t i = 0; i < n; i++) {
        hp__counter_sub(&ws->queued_bytes, ws->frames[i]->len);
        hp__ws_frame_unref(ws->frames[i]);
    }
    ws->frame_count -= n;
    memmove(ws->frames, ws->frames + n, ws->frame_count * sizeof *ws->frames);
    if (ws->frame_count == 0) {
        free(ws->frames);
        ws->frames = NULL;
        ws->frame_cap = 0;
    }
}

/* Writes the queued frames, IOV_BATCH to a writev: while open, one write in flight at a time
 * (on_write_done drops its frames); with `all` (the stream closes next, and on_close drops
 * them) every frame now. `u` may close inside (a failed write: on_close has run then).
 * Returns false when it did. */
static bool write_queued(hp_ws *ws, bool all)
{
    while (ws->in_flight < ws->frame_count && (all || ws->in_flight == 0)) {
        struct iovec iov[IOV_BATCH];
        uint32_t n = 0, first = ws->in_flight;
        while (n < IOV_BATCH && first + n < ws->frame_count) {
            hp__ws_frame *f = ws->frames[first + n];
            iov[n++] = (struct iovec){f->bytes, f->len};
        }
        ws->in_flight += n;
        int rc = hp_upgraded_writev(ws->u, iov, n);
        if (rc < 0) return false;
        if (rc == 1 && !all) { /* written at once: nothing waits for it */
            drop_frames(ws, ws->in_flight);
            ws->in_flight = 0;
        }
    }
    return true;
}

void hp__ws_conn_flush(hp_ws *ws)
{
    /* One write in flight at a time while open: the frames queued meanwhile go out together
     * when it is done. */
    if (ws->closed || ws->in_flight > 0) return;
    enter(ws);
    write_queued(ws, false);
    leave(ws);
}

/* ---- closing ------------------------------------------------------------------------------ */

/* Sends a close frame with `code` (once) and writes everything queued now. */
static void send_close(hp_ws *ws, uint16_t code, const char *reason)
{
    if (ws->close_sent) return;
    if (!ws->close_code) ws->close_code = code;
    hp__ws_frame *f = hp__ws_frame_close(code, reason);
    queue_frame(ws, f);
    hp__ws_frame_unref(f);
    ws->close_sent = true;
}

/* After the close frame: wait for the peer's close (the frame goes out with the next flush),
 * or write everything now and close the stream once it is written. Either way for
 * CLOSE_WAIT_MS at most: a peer that does not read never takes the close frame. */
static void after_close_sent(hp_ws *ws, bool wait_for_peer)
{
    if (!ws->u || ws->closed) return; /* not open yet: on_open does it */
    hp_upgraded_set_timer(ws->u, CLOSE_WAIT_MS);
    if (wait_for_peer && !ws->close_received) return;
    if (write_queued(ws, true)) hp_upgraded_close(ws->u);
}

/* Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, then closed. */
static void fail(hp_ws *ws, uint16_t code)
{
    ws->close_received = true; /* nothing more is read */
    send_close(ws, code, NULL);
    after_close_sent(ws, false);
}

/* Starts the close handshake with `code`. */
static void start_close(hp_ws *ws, uint16_t code, const char *reason)
{
    if (ws->close_sent || ws->closed) return;
    send_close(ws, code, reason);
    after_close_sent(ws, true);
}

/* A close code a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1014, 3000-4999. */
static bool close_code_valid(uint16_t code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static void on_close_frame(hp_ws *ws, const unsigned char *payload, size_t len)
{
    uint16_t code = 1005; /* no status: an empty close frame */
    if (len == 1) {
        fail(ws, 1002);
        return;
    }
    if (len >= 2) {
        code = (uint16_t)(payload[0] << 8 | payload[1]);
        hp__utf8 reason;
        hp__utf8_init(&reason);
        if (!close_code_valid(code)) {
            fail(ws, 1002);
            return;
        }
        if (!hp__utf8_feed(&reason, payload + 2, len - 2) || !hp__utf8_complete(&reason)) {
            fail(ws, 1007);
            return;
        }
    }
    ws->close_received = true;
    if (ws->close_sent) { /* the answer to ours */
        after_close_sent(ws, false);
        return;
    }
    ws->close_code = code;
    send_close(ws, code == 1005 ? 1000 : code, NULL);
    after_close_sent(ws, false);
}

/* ---- sending ------------------------------------------------------------------------------ */

static bool is_data(uint8_t opcode)
{
    return opcode == HP__WS_TEXT || opcode == HP__WS_BINARY;
}

int hp__ws_send_frame(hp_ws *ws, hp__ws_frame *frame)
{
    if (ws->closed || ws->close_sent || ws->close_received) return HP_ESTATE;
    hp__ws_frame *out = frame, *own = NULL; /* own: the compressed copy, ours to release */
    if (ws->deflate && is_data(frame->opcode) && !frame->compressed &&
        hp__ws_frame_payload_len(frame) >= DEFLATE_MIN)
        out = own = hp__ws_worker_compressed(ws->w, frame);
    int rc = 0;
    uint64_t queued = atomic_load_explicit(&ws->queued_bytes, memory_order_relaxed);
    if (queued + out->len > ws->config->options.max_backpressure) {
        rc = HP_ELIMIT;
        if (ws->config->options.on_backpressure == HP_WS_BACKPRESSURE_DROP) {
            hp__counter_add(&ws->w->stats->dropped, 1);
        } else {
            enter(ws);
            start_close(ws, 1008, "back-pressure");
            leave(ws);
        }
    } else {
        queue_frame(ws, out);
        if (is_data(out->opcode)) {
            hp__counter_add(&ws->messages_out, 1);
            hp__counter_add(&ws->w->stats->messages_out, 1);
        }
    }
    hp__ws_frame_unref(own);
    return rc;
}

/* A ping or a pong, under max_backpressure as any frame: a peer that pings and never reads
 * cannot grow its queue. */
static void send_control(hp_ws *ws, uint8_t opcode, const void *payload, size_t len)
{
    hp__ws_frame *f = hp__ws_frame_create(opcode, payload, len, false);
    hp__ws_send_frame(ws, f);
    hp__ws_frame_unref(f);
}

/* ---- reading: messages -------------------------------------------------------------------- */

static void message_reset(hp_ws *ws)
{
    free(ws->message);
    ws->message = NULL;
    ws->message_len = ws->message_cap = 0;
    ws->message_opcode = 0;
    ws->message_compressed = false;
}

static void message_append(hp_ws *ws, const void *bytes, size_t len)
{
    if (ws->message_len + len > ws->message_cap) {
        size_t cap = ws->message_cap ? ws->message_cap : 256;
        while (cap < ws->message_len + len) cap *= 2;
        ws->message = hp__realloc(ws->message, cap);
        ws->message_cap = (uint32_t)cap;
    }
    memcpy(ws->message + ws->message_len, bytes, len);
    ws->message_len += (uint32_t)len;
}

static void deliver(hp_ws *ws, const void *bytes, size_t len, bool binary)
{
    hp__counter_add(&ws->messages_in, 1);
    hp__counter_add(&ws->w->stats->messages_in, 1);
    const hp__ws_config *c = ws->config;
    if (c->callbacks.on_message) c->callbacks.on_message(ws, bytes, len, binary, c->data);
}

/* The message is whole: expand it (permessage-deflate), check its text, hand it over. */
static void message_done(hp_ws *ws)
{
    const unsigned char *bytes = ws->message;
    size_t len = ws->message_len;
    bool binary = ws->message_opcode == HP__WS_BINARY;
    if (ws->message_compressed) {
        int rc = hp__ws_deflate_expand(hp__ws_worker_deflate(ws->w), bytes, len,
                                       ws->config->options.max_message, &bytes, &len);
        if (rc != 0) {
            fail(ws, rc == HP_ELIMIT ? 1009 : 1007);
            return;
        }
        hp__utf8_init(&ws->utf8);
        if (!binary && !hp__utf8_feed(&ws->utf8, bytes, len)) {
            fail(ws, 1007);
            return;
        }
    }
    if (!binary && !hp__utf8_complete(&ws->utf8)) {
        fail(ws, 1007);
        return;
    }
    deliver(ws, bytes, len, binary);
    message_reset(ws);
}

/* ---- reading: frames (wslay's parse, RFC 6455's rules) ------------------------------------ */

static bool opcode_known(uint8_t opcode)
{
    return opcode <= HP__WS_BINARY || (opcode >= HP__WS_CLOSE && opcode <= HP__WS_PONG);
}

/* The checks of a frame's header, at its first piece; false after failing the connection. */
static bool frame_start(hp_ws *ws, const struct wslay_frame_iocb *f)
{
    bool data = !(f->opcode & 0x8);
    bool starts_message = f->opcode == HP__WS_TEXT || f->opcode == HP__WS_BINARY;
    uint8_t allowed_rsv = ws->deflate && starts_message ? WSLAY_RSV1_BIT : 0;
    if (!f->mask || !opcode_known(f->opcode) || (f->rsv & ~allowed_rsv)) {
        fail(ws, 1002);
        return false;
    }
    if (!data) return true;
    if (ws->close_sent) return false;                  /* after our close, data is dropped */
    if (starts_message == (ws->message_opcode != 0)) { /* a new message inside one, or a
                                                          continuation outside any */
        fail(ws, 1002);
        return false;
    }
    if ((uint64_t)ws->message_len + f->payload_length > ws->config->options.max_message) {
        fail(ws, 1009);
        return false;
    }
    if (starts_message) {
        ws->message_opcode = f->opcode;
        ws->message_compressed = (f->rsv & WSLAY_RSV1_BIT) != 0;
        hp__utf8_init(&ws->utf8);
    }
    return true;
}

/* The payload of the control frame being read (at most 125 bytes). */
typedef struct control_payload {
    unsigned char bytes[125];
    size_t len;
} control_payload;

static _Thread_local control_payload control;

static bool frame_chunk(hp_ws *ws, const struct wslay_frame_iocb *f, bool first)
{
    if (first) {
        control.len = 0;
        if (!frame_start(ws, f)) return false;
    }
    if (f->opcode & 0x8) {
        memcpy(control.bytes + control.len, f->data, f->data_length);
        control.len += f->data_length;
        return true;
    }
    bool text = ws->message_opcode == HP__WS_TEXT && !ws->message_compressed;
    if (text && !hp__utf8_feed(&ws->utf8, f->data, f->data_length)) {
        fail(ws, 1007);
        return false;
    }
    bool whole = f->fin && f->opcode != HP__WS_CONTINUATION && !ws->message_compressed &&
                 f->data_length == f->payload_length;
    if (whole) { /* the common case: one frame, in wslay's buffer: no copy */
        if (text && !hp__utf8_complete(&ws->utf8)) {
            fail(ws, 1007);
            return false;
        }
        deliver(ws, f->data, f->data_length, ws->message_opcode == HP__WS_BINARY);
        message_reset(ws);
        return true;
    }
    message_append(ws, f->data, f->data_length);
    return true;
}

/* A whole frame: parse it, then act on a control frame or a message's end. */
static void frame_received(hp_ws *ws, const unsigned char *bytes, size_t len)
{
    hp__ws_worker *w = ws->w;
    hp__counter_add(&w->stats->bytes_in, len);
    hp__counter_add(&ws->bytes_in, len);
    ws->last_read_ms = now_ms(ws);
    ws->ping_sent = false;
    bool fin = (bytes[0] & 0x80) != 0;
    uint8_t opcode = bytes[0] & 0x0f;
    bool close_before = ws->close_sent;
    if (hp__ws_worker_parse(w, ws, bytes, len, frame_chunk) != 0) {
        fail(ws, 1002);
        return;
    }
    if (ws->close_received || ws->closed || (ws->close_sent && !close_before)) return;
    if (opcode == HP__WS_PING) {
        if (!ws->close_sent) send_control(ws, HP__WS_PONG, control.bytes, control.len);
    } else if (opcode == HP__WS_CLOSE) {
        on_close_frame(ws, control.bytes, control.len);
    } else if (opcode == HP__WS_PONG || ws->close_sent) {
        /* a pong needs nothing; after our close only the peer's close matters */
    } else if (fin && ws->message_opcode) {
        message_done(ws);
    }
}

/* A frame longer than a connection may hold: 1009, or 1002 for a control frame (which may
 * carry 125 bytes at most). */
static void frame_too_long(hp_ws *ws, unsigned char first_byte)
{
    fail(ws, (first_byte & 0x08) ? 1002 : 1009);
}

static uint64_t frame_limit(const hp_ws *ws)
{
    return ws->config->options.max_message + HP__WS_HEADER_MAX;
}

static void partial_reset(hp_ws *ws)
{
    free(ws->partial);
    ws->partial = NULL;
    ws->partial_len = ws->partial_cap = 0;
}

static void partial_append(hp_ws *ws, const unsigned char *bytes, size_t len, uint64_t need)
{
    if (ws->partial_len + len > ws->partial_cap) {
        ws->partial_cap = (uint32_t)need;
        ws->partial = hp__realloc(ws->partial, need);
    }
    memcpy(ws->partial + ws->partial_len, bytes, len);
    ws->partial_len += (uint32_t)len;
}

/* Adds bytes to the incomplete frame: the header one byte at a time (a frame may be shorter
 * than the longest header), then up to the frame's end. Returns the bytes taken;
 * the frame, once complete, is handled. */
static size_t partial_fill(hp_ws *ws, const unsigned char *bytes, size_t len)
{
    size_t taken = 0;
    uint64_t frame_len;
    while (taken < len && !hp__ws_frame_peek(ws->partial, ws->partial_len, &frame_len))
        partial_append(ws, bytes + taken++, 1, HP__WS_HEADER_MAX);
    if (!hp__ws_frame_peek(ws->partial, ws->partial_len, &frame_len)) return taken;
    if (frame_len > frame_limit(ws)) {
        frame_too_long(ws, ws->partial[0]);
        return len;
    }
    size_t more = (size_t)(frame_len - ws->partial_len);
    if (more > len - taken) more = len - taken;
    partial_append(ws, bytes + taken, more, frame_len);
    taken += more;
    if (ws->partial_len == frame_len) {
        unsigned char *frame = ws->partial;
        ws->partial = NULL; /* handled: a new partial may start meanwhile */
        ws->partial_len = ws->partial_cap = 0;
        frame_received(ws, frame, (size_t)frame_len);
        free(frame);
    }
    return taken;
}

static bool reading(const hp_ws *ws)
{
    return !ws->closed && !ws->close_received;
}

static void on_read(hp_upgraded *u, void *data, const char *bytes, size_t len)
{
    hp_ws *ws = data;
    const unsigned char *p = (const unsigned char *)bytes;
    enter(ws);
    if (ws->partial && reading(ws)) {
        size_t taken = partial_fill(ws, p, len);
        p += taken, len -= taken;
    }
    while (len > 0 && reading(ws)) {
        uint64_t frame_len;
        bool known = hp__ws_frame_peek(p, len, &frame_len);
        if (known && frame_len > frame_limit(ws)) {
            frame_too_long(ws, p[0]);
            break;
        }
        if (!known || frame_len > len) {
            partial_append(ws, p, len, known ? frame_len : HP__WS_HEADER_MAX);
            break;
        }
        frame_received(ws, p, (size_t)frame_len);
        p += frame_len, len -= (size_t)frame_len;
    }
    leave(ws);
}

/* ---- the stream's other events ------------------------------------------------------------ */

static uint64_t remaining(uint64_t period, uint64_t elapsed)
{
    return period > elapsed ? period - elapsed : 1;
}

/* The timer for the next of idle_timeout and ping_interval, from the last frame received (the
 * frames themselves do not touch the timer: when it fires early, it is set again). With a
 * ping unanswered, it looks again a ping_interval later. */
static void arm_timer(hp_ws *ws)
{
    const hp_ws_options *o = &ws->config->options;
    uint64_t elapsed = now_ms(ws) - ws->last_read_ms, next = UINT64_MAX;
    if (o->idle_timeout_ms) next = remaining(o->idle_timeout_ms, elapsed);
    if (o->ping_interval_ms) {
        uint64_t ping =
            ws->ping_sent ? o->ping_interval_ms : remaining(o->ping_interval_ms, elapsed);
        if (ping < next) next = ping;
    }
    hp_upgraded_set_timer(ws->u, next == UINT64_MAX ? 0 : next);
}

static void on_timeout(hp_upgraded *u, void *data)
{
    hp_ws *ws = data;
    enter(ws);
    const hp_ws_options *o = &ws->config->options;
    uint64_t elapsed = now_ms(ws) - ws->last_read_ms;
    if (ws->close_sent || ws->close_received) {
        hp_upgraded_abort(u); /* the close deadline: the peer neither answered nor read */
    } else if (o->idle_timeout_ms && elapsed >= o->idle_timeout_ms) {
        start_close(ws, 1001, "idle");
    } else {
        if (o->ping_interval_ms && elapsed >= o->ping_interval_ms && !ws->ping_sent) {
            send_control(ws, HP__WS_PING, NULL, 0);
            ws->ping_sent = true;
        }
        arm_timer(ws);
    }
    leave(ws);
}

static void on_write_done(hp_upgraded *u, void *data)
{
    hp_ws *ws = data;
    enter(ws);
    drop_frames(ws, ws->in_flight);
    ws->in_flight = 0;
    if (ws->frame_count > 0) hp__ws_worker_mark_dirty(ws->w, ws);
    leave(ws);
}

/* The worker or the server drains: the close handshake with 1001 "going away". */
static void on_drain(hp_upgraded *u, void *data)
{
    hp_ws_close(data, 1001, NULL);
}

static void on_eof(hp_upgraded *u, void *data)
{
    hp_ws *ws = data;
    enter(ws);
    ws->close_received = true; /* nothing more comes: the peer is gone without a close */
    if (write_queued(ws, true)) hp_upgraded_close(u);
    leave(ws);
}

static void on_open(hp_upgraded *u, void *data)
{
    hp_ws *ws = data;
    enter(ws);
    ws->u = u;
    ws->last_read_ms = now_ms(ws);
    if (ws->close_sent) { /* closed by the program's on_open */
        after_close_sent(ws, !ws->close_received);
    } else {
        arm_timer(ws);
        if (ws->frame_count) hp__ws_worker_mark_dirty(ws->w, ws);
    }
    leave(ws);
}

static void stream_closed(hp_upgraded *u, void *data, int status)
{
    hp_ws *ws = data;
    enter(ws);
    ws->closed = true;
    uint16_t code = ws->close_code ? ws->close_code : 1006;
    hp__ws_worker *w = ws->w;
    hp__counter_sub(&w->stats->connections, 1);
    hp__counter_add(&w->stats->closes[hp__ws_close_slot(code)], 1);
    drop_frames(ws, ws->frame_count);
    ws->in_flight = 0;
    partial_reset(ws);
    message_reset(ws);
    hp__ws_topics_close(ws);
    const hp__ws_config *c = ws->config;
    if (c->callbacks.on_close) c->callbacks.on_close(ws, code, c->data);
    leave(ws);
}

static void cancelled(void *data)
{
    hp_ws *ws = data;
    drop_frames(ws, ws->frame_count);
    ws->closed = true;
    if (ws->opened) {
        hp__counter_sub(&ws->w->stats->connections, 1);
        hp__counter_add(&ws->w->stats->closes[hp__ws_close_slot(1006)], 1);
        hp__ws_topics_close(ws);
        if (ws->config->callbacks.on_close)
            ws->config->callbacks.on_close(ws, 1006, ws->config->data);
    }
    if (!ws->dirty) hp__ws_conn_free(ws);
}

static const hp_upgrade_protocol ws_protocol = {
    .on_open = on_open,
    .on_read = on_read,
    .on_eof = on_eof,
    .on_write_done = on_write_done,
    .on_timeout = on_timeout,
    .on_drain = on_drain,
    .on_close = stream_closed,
    .on_cancel = cancelled,
};

void hp__ws_conn_free(hp_ws *ws)
{
    free(ws);
}

/* ---- the handshake ------------------------------------------------------------------------ */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void refuse(hp_request *req, int status, const char *why)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"error\": \"%s\"}\n", why);
    if (status == 426) hp_response_header(req, "Sec-WebSocket-Version", 21, "13", 2);
    hp_response_header(req, "Content-Type", 12, "application/json", 16);
    hp_respond_copy(req, status, body, (size_t)n);
}

/* The 101 is written (ok): the connection is open, and the request is still readable for the
 * program's on_open; the stream's on_open follows at once. */
static void handshake_done(hp_request *req, bool ok, void *data)
{
    hp_ws *ws = data;
    if (!ok) return; /* on_cancel follows */
    ws->opened = true;
    hp__counter_add(&ws->w->stats->connections, 1);
    hp__ws_topics_open(ws);
    const hp__ws_config *c = ws->config;
    enter(ws);
    if (c->callbacks.on_open) c->callbacks.on_open(ws, req, c->data);
    ws->depth--; /* not leave(): the stream is not open yet, nothing can have closed it */
}

void hp__ws_accept(const hp__ws_config *config, hp__ws_worker *w, hp_request *req)
{
    hp__ws_handshake hs;
    const char *why;
    int status = hp__ws_handshake_check(req, &hs, &why);
    if (status != 0) {
        refuse(req, status, why);
        return;
    }
    hp_ws *ws = HP_NEW(hp_ws);
    ws->w = w;
    ws->config = config;
    ws->id = atomic_fetch_add_explicit(&last_id, 1, memory_order_relaxed) + 1;
    ws->connected_wall_ms = wall_ms();
    hp_request_client_ip(req, ws->client, sizeof ws->client);
    hp_response_header(req, "Sec-WebSocket-Accept", 20, hs.accept, HP__WS_ACCEPT_LEN);
    if (config->options.compression && hs.deflate) {
        ws->deflate = true;
        hp_response_header(req, "Sec-WebSocket-Extensions", 24, HP__WS_DEFLATE_RESPONSE,
                           sizeof HP__WS_DEFLATE_RESPONSE - 1);
    }
    hp_request_on_done(req, handshake_done, ws);
    if (hp_request_upgrade(req, "websocket", &ws_protocol, ws) != 0) {
        free(ws);
        hp_request_on_done(req, NULL, NULL);
        refuse(req, 400, "not an upgrade request");
    }
}

/* ---- the program's calls (websocket.h) ---------------------------------------------------- */

uint64_t hp_ws_id(const hp_ws *ws)
{
    return ws->id;
}

void hp_ws_set_user(hp_ws *ws, void *user)
{
    ws->user = user;
}

void *hp_ws_user(const hp_ws *ws)
{
    return ws->user;
}

hp_handler *hp_ws_handler(const hp_ws *ws)
{
    return ws->config->handler;
}

int hp_ws_send(hp_ws *ws, const void *bytes, size_t len, bool binary)
{
    if (ws->closed || ws->close_sent || ws->close_received) return HP_ESTATE;
    hp__ws_frame *f = hp__ws_frame_create(binary ? HP__WS_BINARY : HP__WS_TEXT, bytes, len, false);
    int rc = hp__ws_send_frame(ws, f);
    hp__ws_frame_unref(f);
    return rc;
}

void hp_ws_close(hp_ws *ws, uint16_t code, const char *reason)
{
    enter(ws);
    /* A code a peer may not receive (a reserved one, out of range) goes out as 1000. */
    start_close(ws, close_code_valid(code) ? code : 1000, reason);
    leave(ws);
}
