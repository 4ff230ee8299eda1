/* One request and its response: the protocol-neutral part (exchange.c: the request, routing
 * by Host to a server and a route, the stats slice and counting, the body's consumer, the
 * end observers, the done callback), and the HTTP/1 framing around it, shared by session.c
 * (parsing, lifecycle) and response.c (the hp_respond* functions). The struct keeps the two
 * in separate blocks; a later HTTP/2 would take the first as its stream's base.
 *
 * Exchanges are recycled through the worker's freelist: the fields before `head` are zeroed
 * on reuse, the buffers after it (`extra`, `body`, `path_buf`) keep their capacity so the
 * steady state does not allocate. Every hp_str in `req` points into the session's read buffer,
 * which does not move while the exchange lives (the session only compacts between exchanges),
 * except `req.path`, the normalized path, which points into `path_buf`. */
#ifndef HP_HTTP_EXCHANGE_H
#define HP_HTTP_EXCHANGE_H

#include "hostpool/handler.h"
#include "hostpool/upgrade.h"
#include "http/compress.h"
#include "http/encoder.h"
#include "http/rate_guard.h"
#include "http/session.h"

#include <time.h>

#define HP__INLINE_HEADERS 24

typedef enum {
    HP__AFTER_NOTHING, /* an interim write (100 Continue): nothing follows */
    HP__AFTER_FINISH,  /* the response is complete */
    HP__AFTER_PROCEED, /* ask the stream producer for more */
    HP__AFTER_FILE,    /* continue sending the file */
    HP__AFTER_ENCODE,  /* continue encoding the input in hand (http/encoder.h) */
} hp__after_write;

#define HP__UPSTREAM_LOG_LEN 64 /* an upstream target's address, as the access log shows it */

struct hp__exchange {
    /* ---- protocol-neutral (exchange.c): what an HTTP/2 stream would carry as well ---- */
    hp_request req;
    const hp_server *server;    /* routed by Host when the head is complete; NULL before */
    hp__stats_slice *slice;     /* once routed: its server's slice, which counts it in flight */
    hp_handler *handler;        /* the route's, when the head is complete; NULL: 404 or 405 */
    bool method_mismatch;       /* no route for the method, one for the path */
    uint8_t refused;            /* a guard refused it at routing: hp__refused_reason + 1 */
    _Atomic uint64_t *admitted; /* the server's `answering` counting it (max_in_flight) */
    bool handler_called;        /* the handler has the request */
    bool responded;
    uint64_t start_ns;  /* the first byte parsed (CLOCK_MONOTONIC): for the duration */
    uint64_t bytes_in;  /* request bytes parsed, head and body */
    uint64_t bytes_out; /* response bytes handed to the transport */
    int status;
    uint64_t body_bytes; /* body bytes answered, for the access log */
    hp_done_cb done_cb;
    void *done_data;
    /* The response header rules of its route (else of its server), or NULL. */
    const hp__header_rules *headers;
    char request_id[HP__REQUEST_ID_LEN];
    char upstream[HP__UPSTREAM_LOG_LEN]; /* the target that answered, for the access log */
    /* The body. Every handler reads it through a consumer (hp_request_body_pull); the one
     * that wants it whole (hp_request_body_read_all, which the engine uses for handlers that
     * do not stream) gets it in `body` and is called at the end (whole_body_cb). */
    bool streamed;    /* the handler was called at the head and pulls the body */
    bool body_wanted; /* a pull waits for its piece */
    bool body_ended;  /* the consumer heard the end or an error: no call follows */
    const hp_body_consumer *consumer;
    void *consumer_data;
    uint64_t body_received;
    hp_body_complete_cb whole_body_cb;
    void *whole_body_data;
    /* The response's source: a producer's stream or a file. */
    const hp_body_producer *producer;
    void *producer_data;
    bool stream_last;
    bool head_held;      /* hp_respond_stream_with: the head goes out with the first piece */
    int64_t stream_left; /* body bytes a fixed-length stream still owes; -1: not fixed */
    bool in_proceed, proceed_again, finish_pending, aborted;
    int file_fd;
    uint64_t file_offset, file_remaining;
    char *file_chunk;
    size_t file_chunk_cap;
    const hp_upgrade_protocol *upgrade; /* set by hp_request_upgrade: switch when written */
    void *upgrade_data;
    /* Compression (http/compress_plan.h): the route's policy, NULL when it has none (then
     * nothing of it is touched, here or in the encoding block below `head`). */
    const hp__compress *compress;
    uint8_t planned; /* hp__compress_choose's answer + 1; 0: not asked */
    bool encode_file;

    /* ---- HTTP/1 framing (session.c, response.c) ---- */
    hp__session *s;
    uint32_t head_end; /* rbuf offset after the last byte `req` points to */
    uint32_t header_cap;
    bool field_open; /* a header name is being received */
    bool headers_done;
    bool message_done;
    bool keep_alive;
    bool expect_continue;  /* 100 Continue is owed at the first read of the body */
    bool upgrade_asked;    /* HTTP/1.1 with Upgrade and Connection: upgrade (RFC 9110 §7.8) */
    bool timer_armed;      /* the header timer runs for this request */
    bool after_piece;      /* llhttp paused at a piece: its message end may need no byte */
    uint16_t fields_seen;  /* the fields read once that came (session.c), one bit each */
    uint16_t error_status; /* the answer a parser callback decided on (4xx/5xx) */
    const char *piece;     /* parsed, not yet given to the consumer: [piece, piece + piece_len) */
    uint32_t piece_len;
    bool close_after;
    bool chunked;
    bool no_body;
    uint8_t after_write; /* hp__after_write */
    unsigned writes_pending;
    size_t head_len;
    size_t extra_len;
    char chunk_line[20];
    char error_body[48]; /* "404 Not Found\n" */

    /* ---- kept across reuse (not zeroed) ---- */
    char head[400]; /* HTTP/1: the engine's part of the response head */
    /* Encoding, used only when `compress` is set, and left NULL by the release of an exchange
     * that used them (so an exchange without compression never writes them). An encoded
     * stream or file goes through `encoder`, its input [enc_in, enc_in + enc_in_len) borrowed
     * from the producer (or a file chunk) until used up, its output in `encoded` (a worker
     * buffer, also a whole body's encoded form). */
    hp__encoder *encoder;
    const char *enc_in;
    size_t enc_in_len;
    char *encoded;
    size_t encoded_cap;
    /* A rate limit's refusal (`refused`): set with it, read only when it is set. */
    const hp__rate_guard *refused_by;
    hp__rate_decision refusal;
    char *extra; /* HTTP/1: handler headers "Name: value\r\n"..., then "\r\n" */
    size_t extra_cap;
    char *body;
    size_t body_cap;
    char *path_buf; /* req.path, normalized (core/url_path.h); grown to fit, then kept */
    size_t path_cap;
    hp_header *heap_headers; /* when more than HP__INLINE_HEADERS */
    hp_header inline_headers[HP__INLINE_HEADERS];
};

/* exchange.c: the protocol-neutral part */
/* An exchange from the worker's freelist (or new), zeroed up to `head`. */
hp__exchange *hp__exchange_new(hp__http_context *ctx);
/* Returns an exchange to the worker's freelist (or frees it). */
void hp__exchange_release(hp__http_context *ctx, hp__exchange *x);
/* Routes the request by its Host through `vhosts` (false: no server claims it) and, on the
 * server, by path and method to a handler (x->handler; NULL: 404 or 405); counts it in
 * flight on the server's slice for `worker`. */
bool hp__exchange_route(hp__exchange *x, const hp__vhosts *vhosts, unsigned worker);
/* Answers a request a guard refused at routing (x->refused) and counts it. */
void hp__exchange_refuse(hp__exchange *x);
/* Moves a routed request whose handler has it, and has not read its body nor answered, to the
 * server `host` reaches through `vhosts` (its in-flight count moves with it) and gives it to
 * that server's handler: at once when the handler streams, else once the whole body is read;
 * 404 or 405 when no route of that server matches. False (nothing changed) when no server
 * other than the request's own claims `host`. */
bool hp__exchange_reroute(hp__exchange *x, const hp__vhosts *vhosts, hp_str host, unsigned worker);
/* Calls the handler `data` with the request: what waits for the whole body by default. */
void hp__exchange_call_handler(hp_request *req, void *data);
/* The metrics' exchange end observer (context.h; `data` is the worker's context): counts `x`
 * for its server's slice on this worker, and no longer in flight. */
void hp__exchange_count(void *data, const hp__exchange *x, bool answered, uint64_t end_ns);

/* The small steps of every request, inline: they run once per request on the hot path. */

/* Makes `cb(req, data)` the one called when the whole body is in req.body. */
static inline void hp__body_read_all(hp__exchange *x, hp_body_complete_cb cb, void *data)
{
    x->whole_body_cb = cb;
    x->whole_body_data = data;
}

/* The one path of a handler that does not stream: it gets the request with the whole body. */
static inline void hp__exchange_read_whole_body(hp__exchange *x)
{
    if (x->handler) hp__body_read_all(x, hp__exchange_call_handler, x->handler);
}

/* Gives the request a generated X-Request-Id unless the client sent a sane one. */
static inline void hp__exchange_give_request_id(hp__http_context *ctx, hp__exchange *x)
{
    if (x->req.request_id.base) return;
    hp__http_request_id(ctx, x->request_id);
    x->req.request_id = (hp_str){x->request_id, HP__REQUEST_ID_LEN};
}

/* CLOCK_MONOTONIC in nanoseconds: the start and the end of an exchange. */
static inline uint64_t hp__exchange_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tells every observer (context.h) that `x` ended. Call it before exchange_ended: once a
 * draining server hears of its last exchange it may be freed. */
static inline void hp__exchange_observe(hp__http_context *ctx, hp__exchange *x, bool answered,
                                        uint64_t end_ns)
{
    const hp__exchange_observer *o = ctx->observers, *end = o + ctx->observer_count;
    for (; o < end; o++) o->ended(o->data, x, answered, end_ns);
}

/* Why an ended exchange was not answered in full, as the hooks and the journal tell it: NULL
 * when it was; "aborted" when its response had begun (the handler or a proxy gave up after
 * the head, or the connection failed while it was written); "connection lost" when none had
 * (the client went away, or the handler never answered). */
static inline const char *hp__exchange_error(const hp__exchange *x, bool answered)
{
    if (answered) return NULL;
    return x->status ? "aborted" : "connection lost";
}

/* session.c: HTTP/1 */
/* The server whose settings apply to `x`: its routed server, else the head server. */
static inline const hp_server *hp__exchange_server(const hp__exchange *x)
{
    return x->server ? x->server : (*x->s->vhosts)->head;
}
void hp__exchange_finish(hp__session *s, bool ok);
void hp__session_fail(hp__session *s, int status);
/* Parses and runs what the read buffer holds (after a pull, or a switch to reading it all). */
void hp__session_process(hp__session *s);
/* request_body.c */ /* Writes the interim 100 Continue the client waits for; < 0 when the
                        connection failed. */
int hp__body_write_continue(hp__exchange *x);
/* Gives the parsed piece (x->piece) to the consumer that waits for it, then drops its bytes. */
void hp__body_deliver_piece(hp__exchange *x);
/* Tells the waiting consumer the body ended. */
void hp__body_deliver_end(hp__exchange *x);
/* Tells the consumer, if the handler pulled and the body has not ended, that it never will. */
void hp__body_failed(hp__exchange *x, int err);
/* response.c */
void hp__exchange_write_done(hp__exchange *x);
/* Makes room for `more` bytes after the handler's headers in x->extra. */
void hp__exchange_extra_reserve(hp__exchange *x, size_t more);

#endif
