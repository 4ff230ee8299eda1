/* The protocol-neutral part of an exchange (exchange.h): what any protocol that carries
 * requests does with one, whatever its framing. Exchanges come from the worker's freelist and
 * go back to it; a request is routed by its Host to a server (its stats slice counts it in
 * flight) and by its path and method to a handler; it gets a request id; the handler reads a
 * whole body through the one helper (hp__exchange_read_whole_body) unless it streams; when it
 * ends, the worker's observers hear of it (metrics, access log), and the handler's done
 * callback is the handler's own. The HTTP/1 framing (llhttp, heads, chunked coding,
 * Connection) is session.c's and response.c's; an HTTP/2 stream would reuse this file.
 *
 * Threading: the worker's loop, as everything of an exchange. */
#include "http/exchange.h"

#include "common/alloc.h"
#include "common/str.h"
#include "hostpool/worker.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the freelist ------------------------------------------------------------------------- */

hp__exchange *hp__exchange_new(hp__http_context *ctx)
{
    hp__exchange *x = (hp__exchange *)ctx->exchanges;
    if (x) {
        ctx->exchanges = ((hp__free_block *)x)->next;
        ctx->exchange_count--;
        memset(x, 0, offsetof(hp__exchange, head));
    } else {
        x = HP_NEW(hp__exchange);
    }
    x->file_fd = -1;
    x->req.exchange = x;
    x->req.worker = ctx->worker;
    x->req.headers = x->inline_headers;
    x->header_cap = HP__INLINE_HEADERS;
    return x;
}

static void exchange_free(hp__exchange *x)
{
    free(x->extra);
    free(x->body);
    free(x->path_buf);
    free(x->heap_headers);
    free(x);
}

void hp__exchange_freelist_clear(hp__http_context *ctx)
{
    while (ctx->exchanges) {
        hp__exchange *x = (hp__exchange *)ctx->exchanges;
        ctx->exchanges = ctx->exchanges->next;
        exchange_free(x);
    }
    ctx->exchange_count = 0;
}

static void release_encoding(hp__http_context *ctx, hp__exchange *x)
{
    if (x->encoded) hp__http_buffer_put(ctx, x->encoded, x->encoded_cap);
    x->encoded = NULL;
    hp__encoder_destroy(x->encoder);
    x->encoder = NULL;
    x->enc_in_len = 0;
}

void hp__exchange_release(hp__http_context *ctx, hp__exchange *x)
{
    if (x->file_chunk) hp__http_buffer_put(ctx, x->file_chunk, x->file_chunk_cap);
    x->file_chunk = NULL;
    if (x->compress) release_encoding(ctx, x);
    if (x->body_cap > 64 * 1024) {
        free(x->body);
        x->body = NULL;
        x->body_cap = 0;
    }
    if (x->path_cap > 4096) { /* a long path is rare: its buffer is not kept */
        free(x->path_buf);
        x->path_buf = NULL;
        x->path_cap = 0;
    }
    if (ctx->exchange_count >= HP__FREELIST_MAX) {
        exchange_free(x);
        return;
    }
    ((hp__free_block *)x)->next = ctx->exchanges;
    ctx->exchanges = (hp__free_block *)x;
    ctx->exchange_count++;
}

/* ---- routing ------------------------------------------------------------------------------ */

void hp__exchange_call_handler(hp_request *req, void *data)
{
    hp_handler *handler = data;
    handler->vt->on_request(handler, req);
}

/* The rate limit of the request's route or server: the client's key is its address's bytes
 * (4 or 16; none when the peer is not an IP one, as a Unix socket's) unless the limit keys
 * by a header. A refusal is kept for the answer, given once the body is read. */
static void check_rate(hp__exchange *x, hp__rate_guard *guard)
{
    const hp__session *s = x->s;
    size_t ip_len = s->peer_known ? (s->peer_ip6 ? 16 : 4) : 0;
    uint64_t now_ms = hp_worker_now(hp_request_worker(&x->req));
    if (hp__rate_guard_admit(guard, &x->req, s->peer_addr, ip_len, now_ms, &x->refusal)) return;
    x->refused = HP__REFUSED_RATE_LIMITED + 1;
    x->refused_by = guard;
}

/* max_in_flight: the request joins its server's count of those being answered (every
 * worker's, one atomic), or is refused when the count is at the cap. The count goes down when
 * the exchange ends (hp__exchange_count), whatever the way. */
static void admit_in_flight(hp__exchange *x)
{
    _Atomic uint64_t *answering = &x->server->stats->answering;
    if (atomic_fetch_add_explicit(answering, 1, memory_order_relaxed) < x->server->max_in_flight) {
        x->admitted = answering;
        return;
    }
    atomic_fetch_sub_explicit(answering, 1, memory_order_relaxed);
    x->refused = HP__REFUSED_IN_FLIGHT + 1;
}

static void leave_in_flight(const hp__exchange *x)
{
    if (x->admitted) atomic_fetch_sub_explicit(x->admitted, 1, memory_order_relaxed);
}

static void refuse_in_flight(hp_request *req)
{
    static const char body[] = "{\"error\": \"too many requests in flight\", \"retry_after\": 1}\n";
    hp_response_header(req, "Retry-After", 11, "1", 1);
    hp_response_header(req, "Content-Type", 12, "application/json", 16);
    hp_respond(req, 503, body, sizeof body - 1);
}

/* The guards of a server that has some: the route's rate limit (else the server's), then
 * max_in_flight. False when one refused the request (x->refused says which). Out of line, so
 * that route_handler of a server without guards compiles as it did (callgrind: inlined, the
 * unguarded request cost 10 instructions more). */
__attribute__((noinline)) static bool admit(hp__exchange *x, const hp__route *route)
{
    const hp_server *server = x->server;
    hp__rate_guard *guard = route && route->rate_guard ? route->rate_guard : server->rate_guard;
    if (guard) check_rate(x, guard);
    if (!x->refused && server->max_in_flight) admit_in_flight(x);
    return !x->refused;
}

void hp__exchange_refuse(hp__exchange *x)
{
    hp__refused_reason reason = (hp__refused_reason)(x->refused - 1);
    hp__counter_add(&x->slice->refused[reason], 1);
    if (reason == HP__REFUSED_RATE_LIMITED)
        hp__rate_guard_refuse(x->refused_by, &x->req, &x->refusal);
    else
        refuse_in_flight(&x->req);
}

/* The handler of the request's route (or the server's fallback); NULL: 404, or 405 when only
 * the method differed. "*" (OPTIONS *) has none: the protocol answers it. */
static void route_handler(hp__exchange *x)
{
    hp_request *req = &x->req;
    if (req->path.len == 1 && req->path.base[0] == '*') return;
    const hp_server *server = x->server;
    const hp__route *route = hp__server_route(server, req, &x->method_mismatch);
    x->headers = route ? route->headers : server->headers;
    if (server->guarded && !admit(x, route)) return; /* no handler: dispatch answers it */
    if (route) {
        x->handler = route->gate ? route->gate : route->handler;
        x->compress = route->compress;
    } else if (server->fallback && !x->method_mismatch)
        x->handler = server->fallback;
}

bool hp__exchange_route(hp__exchange *x, const hp__vhosts *vhosts, unsigned worker)
{
    x->server = hp__vhosts_route(vhosts, x->req.host);
    if (!x->server) return false;
    x->slice = hp__server_stats_slice(x->server->stats, worker);
    hp__counter_add(&x->slice->in_flight, 1);
    route_handler(x);
    return true;
}

bool hp__exchange_reroute(hp__exchange *x, const hp__vhosts *vhosts, hp_str host, unsigned worker)
{
    const hp_server *server = hp__vhosts_route(vhosts, host);
    if (!server || server == x->server) return false;
    hp__counter_sub(&x->slice->in_flight, 1);
    leave_in_flight(x);
    x->admitted = NULL;
    x->server = server;
    x->slice = hp__server_stats_slice(server->stats, worker);
    hp__counter_add(&x->slice->in_flight, 1);
    x->handler = NULL;
    x->compress = NULL;
    x->method_mismatch = false;
    x->refused = 0;
    route_handler(x);
    hp_handler *handler = x->handler;
    if (x->refused)
        hp__exchange_refuse(x);
    else if (!handler)
        hp_respond_error(&x->req, x->method_mismatch ? 405 : 404);
    else if (handler->stream_request_body)
        handler->vt->on_request(handler, &x->req);
    else
        hp_request_body_read_all(&x->req, hp__exchange_call_handler, handler);
    return true;
}

/* ---- the end ------------------------------------------------------------------------------ */

void hp__exchange_count(void *data, const hp__exchange *x, bool answered, uint64_t end_ns)
{
    hp__http_context *ctx = data;
    hp__stats_slice *slice = x->slice;
    leave_in_flight(x);
    if (slice)
        hp__counter_sub(&slice->in_flight, 1);
    else
        slice = hp__server_stats_slice(hp__exchange_server(x)->stats, ctx->worker);
    uint64_t duration = x->start_ns && end_ns > x->start_ns ? end_ns - x->start_ns : 0;
    hp__stats_slice_record(slice, answered ? x->status : 0, duration, x->bytes_in, x->bytes_out);
}

/* ---- the handler's calls ------------------------------------------------------------------ */

void hp_request_set_upstream(hp_request *req, const char *target)
{
    char *to = req->exchange->upstream;
    size_t n = strnlen(target, sizeof req->exchange->upstream - 1);
    memcpy(to, target, n);
    to[n] = '\0';
}

const hp_str *hp_request_header(const hp_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->header_count; i++) {
        hp_str f = req->headers[i].name;
        if (f.len == n && hp__mem_ieq(f.base, name, n)) return &req->headers[i].value;
    }
    return NULL;
}

size_t hp_request_client_ip(const hp_request *req, char *buf, size_t len)
{
    const hp__session *s = req->exchange->s;
    if (!s->peer_known) return 0;
    if (!s->peer_ip6 && len >= INET_ADDRSTRLEN) return hp__ipv4_text(s->peer_addr, buf);
    int family = s->peer_ip6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(family, s->peer_addr, buf, (socklen_t)len)) return 0;
    return strlen(buf);
}

void hp_request_on_done(hp_request *req, hp_done_cb cb, void *data)
{
    hp__exchange *x = req->exchange;
    x->done_cb = cb;
    x->done_data = data;
}
