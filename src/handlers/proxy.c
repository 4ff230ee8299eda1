/* proxy: a reverse proxy to an upstream, streaming both ways (docs/PROXY.md).
 *
 * The upstream is the route's own (`to`: a running upstream the handler holds) or a named one
 * (found in the pool's registry through the worker, again whenever the registry's generation
 * moves). Per worker and handler, a side of the upstream's current version
 * (proxy_side): a picker (its balancer, kept in step with the targets' shared availability:
 * src/upstream/upstream.h) and a connection pool (src/io/upstream_pool.h); a side replaced by
 * a newer version is retired and freed with the last exchange using it. A freelist of
 * exchanges per worker. The only lock on the request path is the upstream's, taken to pick a
 * target and to report what it did.
 *
 * One exchange per proxied request, taken from the freelist (no allocation once warm):
 *
 *   admit (max_in_flight) → pick a target (skipping those out of rotation, and those already
 *   tried) → acquire a connection (an idle one, a new one, or a FIFO wait at
 *   max_connections, under max_pending) → write the request head → pull the request body
 *   piece by piece, each written before the next is pulled (a slow upstream slows the
 *   client: bounded memory) → the response is read into `rbuf` and parsed
 *   (src/http/upstream_response.h) → its head is held and goes out with the first piece
 *   (hp_respond_stream_with); then one body piece per proceed(): a piece is parsed out of
 *   `rbuf` only when the client took the previous one, and the upstream is read only while
 *   `rbuf` has room (a slow client slows the upstream) → at its end the connection goes back
 *   to the pool if the upstream keeps it alive, the whole request was written and nothing
 *   more came; else it is closed. The pick is reported once (end_pick): a failure (connect
 *   error, reset, malformed, timeout, 5xx), a success, or abandoned (the client left first).
 *
 * Failures before the response head answer 502 (cannot connect, closed or reset, malformed),
 * 503 (no target available, caps) or 504 (connect or first-byte timeout) with a body that
 * says which; after it, the client's connection is aborted (the status is gone). A failed
 * connect of an idempotent request is tried on another target (`retries`); a pooled
 * connection that fails before any response byte, while nothing of the body was sent, is
 * replaced by a fresh one once. A 101 to a request that asked hands both connections to the
 * tunnel (proxy_tunnel.h).
 *
 * Lifetime: the request is the engine's until the done callback; the exchange lives until
 * the done callback ran, no write of its is queued, and no callback of its is on the stack
 * (`busy`): then it goes back to the freelist. The client leaving closes the upstream
 * connection, never returned to the pool half-read, and cancels a wait for one.
 *
 * Threading: everything on the request's worker thread, but the upstream's shared state
 * (under its mutex, in upstream.c). */
#include "common/alloc.h"
#include "common/str.h"
#include "core/balance.h"
#include "handlers/kinds.h"
#include "handlers/proxy.h"
#include "handlers/proxy_tunnel.h"
#include "hostpool/errors.h"
#include "hostpool/handler.h"
#include "hostpool/server.h"
#include "http/field_syntax.h"
#include "http/upstream_response.h"
#include "io/socket.h"
#include "io/upstream_pool.h"
#include "io/worker_context.h"
#include "upstream/upstream.h"
#include "upstream/upstreams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_LIMIT (16u << 10)  /* a response head, interim ones included */
#define READ_BUFFER (64u << 10) /* > HEAD_LIMIT: a head always fits */
/* Exchanges kept for reuse per worker: about 70 KiB each, so a burst of proxied requests
 * (up to max_connections in flight) does not stay resident after it (the engine's own
 * freelists are bounded the same way). */
#define FREELIST_MAX 32
_Static_assert(READ_BUFFER > HEAD_LIMIT, "the response head must fit in the read buffer");
_Static_assert(HP_PROXY_MAX_TARGETS == HP__UPSTREAM_MAX_TARGETS, "one limit on targets");

typedef struct proxy_handler {
    hp_handler base;
    hp__upstream *inline_upstream; /* the route's own targets; NULL for a named upstream */
    char *upstream_name;           /* a named upstream, found at request time */
    hp_proxy_host host;
    char *host_name;
    uint64_t max_body_bytes;
} proxy_handler;

typedef struct proxy_exchange proxy_exchange;

/* A worker's side of one upstream version: its balancer and its connections. Replaced when
 * the upstream is (PUT /upstreams/{name}); the old side lives on, retired, until the last
 * exchange using it is recycled. */
typedef struct proxy_side {
    hp__upstream_picker picker;
    const hp__upstream_model *model; /* the version's */
    hp__upstream_pool *pool;
    char **authority; /* each target's Host for HP_PROXY_HOST_UPSTREAM */
    unsigned users;   /* exchanges using it */
    bool retired;
} proxy_side;

typedef struct proxy_worker {
    hp_worker *worker;
    proxy_side *side;    /* the current version's */
    uint64_t generation; /* of the pool's upstreams when `side` was found by name */
    proxy_exchange *free;
    unsigned free_count;
} proxy_worker;

typedef enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED } body_framing;

struct proxy_exchange {
    proxy_exchange *next_free;
    const proxy_handler *h;
    proxy_worker *pw;
    hp_request *req; /* NULL once the done callback ran */
    hp__upstream_conn *conn;
    hp_timer timer; /* first byte, then between reads of the body */
    uv_write_t write;
    /* kept across reuse */
    char *head; /* the request head for the upstream */
    size_t head_len, head_cap;
    char *piece; /* a body piece being written */
    size_t piece_cap;
    /* per request, zeroed from here */
    int busy; /* callbacks of this exchange on the stack */
    proxy_side *side;
    hp__upstream_pick pick;
    hp__upstream_outcome outcome; /* what the pick's report will say: known at the head */
    uint64_t tried;               /* targets tried and failed, a bit each */
    unsigned attempts;
    uint32_t retry_after_s; /* for a 503 */
    bool picked, entered, waiting;
    bool head_held; /* the response's head waits for its first piece: one write for both */
    int head_status;
    int64_t head_length;
    hp__upstream_wait wait; /* for a connection, at the target's max_connections */
    body_framing body;
    uint64_t body_sent;
    uint32_t rparsed, rend;
    int fail_status; /* a failure waiting for the cancelled write's callback */
    const char *fail_text;
    char chunk_line[24];
    bool writing, body_pulled, request_sent, responded, client_ready, pumping, again;
    bool reading, upstream_eof, finished, retried, failure_pending, fail_retryable;
    hp__upstream_response resp;
    char rbuf[READ_BUFFER];
};

#define EXCHANGE_RESET_FROM offsetof(proxy_exchange, busy)
#define EXCHANGE_RESET_LEN (offsetof(proxy_exchange, resp) - EXCHANGE_RESET_FROM)

static const hp_body_consumer body_consumer;
static const hp_body_producer body_producer;
static void pump(proxy_exchange *px);
static void send_head(proxy_exchange *px);
static void on_connected(hp__upstream_conn *conn, int status, void *data);
static void wait_upstream(proxy_exchange *px, uint64_t ms);
static void attempt(proxy_exchange *px);

/* ---- a worker's side of an upstream version ------------------------------------------------- */

/* The Host a target is reached by: its address as written, "localhost" for a unix socket. */
static char *authority_of(const char *to)
{
    return hp__strdup(strncmp(to, "unix:", 5) == 0 ? "localhost" : to);
}

static proxy_side *side_create(hp_worker *worker, hp__upstream *u)
{
    proxy_side *s = HP_NEW(proxy_side);
    hp__upstream_picker_init(&s->picker, u);
    const hp__upstream_model *m = s->model = hp__upstream_model_of(u);
    struct sockaddr_storage addrs[HP__UPSTREAM_MAX_TARGETS];
    s->authority = hp__calloc(m->target_count, sizeof *s->authority);
    for (size_t i = 0; i < m->target_count; i++) {
        addrs[i] = m->targets[i].addr;
        s->authority[i] = authority_of(m->targets[i].address);
    }
    hp__upstream_pool_options po = {
        .keepalive = m->keepalive,
        .connect_timeout_ms = m->connect_timeout_ms,
        .idle_timeout_ms = m->idle_timeout_ms,
        .figures = hp__upstream_figures(u, 0),
        .max_connections = m->max_connections,
        .max_requests = m->max_requests,
        .acquire_timeout_ms = m->acquire_timeout_ms,
    };
    s->pool = hp__upstream_pool_create(worker, addrs, m->target_count, &po);
    return s;
}

/* Nothing uses it any more: its connections are idle or gone. */
static void side_destroy(proxy_side *s)
{
    hp__upstream_pool_destroy(s->pool);
    for (size_t i = 0; i < s->model->target_count; i++) free(s->authority[i]);
    free(s->authority);
    hp__upstream_picker_close(&s->picker);
    free(s);
}

static void side_put(proxy_side *s)
{
    if (--s->users == 0 && s->retired) side_destroy(s);
}

static void side_retire(proxy_side *s)
{
    s->retired = true;
    hp__upstream_pool_drain(s->pool);
    if (s->users == 0) side_destroy(s);
}

/* ---- the exchange's lifetime ---------------------------------------------------------------- */

static proxy_exchange *exchange_take(proxy_worker *pw)
{
    proxy_exchange *px = pw->free;
    if (px) {
        pw->free = px->next_free;
        pw->free_count--;
    } else {
        px = hp__malloc(sizeof *px);
        memset(px, 0, offsetof(proxy_exchange, resp));
    }
    memset((char *)px + EXCHANGE_RESET_FROM, 0, EXCHANGE_RESET_LEN);
    px->pw = pw;
    return px;
}

static void exchange_free(proxy_exchange *px)
{
    free(px->head);
    free(px->piece);
    free(px);
}

static void enter(proxy_exchange *px)
{
    px->busy++;
}

/* Leaves a callback; the exchange goes back to the freelist once nothing refers to it. */
static void leave(proxy_exchange *px)
{
    if (--px->busy > 0 || !px->finished || px->writing) return;
    if (px->side) side_put(px->side);
    px->side = NULL;
    proxy_worker *pw = px->pw;
    if (pw->free_count >= FREELIST_MAX) {
        exchange_free(px);
        return;
    }
    px->next_free = pw->free;
    pw->free = px;
    pw->free_count++;
}

static void release_conn(proxy_exchange *px, bool reusable)
{
    hp_timer_stop(&px->timer);
    if (!px->conn) return;
    hp__upstream_pool_release(px->conn, reusable);
    px->conn = NULL;
    px->reading = false;
}

/* ---- failures ------------------------------------------------------------------------------- */

/* Ends the current pick with what the target did (upstream.h: the passive check, the breaker
 * and the balancer hear it once). */
static void end_pick(proxy_exchange *px, hp__upstream_outcome outcome)
{
    if (!px->picked) return;
    px->picked = false;
    hp__upstream_report(&px->side->picker, &px->pick, outcome);
}

/* A queued request got its connection, or its wait ended otherwise. */
static void stop_waiting(proxy_exchange *px)
{
    if (!px->waiting) return;
    px->waiting = false;
    hp__upstream_wait_end(px->side->picker.u);
}

static void respond_text(hp_request *req, int status, const char *text, uint32_t retry_after_s)
{
    if (retry_after_s) {
        char v[16];
        int n = snprintf(v, sizeof v, "%u", retry_after_s);
        hp_response_header(req, "Retry-After", 11, v, (size_t)n);
    }
    hp_respond(req, status, text, strlen(text));
}

static void answer_failure(proxy_exchange *px)
{
    if (px->finished) return;
    if (px->responded) return hp_request_abort(px->req);
    px->responded = true;
    respond_text(px->req, px->fail_status, px->fail_text, px->retry_after_s);
}

/* The target failed for good: the pick says so; the client gets the answer. */
static void give_up(proxy_exchange *px)
{
    end_pick(px, HP__UPSTREAM_FAILURE);
    answer_failure(px);
}

/* A fresh connection for a request whose pooled one failed before it could matter. */
static bool retry(proxy_exchange *px)
{
    if (px->retried || px->body_pulled || px->responded || px->finished ||
        hp__upstream_response_started(&px->resp))
        return false;
    px->retried = true;
    px->conn = hp__upstream_pool_connect(px->side->pool, px->pick.target, on_connected, px);
    return true;
}

/* Safe to send again elsewhere (RFC 9110 §9.2.2), and nothing of the body was taken yet. */
static bool idempotent(const hp_request *req)
{
    static const char *const methods[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (hp__str_eq(req->method, methods[i])) return true;
    return false;
}

/* After a connect failure: another target, when `retries` allows it. */
static bool retry_elsewhere(proxy_exchange *px)
{
    if (px->attempts > px->side->model->retries || px->body_pulled || px->responded ||
        px->finished || !idempotent(px->req))
        return false;
    px->tried |= 1ull << px->pick.target;
    attempt(px);
    return true;
}

/* The upstream failed (`status`, `text`): the connection is closed; the client gets the
 * answer once the write in flight, if any, came back. `retryable`: a pooled connection found
 * closed, which a fresh one may replace. */
static void upstream_failed(proxy_exchange *px, int status, const char *text, bool retryable)
{
    bool was_reused = px->conn && hp__upstream_conn_reused(px->conn);
    release_conn(px, false);
    px->fail_status = status;
    px->fail_text = text;
    px->fail_retryable = retryable && was_reused;
    if (px->writing) {
        px->failure_pending = true; /* on_written comes back with UV_ECANCELED, then decides */
        return;
    }
    if (px->fail_retryable && retry(px)) return;
    give_up(px);
}

static void fail_closed(proxy_exchange *px)
{
    upstream_failed(px, 502, "502 Bad Gateway: the upstream closed the connection\n", true);
}

/* ---- writing the request -------------------------------------------------------------------- */

static void on_written(uv_write_t *w, int status)
{
    proxy_exchange *px = w->data;
    enter(px);
    px->writing = false;
    if (px->failure_pending) {
        px->failure_pending = false;
        if (!(px->fail_retryable && retry(px))) give_up(px);
    } else if (px->finished || !px->conn) {
        /* the client left, or the response ended first: nothing more to write */
    } else if (status < 0) {
        fail_closed(px);
    } else if (px->body == BODY_NONE || px->request_sent) {
        px->request_sent = true;
        if (!px->responded) wait_upstream(px, px->side->model->first_byte_timeout_ms);
    } else {
        if (!px->responded) wait_upstream(px, px->side->model->first_byte_timeout_ms);
        px->body_pulled = true;
        hp_request_body_pull(px->req, &body_consumer, px);
    }
    leave(px);
}

static void write_upstream(proxy_exchange *px, const uv_buf_t *bufs, unsigned n)
{
    px->write.data = px;
    int rc = uv_write(&px->write, hp__upstream_conn_stream(px->conn), bufs, n, on_written);
    if (rc == 0) {
        px->writing = true;
        return;
    }
    fail_closed(px);
}

/* A request without a body is tried at once (uv_try_write): most heads go out in that call,
 * and a uv_write that completes costs libuv an epoll_ctl when it drains. */
static void send_head(proxy_exchange *px)
{
    uv_buf_t buf = uv_buf_init(px->head, (unsigned)px->head_len);
    if (px->body == BODY_NONE) {
        int n = uv_try_write(hp__upstream_conn_stream(px->conn), &buf, 1);
        if (n == (int)buf.len) {
            px->request_sent = true; /* the first-byte timer runs since use_conn */
            return;
        }
        if (n > 0) buf = uv_buf_init(buf.base + n, buf.len - (unsigned)n);
    }
    write_upstream(px, &buf, 1); /* the rest, or the error reported by its callback */
}

static void on_body_data(hp_request *req, void *data, const void *bytes, size_t len)
{
    proxy_exchange *px = data;
    enter(px);
    uint64_t cap = px->h->max_body_bytes;
    if (!px->conn) {
        /* the upstream failed meanwhile: its answer is on its way */
    } else if (cap && px->body_sent + len > cap) {
        release_conn(px, false);
        end_pick(px, HP__UPSTREAM_ABANDONED);
        px->fail_status = 413;
        px->fail_text = "413 Content Too Large\n";
        answer_failure(px);
    } else if (len == 0) {
        px->request_sent = true;
        if (px->body == BODY_CHUNKED) {
            uv_buf_t end = uv_buf_init("0\r\n\r\n", 5);
            write_upstream(px, &end, 1);
        }
    } else {
        if (len > px->piece_cap) {
            px->piece = hp__realloc(px->piece, len);
            px->piece_cap = len;
        }
        memcpy(px->piece, bytes, len);
        px->body_sent += len;
        uv_buf_t bufs[3];
        unsigned n = 0;
        if (px->body == BODY_CHUNKED) {
            int l = snprintf(px->chunk_line, sizeof px->chunk_line, "%zx\r\n", len);
            bufs[n++] = uv_buf_init(px->chunk_line, (unsigned)l);
        }
        bufs[n++] = uv_buf_init(px->piece, (unsigned)len);
        if (px->body == BODY_CHUNKED) bufs[n++] = uv_buf_init("\r\n", 2);
        write_upstream(px, bufs, n);
    }
    leave(px);
}

/* The body cannot be read (too large, broken, the client left): the engine answers or the
 * client is gone; the upstream got a partial request and is closed. */
static void on_body_error(hp_request *req, void *data, int err)
{
    proxy_exchange *px = data;
    enter(px);
    release_conn(px, false);
    end_pick(px, HP__UPSTREAM_ABANDONED);
    px->responded = true; /* the engine answers (413, 400, 408) if anyone can */
    leave(px);
}

static const hp_body_consumer body_consumer = {on_body_data, on_body_error};

/* ---- reading the response ------------------------------------------------------------------- */

static void on_timeout(hp_timer *timer)
{
    proxy_exchange *px = timer->data;
    enter(px);
    upstream_failed(
        px, 504, px->responded ? "" : "504 Gateway Timeout: the upstream did not answer in time\n",
        false);
    leave(px);
}

static void wait_upstream(proxy_exchange *px, uint64_t ms)
{
    px->timer.data = px;
    hp_timer_start(hp_request_worker(px->req), &px->timer, ms, on_timeout);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    proxy_exchange *px = h->data;
    *buf = uv_buf_init(px->rbuf + px->rend, READ_BUFFER - px->rend);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    proxy_exchange *px = s->data;
    if (nread == 0) return;
    enter(px);
    if (nread < 0) {
        px->upstream_eof = true;
        px->reading = false; /* the pool stopped it */
        if (nread != UV_EOF) {
            /* a reset: whatever was buffered is not a complete response */
            upstream_failed(px, 502, "502 Bad Gateway: the upstream reset the connection\n", true);
            leave(px);
            return;
        }
    } else {
        px->rend += (uint32_t)nread;
        if (px->responded) hp_timer_stop(&px->timer);
        if (px->rend == READ_BUFFER) {
            px->reading = false;
            hp__upstream_conn_read_stop(px->conn);
        }
    }
    pump(px);
    leave(px);
}

static void read_upstream(proxy_exchange *px)
{
    if (px->reading || px->upstream_eof || !px->conn) return;
    px->reading = true;
    hp__upstream_conn_stream(px->conn)->data = px;
    hp__upstream_conn_read(px->conn, on_alloc, on_read);
}

/* Hop-by-hop fields (RFC 9110 §7.6.1) and those the engine or the proxy write itself; by
 * length first, so each compare is with a literal (no strlen per field). */
static bool hop_by_hop(hp_str name)
{
    switch (name.len) {
    case 2:
        return hp__str_ieq(name, "te");
    case 7:
        return hp__str_ieq(name, "trailer") || hp__str_ieq(name, "upgrade");
    case 10:
        return hp__str_ieq(name, "connection") || hp__str_ieq(name, "keep-alive");
    case 14:
        return hp__str_ieq(name, "content-length");
    case 16:
        return hp__str_ieq(name, "proxy-connection");
    case 17:
        return hp__str_ieq(name, "transfer-encoding");
    case 18:
        return hp__str_ieq(name, "proxy-authenticate");
    case 19:
        return hp__str_ieq(name, "proxy-authorization");
    }
    return false;
}

/* Has the message a Connection field (whose tokens name more fields to remove)? Asked once
 * per message, so most messages, which have none, skip the search for each field. */
static bool has_connection(const hp_header *fields, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (hp__str_ieq(fields[i].name, "connection")) return true;
    return false;
}

/* Is `name` listed in one of the Connection fields? */
static bool named_in_connection(const hp_header *fields, size_t count, hp_str name)
{
    for (size_t i = 0; i < count; i++) {
        if (!hp__str_ieq(fields[i].name, "connection")) continue;
        const char *p = fields[i].value.base, *end = p + fields[i].value.len;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            hp_str token = hp__str_trim((hp_str){p, (size_t)((comma ? comma : end) - p)});
            if (token.len == name.len && hp__mem_ieq(token.base, name.base, name.len)) return true;
            p = comma ? comma + 1 : end;
        }
    }
    return false;
}

static bool forwarded_response_field(const hp__upstream_response *r, bool connection, hp_str name)
{
    return !hop_by_hop(name) && !hp__str_ieq(name, "x-request-id") &&
           !(connection && named_in_connection(r->fields, r->field_count, name));
}

static void start_tunnel(proxy_exchange *px);

static void respond_with_head(proxy_exchange *px)
{
    const hp__upstream_response *r = &px->resp;
    bool connection = has_connection(r->fields, r->field_count);
    for (size_t i = 0; i < r->field_count; i++) {
        const hp_header *f = &r->fields[i];
        if (forwarded_response_field(r, connection, f->name))
            hp_response_header(px->req, f->name.base, f->name.len, f->value.base, f->value.len);
    }
    hp_response_header(px->req, "Via", 3, "1.1 hostpool", 12);
    px->outcome = r->status >= 500 ? HP__UPSTREAM_FAILURE : HP__UPSTREAM_SUCCESS;
    if (r->status == 101) return start_tunnel(px);
    px->responded = true;
    hp_timer_stop(&px->timer);
    px->head_held = true; /* sent with the first piece (send_piece), or alone (flush_head) */
    px->head_status = r->status;
    px->head_length = r->framing == HP__UPSTREAM_LENGTH ? (int64_t)r->content_length : -1;
    px->client_ready = true;
}

/* The client gets a piece of the body, with the head when it is the first. */
static void send_piece(proxy_exchange *px, const void *data, size_t len, bool last)
{
    if (!px->head_held) return hp_stream_send(px->req, data, len, last);
    px->head_held = false;
    hp_respond_stream_with(px->req, px->head_status, px->head_length, data, len, last,
                           &body_producer, px);
}

/* No piece is read yet: the head goes alone, and proceed() says when to send the next. */
static void flush_head(proxy_exchange *px)
{
    px->head_held = false;
    px->client_ready = false;
    hp_respond_stream(px->req, px->head_status, px->head_length, &body_producer, px);
}

/* A 101 to a request that asked for an upgrade (its fields added): the tunnel takes the
 * upstream connection (proxy_tunnel.h) with the bytes after the head; the exchange ends when
 * the 101 is written. */
static void start_tunnel(proxy_exchange *px)
{
    hp__upstream_conn *conn = px->conn;
    hp_str early = {px->rbuf + px->rparsed, px->rend - px->rparsed};
    hp_timer_stop(&px->timer);
    px->conn = NULL;
    px->reading = false;
    px->responded = true;
    hp__proxy_tunnel_start(px->req, conn, &px->resp, early, px->side->model->idle_timeout_ms);
}

/* The response ended: the connection goes back to the pool when nothing is left over. */
static void response_ended(proxy_exchange *px)
{
    bool reusable = px->resp.keep_alive && px->request_sent && !px->writing &&
                    px->rparsed == px->rend && !px->upstream_eof;
    release_conn(px, reusable);
    end_pick(px, px->outcome);
    px->client_ready = false;
    send_piece(px, NULL, 0, true);
}

/* More bytes are needed: make room (once the head is out, nothing points into the parsed
 * bytes any more) and read, or see what the upstream's close means. */
static void need_more(proxy_exchange *px)
{
    if (px->head_held && !px->upstream_eof) flush_head(px);
    if (px->upstream_eof) {
        if (hp__upstream_response_eof(&px->resp) == HP__UPSTREAM_END) return response_ended(px);
        return fail_closed(px);
    }
    if (px->resp.head_done && px->rparsed > 0) {
        memmove(px->rbuf, px->rbuf + px->rparsed, px->rend - px->rparsed);
        px->rend -= px->rparsed;
        px->rparsed = 0;
    }
    if (px->responded) wait_upstream(px, px->side->model->idle_timeout_ms);
    read_upstream(px);
}

/* One event of the response, when the client can take it. */
static void step(proxy_exchange *px)
{
    if (px->finished || !px->conn || (px->responded && !px->client_ready)) return;
    size_t used;
    hp__upstream_event e = hp__upstream_response_parse(&px->resp, px->rbuf + px->rparsed,
                                                       px->rend - px->rparsed, &used);
    px->rparsed += (uint32_t)used;
    switch (e) {
    case HP__UPSTREAM_HEAD:
        px->again = true;
        return respond_with_head(px);
    case HP__UPSTREAM_BODY:
        px->client_ready = false;
        px->again = true;
        return send_piece(px, px->resp.piece.base, px->resp.piece.len, false);
    case HP__UPSTREAM_END:
        return response_ended(px);
    case HP__UPSTREAM_ERROR:
        return upstream_failed(px, 502, "502 Bad Gateway: the upstream's response is malformed\n",
                               false);
    case HP__UPSTREAM_MORE:
        return need_more(px);
    }
}

/* Steps until nothing moves; re-entered from inside (a proceed() called by a send), it only
 * asks the running loop for one more step. */
static void pump(proxy_exchange *px)
{
    if (px->pumping) {
        px->again = true;
        return;
    }
    px->pumping = true;
    do {
        px->again = false;
        step(px);
    } while (px->again && !px->finished);
    px->pumping = false;
}

static void on_proceed(hp_request *req, void *data)
{
    proxy_exchange *px = data;
    enter(px);
    px->client_ready = true;
    pump(px);
    leave(px);
}

static void on_stop(hp_request *req, void *data)
{
    proxy_exchange *px = data;
    enter(px);
    release_conn(px, false);
    leave(px);
}

static const hp_body_producer body_producer = {on_proceed, on_stop};

/* ---- the request ---------------------------------------------------------------------------- */

static void on_done(hp_request *req, bool ok, void *data)
{
    proxy_exchange *px = data;
    enter(px);
    px->finished = true;
    px->req = NULL;
    hp__upstream_pool_cancel(&px->wait); /* still queued, or opening for it: nothing calls back */
    stop_waiting(px);
    release_conn(px, false); /* still held: the client left mid-way */
    end_pick(px, px->outcome);
    if (px->entered) hp__upstream_leave(px->side->picker.u);
    px->entered = false;
    leave(px);
}

static void use_conn(proxy_exchange *px, hp__upstream_conn *conn)
{
    px->conn = conn;
    hp__upstream_response_init(
        &px->resp, HEAD_LIMIT,
        (px->req->is_head ? HP__UPSTREAM_HEAD_REQUEST : 0) |
            (hp__proxy_tunnel_wanted(px->req) ? HP__UPSTREAM_UPGRADE_ASKED : 0));
    px->rparsed = px->rend = 0;
    px->upstream_eof = false;
    wait_upstream(px, px->side->model->first_byte_timeout_ms);
    read_upstream(px);
    send_head(px);
}

static void on_connected(hp__upstream_conn *conn, int status, void *data)
{
    proxy_exchange *px = data;
    enter(px);
    stop_waiting(px);
    if (status == 0) {
        use_conn(px, conn);
    } else if (status == HP__UPSTREAM_EACQUIRE) {
        px->conn = NULL;
        end_pick(px, HP__UPSTREAM_ABANDONED); /* the limit's doing, not the target's */
        px->fail_status = 503;
        px->fail_text = "503 Service Unavailable: no upstream connection was free in time\n";
        px->retry_after_s = 1;
        answer_failure(px);
    } else {
        px->conn = NULL;
        if (status == UV_ETIMEDOUT) {
            px->fail_status = 504;
            px->fail_text = "504 Gateway Timeout: connecting to the upstream timed out\n";
        } else {
            px->fail_status = 502;
            px->fail_text = "502 Bad Gateway: cannot connect to the upstream\n";
        }
        end_pick(px, HP__UPSTREAM_FAILURE);
        if (!retry_elsewhere(px)) answer_failure(px);
    }
    leave(px);
}

static void put(proxy_exchange *px, const char *s, size_t len)
{
    if (px->head_len + len > px->head_cap) {
        size_t cap = px->head_cap ? px->head_cap : 1024;
        while (cap < px->head_len + len) cap *= 2;
        px->head = hp__realloc(px->head, cap);
        px->head_cap = cap;
    }
    memcpy(px->head + px->head_len, s, len);
    px->head_len += len;
}

static void put_str(proxy_exchange *px, hp_str s)
{
    put(px, s.base, s.len);
}

static void put_field(proxy_exchange *px, const char *name, hp_str value)
{
    put(px, name, strlen(name));
    put(px, ": ", 2);
    put_str(px, value);
    put(px, "\r\n", 2);
}

/* The target in origin form: an absolute-form target loses its scheme and authority. */
static hp_str origin_form(hp_str target)
{
    if (target.len == 0 || target.base[0] == '/' || (target.len == 1 && target.base[0] == '*'))
        return target;
    const char *end = target.base + target.len;
    const char *p = memchr(target.base, ':', target.len);
    if (p && end - p > 3 && p[1] == '/' && p[2] == '/') {
        const char *path = memchr(p + 3, '/', (size_t)(end - p - 3));
        const char *query = memchr(p + 3, '?', (size_t)(end - p - 3));
        if (path && (!query || path < query)) return (hp_str){path, (size_t)(end - path)};
        if (query) return (hp_str){query, (size_t)(end - query)}; /* build_head adds "/" */
    }
    return HP_STR_LIT("/");
}

/* Fields of the request the proxy writes itself. */
static bool rewritten_request_field(hp_str name)
{
    switch (name.len) {
    case 4:
        return hp__str_ieq(name, "host");
    case 6:
        return hp__str_ieq(name, "expect");
    case 12:
        return hp__str_ieq(name, "x-request-id");
    case 15:
        return hp__str_ieq(name, "x-forwarded-for");
    case 16:
        return hp__str_ieq(name, "x-forwarded-host");
    case 17:
        return hp__str_ieq(name, "x-forwarded-proto");
    }
    return false;
}

static bool forwarded_request_field(const hp_request *req, bool connection, hp_str name)
{
    return !hop_by_hop(name) && !rewritten_request_field(name) &&
           !(connection && named_in_connection(req->headers, req->header_count, name));
}

static void put_host(proxy_exchange *px)
{
    const proxy_handler *h = px->h;
    const hp_request *req = px->req;
    if (h->host == HP_PROXY_HOST_NAME) {
        put_field(px, "Host", hp__str(h->host_name, strlen(h->host_name)));
    } else if (h->host == HP_PROXY_HOST_UPSTREAM || req->host.len == 0) {
        const char *a = px->side->authority[px->pick.target];
        put_field(px, "Host", hp__str(a, strlen(a)));
    } else {
        put_field(px, "Host", req->host);
    }
}

static void put_forwarded(proxy_exchange *px)
{
    const hp_request *req = px->req;
    char ip[64];
    size_t ip_len = hp_request_client_ip(req, ip, sizeof ip);
    const hp_str *xff = hp_request_header(req, "x-forwarded-for");
    if (xff || ip_len) {
        put(px, "X-Forwarded-For: ", 17);
        if (xff) put_str(px, *xff);
        if (xff && ip_len) put(px, ", ", 2);
        put(px, ip, ip_len);
        put(px, "\r\n", 2);
    }
    put_field(px, "X-Forwarded-Proto", HP_STR_LIT("http"));
    if (req->host.len) put_field(px, "X-Forwarded-Host", req->host);
    put_field(px, "Via",
              req->version_minor ? HP_STR_LIT("1.1 hostpool") : HP_STR_LIT("1.0 hostpool"));
    put_field(px, "X-Request-Id", req->request_id);
}

static void put_body_framing(proxy_exchange *px)
{
    const hp_request *req = px->req;
    const hp_str *length = hp_request_header(req, "content-length");
    if (hp_request_header(req, "transfer-encoding")) {
        px->body = BODY_CHUNKED;
        put(px, "Transfer-Encoding: chunked\r\n", 28);
    } else if (length) {
        put_field(px, "Content-Length", *length);
        px->body = length->len == 1 && length->base[0] == '0' ? BODY_NONE : BODY_LENGTH;
    }
}

/* An upgrade the client asked for is asked of the upstream (proxy_tunnel.h); the other
 * hop-by-hop fields stay out. */
static void put_upgrade(proxy_exchange *px)
{
    if (!hp__proxy_tunnel_wanted(px->req)) return;
    put_field(px, "Connection", HP_STR_LIT("upgrade"));
    put_field(px, "Upgrade", *hp_request_header(px->req, "upgrade"));
}

static void build_head(proxy_exchange *px)
{
    const hp_request *req = px->req;
    px->head_len = 0;
    put_str(px, req->method);
    put(px, " ", 1);
    hp_str target = origin_form(req->target);
    if (target.base[0] == '?') put(px, "/", 1);
    put_str(px, target);
    put(px, " HTTP/1.1\r\n", 11);
    put_host(px);
    bool connection = has_connection(req->headers, req->header_count);
    for (size_t i = 0; i < req->header_count; i++) {
        const hp_header *f = &req->headers[i];
        if (!forwarded_request_field(req, connection, f->name)) continue;
        put_str(px, f->name);
        put(px, ": ", 2);
        put_str(px, f->value);
        put(px, "\r\n", 2);
    }
    put_forwarded(px);
    put_body_framing(px);
    put_upgrade(px);
    put(px, "\r\n", 2);
}

static bool declared_too_large(const proxy_handler *h, const hp_request *req)
{
    const hp_str *length = hp_request_header(req, "content-length");
    uint64_t n;
    return h->max_body_bytes && length && hp__str_to_u64(*length, UINT64_MAX, &n) &&
           n > h->max_body_bytes;
}

/* The balancer's key for a hash upstream: the named field's value, or the client's address. */
static size_t hash_key(const proxy_exchange *px, char *buf, size_t cap, const char **key)
{
    const hp__upstream_model *m = px->side->model;
    *key = buf;
    if (m->balance != HP__BALANCE_HASH) return 0;
    if (!m->hash_header) return hp_request_client_ip(px->req, buf, cap);
    const hp_str *v = hp_request_header(px->req, m->hash_header);
    if (!v) return 0;
    *key = v->base;
    return v->len;
}

/* Picks a target (another one after a failed connect) and sends the request to it. */
static void attempt(proxy_exchange *px)
{
    proxy_side *s = px->side;
    char buf[64];
    const char *key;
    size_t key_len = hash_key(px, buf, sizeof buf, &key);
    if (!hp__upstream_pick_target(&s->picker, key, key_len, px->tried, &px->pick)) {
        if (px->attempts == 0) { /* else the failure already set says more */
            px->fail_status = 503;
            px->fail_text = "503 Service Unavailable: no upstream target is available\n";
            px->retry_after_s = hp__upstream_retry_after_s(s->picker.u);
        }
        return answer_failure(px);
    }
    px->picked = true;
    px->attempts++;
    hp_request_set_upstream(px->req, s->model->targets[px->pick.target].address);
    px->outcome = HP__UPSTREAM_ABANDONED;
    build_head(px);
    if (hp__upstream_pool_would_queue(s->pool, px->pick.target)) {
        if (!hp__upstream_wait_begin(s->picker.u)) {
            end_pick(px, HP__UPSTREAM_ABANDONED);
            px->fail_status = 503;
            px->fail_text = "503 Service Unavailable: too many requests waiting for a connection\n";
            px->retry_after_s = 1;
            return answer_failure(px);
        }
        px->waiting = true;
    }
    hp__upstream_conn *conn = NULL;
    switch (
        hp__upstream_pool_acquire(s->pool, px->pick.target, &px->wait, on_connected, px, &conn)) {
    case HP__UPSTREAM_GOT_IDLE:
        return use_conn(px, conn);
    case HP__UPSTREAM_CONNECTING:
        px->conn = conn;
        return;
    case HP__UPSTREAM_QUEUED:
        return;
    }
}

/* The worker's side of the handler's upstream, or NULL. A named upstream is looked up in the
 * pool's registry only when its generation moved (a put or a remove): a new version gets a
 * new side and the old one is retired, finishing the exchanges that use it. */
static proxy_side *current_side(proxy_worker *pw, const proxy_handler *h)
{
    hp__upstreams *r = h->inline_upstream ? NULL : hp__worker_upstreams(pw->worker);
    if (!r) return pw->side;
    uint64_t generation = hp__upstreams_generation(r);
    if (pw->side && pw->generation == generation) return pw->side;
    pw->generation = generation;
    hp__upstream *u = hp__upstreams_acquire(r, h->upstream_name);
    if (!pw->side || !u || pw->side->picker.u != u) {
        if (pw->side) side_retire(pw->side);
        pw->side = u ? side_create(pw->worker, u) : NULL;
    }
    hp__upstream_unref(u); /* the side holds its own */
    return pw->side;
}

void hp__proxy_handle(hp_handler *self, void *worker_data, hp_request *req)
{
    const proxy_handler *h = (const proxy_handler *)self;
    proxy_worker *pw = worker_data;
    if (!pw) return hp_respond_error(req, 500);
    if (declared_too_large(h, req)) return hp_respond_error(req, 413);
    proxy_side *side = current_side(pw, h);
    if (!side)
        return respond_text(req, 503, "503 Service Unavailable: the upstream is not known\n", 1);
    if (!hp__upstream_enter(side->picker.u))
        return respond_text(req, 503, "503 Service Unavailable: too many requests in flight\n", 1);
    proxy_exchange *px = exchange_take(pw);
    enter(px);
    px->h = h;
    px->req = req;
    px->side = side;
    side->users++;
    px->entered = true;
    hp_request_on_done(req, on_done, px);
    attempt(px);
    leave(px);
}

static void on_request(hp_handler *self, hp_request *req)
{
    hp__proxy_handle(self, hp_worker_data(hp_request_worker(req), self), req);
}

/* ---- per worker ----------------------------------------------------------------------------- */

static void *worker_start(hp_handler *self, hp_worker *worker)
{
    const proxy_handler *h = (const proxy_handler *)self;
    proxy_worker *pw = HP_NEW(proxy_worker);
    pw->worker = worker;
    if (h->inline_upstream) pw->side = side_create(worker, h->inline_upstream);
    return pw;
}

static void worker_drain(hp_handler *self, hp_worker *worker, void *data)
{
    proxy_worker *pw = data;
    if (pw->side) hp__upstream_pool_drain(pw->side->pool);
}

static void worker_stop(hp_handler *self, hp_worker *worker, void *data)
{
    proxy_worker *pw = data;
    if (pw->side) side_retire(pw->side);
    while (pw->free) {
        proxy_exchange *px = pw->free;
        pw->free = px->next_free;
        exchange_free(px);
    }
    free(pw);
}

/* ---- the handler ---------------------------------------------------------------------------- */

static void destroy(hp_handler *self)
{
    proxy_handler *h = (proxy_handler *)self;
    hp__upstream_unref(h->inline_upstream);
    free(h->upstream_name);
    free(h->host_name);
    free(h);
}

static hp_handler *handler_new(hp__upstream *inline_upstream, const char *upstream_name,
                               hp_proxy_host host, const char *host_name, uint64_t max_body_bytes);

static hp_handler *clone_handler(const hp_handler *self)
{
    const proxy_handler *h = (const proxy_handler *)self;
    if (h->inline_upstream) hp__upstream_ref(h->inline_upstream);
    return handler_new(h->inline_upstream, h->upstream_name, h->host, h->host_name,
                       h->max_body_bytes);
}

static const hp_handler_vtable proxy_vtable = {
    .name = "proxy",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone_handler,
    .worker_start = worker_start,
    .worker_drain = worker_drain,
    .worker_stop = worker_stop,
};

/* Takes the reference to `inline_upstream`; copies the strings. */
static hp_handler *handler_new(hp__upstream *inline_upstream, const char *upstream_name,
                               hp_proxy_host host, const char *host_name, uint64_t max_body_bytes)
{
    proxy_handler *h = HP_NEW(proxy_handler);
    h->base.vt = &proxy_vtable;
    h->base.stream_request_body = true;
    h->inline_upstream = inline_upstream;
    h->upstream_name = upstream_name ? hp__strdup(upstream_name) : NULL;
    h->host = host;
    h->host_name = host == HP_PROXY_HOST_NAME ? hp__strdup(host_name) : NULL;
    h->max_body_bytes = max_body_bytes;
    return &h->base;
}

void hp_proxy_options_init(hp_proxy_options *o)
{
    *o = (hp_proxy_options){
        .host = HP_PROXY_HOST_KEEP,
        .keepalive = 32,
        .connect_timeout_ms = 5000,
        .first_byte_timeout_ms = 60000,
        .idle_timeout_ms = 60000,
    };
}

static bool options_valid(const hp_proxy_options *o, char *err, size_t err_len)
{
    char why[128];
    struct sockaddr_storage addr;
    if (o->to_count == 0 || o->to_count > HP_PROXY_MAX_TARGETS) {
        snprintf(err, err_len, "a proxy needs 1 to %d targets", HP_PROXY_MAX_TARGETS);
        return false;
    }
    for (size_t i = 0; i < o->to_count; i++) {
        if (hp__socket_check_address(o->to[i], &addr, why, sizeof why) != 0) {
            snprintf(err, err_len, "target %s: %s", o->to[i], why);
            return false;
        }
        if (addr.ss_family != AF_UNIX &&
            (hp__socket_address_port(&addr) == 0 || hp__socket_address_is_wildcard(&addr))) {
            snprintf(err, err_len, "target %s: a target needs a host and a port", o->to[i]);
            return false;
        }
    }
    if (o->host == HP_PROXY_HOST_NAME &&
        (!o->host_name || !hp__host_valid(hp__str(o->host_name, strlen(o->host_name))))) {
        snprintf(err, err_len, "host: not a valid Host value");
        return false;
    }
    if (!o->connect_timeout_ms || !o->first_byte_timeout_ms || !o->idle_timeout_ms) {
        snprintf(err, err_len, "a timeout must be greater than 0");
        return false;
    }
    return true;
}

hp_handler *hp_proxy_handler_create(const hp_proxy_options *o, char *err, size_t err_len)
{
    char ignored[1];
    if (!err) err = ignored, err_len = sizeof ignored;
    if (!options_valid(o, err, err_len)) return NULL;
    hp__upstream_model m;
    hp__upstream_model_init(&m);
    m.targets = hp__calloc(o->to_count, sizeof *m.targets);
    m.target_count = o->to_count;
    for (size_t i = 0; i < o->to_count; i++) {
        m.targets[i] = (hp__upstream_target_model){.address = hp__strdup(o->to[i]), .weight = 1};
        hp__socket_parse_address(o->to[i], &m.targets[i].addr);
    }
    m.keepalive = o->keepalive;
    m.connect_timeout_ms = o->connect_timeout_ms;
    m.first_byte_timeout_ms = o->first_byte_timeout_ms;
    m.idle_timeout_ms = o->idle_timeout_ms;
    hp__upstream *u = hp__upstream_create(&m);
    hp__upstream_model_close(&m);
    return handler_new(u, NULL, o->host, o->host_name, o->max_body_bytes);
}

hp_handler *hp__proxy_handler_create_with(hp__upstream *upstream, const char *upstream_name,
                                          hp_proxy_host host, const char *host_name,
                                          uint64_t max_body_bytes)
{
    if (upstream) hp__upstream_ref(upstream);
    return handler_new(upstream, upstream ? NULL : upstream_name, host, host_name, max_body_bytes);
}

hp_handler *hp__proxy_handler_create_model(const hp__proxy_model *m)
{
    if (m->upstream)
        return hp__proxy_handler_create_with(NULL, m->upstream, m->host, m->host_name,
                                             m->max_body_bytes);
    return handler_new(hp__upstream_create(&m->inline_upstream), NULL, m->host, m->host_name,
                       m->max_body_bytes);
}
