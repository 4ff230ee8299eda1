/* A connection: the libuv transport (src/http/protocol.h) under the protocol that runs on it,
 * HTTP/1.1 (src/http/session.h) from the start, a handler's own after a 101 (upgraded.h).
 *
 * Memory: one hp__conn per accepted socket, with its HTTP/1 session embedded (hp__connection),
 * freed only after both of its handles (the TCP stream and the timer) reported their close
 * callbacks. An idle keep-alive connection holds nothing else: the session gives its read
 * buffer back to the worker's freelist when idle. An upgraded protocol's state is its own.
 *
 * Writes: uv_try_write first (one writev in the common case); what the socket does not take
 * is queued with uv_write, whose request comes from the heap (the rare path).
 *
 * Timer: one per connection, armed lazily. set_timer() only records the deadline and re-arms
 * the uv timer when the new deadline is earlier than the armed one (libuv keeps that one:
 * uv_timer_get_due_in); when the timer fires early it re-arms itself for the rest. So a keep-alive
 * connection answering request after request touches the timer heap only when its deadline moves
 * earlier.
 *
 * Closing: when the protocol asks for it (close with linger: an error answer, completely
 * written), the connection lingers: it shuts down its sending side and discards what the client
 * still sends for up to LINGER_MS, so the client reads the answer instead of a reset (as nginx's
 * lingering_close).
 *
 * Clients: with limits.max_connections_per_client (the address's head server's), a new
 * connection joins its client address's count in the engine's table (core/client_count.h)
 * when it opens and leaves it when its memory is freed; one beyond the cap is answered 503
 * and closed at once, without being counted. */
#include "io/worker.h"

#include "common/alloc.h"
#include "core/client_count.h"
#include "http/exchange.h"
#include "http/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define LINGER_MS 2000

_Static_assert(sizeof(uv_buf_t) == sizeof(struct iovec), "uv_buf_t is an iovec on unix");
_Static_assert(offsetof(uv_buf_t, base) == offsetof(struct iovec, iov_base), "iovec layout");

struct hp__conn {
    hp__link link;        /* first: the worker's list of connections */
    hp__stream_handle io; /* a TCP or a unix socket, as its listener's */
    uv_timer_t timer;
    hp__connection core; /* the transport's vtable, the protocol on it, the HTTP/1 session */
    hp__listener *listener;
    uint64_t deadline; /* uv_now() time when the protocol's timer expires; 0: none */
    uint8_t open_handles;
    bool closing;
    bool lingering;
    bool client_counted; /* in the engine's count of its client address */
};

static hp__conn *conn_of(hp__transport *t)
{
    return (hp__conn *)((char *)t - offsetof(hp__conn, core.transport));
}

static hp__protocol *protocol_of(const hp__conn *c)
{
    return c->core.transport.protocol;
}

static uv_loop_t *loop_of(hp__conn *c)
{
    return c->io.handle.loop;
}

/* ---- closing ------------------------------------------------------------------------------ */

static size_t peer_len(const hp__session *s)
{
    return s->peer_ip6 ? 16 : 4;
}

static void on_handle_closed(uv_handle_t *h)
{
    hp__conn *c = h->data;
    if (--c->open_handles) return;
    const hp__session *s = &c->core.http1; /* its address stays after an upgrade */
    if (c->client_counted) hp__client_count_leave(s->ctx->clients, s->peer_addr, peer_len(s));
    hp__worker_conn_closed(c->listener->worker, c, c->listener);
    free(c);
}

static void close_handles(hp__conn *c)
{
    if (uv_is_closing(&c->io.handle)) return;
    uv_close(&c->io.handle, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void linger_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static __thread char discard[16 * 1024];
    *buf = uv_buf_init(discard, sizeof discard);
}

static void linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    if (nread < 0) close_handles(stream->data);
}

static void linger_timeout(uv_timer_t *t)
{
    close_handles(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    hp__conn *c = req->data;
    free(req);
    if (status < 0) close_handles(c);
}

static void start_lingering(hp__conn *c)
{
    c->lingering = true;
    uv_shutdown_t *req = hp__malloc(sizeof *req);
    req->data = c;
    if (uv_shutdown(req, &c->io.stream, on_shutdown) != 0) {
        free(req);
        close_handles(c);
        return;
    }
    uv_read_stop(&c->io.stream);
    uv_read_start(&c->io.stream, linger_alloc, linger_read);
    uv_timer_start(&c->timer, linger_timeout, LINGER_MS, 0);
}

static void t_close(hp__transport *t, bool linger)
{
    hp__conn *c = conn_of(t);
    c->closing = true;
    if (linger) {
        start_lingering(c);
    } else {
        close_handles(c);
    }
}

/* ---- transport ---------------------------------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
    hp__conn *c = req->data;
    free(req);
    if (c->closing) return;
    hp__protocol *p = protocol_of(c);
    p->vt->on_write_done(p, status);
}

static int t_write(hp__transport *t, struct iovec *iov, unsigned n)
{
    hp__conn *c = conn_of(t);
    uv_buf_t *bufs = (uv_buf_t *)iov;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) total += bufs[i].len;
    int r = uv_try_write(&c->io.stream, bufs, n);
    if (r >= 0 && (size_t)r == total) return 1;
    if (r < 0 && r != UV_EAGAIN) return r;
    size_t done = r > 0 ? (size_t)r : 0;
    while (n && done >= bufs[0].len) done -= bufs[0].len, bufs++, n--;
    if (n) bufs[0].base += done, bufs[0].len -= done;
    uv_write_t *req = hp__malloc(sizeof *req);
    req->data = c;
    r = uv_write(req, &c->io.stream, bufs, n, on_write);
    if (r < 0) {
        free(req);
        return r;
    }
    return 0;
}

static ssize_t t_sendfile(hp__transport *t, int fd, uint64_t offset, size_t len)
{
    hp__conn *c = conn_of(t);
    uv_os_fd_t sock;
    if (uv_fileno(&c->io.handle, &sock) != 0) return UV_EBADF;
    off_t off = (off_t)offset;
    ssize_t n = sendfile(sock, fd, &off, len);
    if (n >= 0) return n > 0 ? n : UV_EIO; /* 0: the file ended early */
    if (errno == EAGAIN || errno == EINTR) return 0;
    return -errno;
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    hp__conn *c = h->data;
    size_t len;
    hp__protocol *p = protocol_of(c);
    p->vt->read_buffer(p, &buf->base, &len);
    buf->len = len;
}

/* UV_ENOBUFS (the protocol gave no room) is an error like the others: libuv keeps reading after
 * it, so ignoring it would make the loop call again at once, for ever. */
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    hp__conn *c = stream->data;
    if (c->closing) return;
    hp__protocol *p = protocol_of(c);
    p->vt->on_read(p, nread == UV_EOF ? HP__READ_EOF : nread);
}

static void t_set_reading(hp__transport *t, bool reading)
{
    hp__conn *c = conn_of(t);
    if (reading) {
        uv_read_start(&c->io.stream, on_alloc, on_read);
    } else {
        uv_read_stop(&c->io.stream);
    }
}

static void on_timer(uv_timer_t *t)
{
    hp__conn *c = t->data;
    if (c->closing || !c->deadline) return;
    uint64_t now = uv_now(loop_of(c));
    if (now < c->deadline) {
        uv_timer_start(&c->timer, on_timer, c->deadline - now, 0);
        return;
    }
    c->deadline = 0;
    hp__protocol *p = protocol_of(c);
    p->vt->on_timeout(p);
}

static void t_set_timer(hp__transport *t, uint64_t ms)
{
    hp__conn *c = conn_of(t);
    if (ms == 0) {
        c->deadline = 0;
        return;
    }
    c->deadline = uv_now(loop_of(c)) + ms;
    if (!uv_is_active((uv_handle_t *)&c->timer) || uv_timer_get_due_in(&c->timer) > ms)
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* A half-close that fails leaves nothing to do: the next read or write reports the error. */
static void on_half_closed(uv_shutdown_t *req, int status)
{
    free(req);
}

static void t_shutdown(hp__transport *t)
{
    hp__conn *c = conn_of(t);
    uv_shutdown_t *req = hp__malloc(sizeof *req);
    if (uv_shutdown(req, &c->io.stream, on_half_closed) != 0) free(req);
}

static const hp__transport_vtable tcp_transport = {
    .write = t_write,
    .sendfile = t_sendfile,
    .set_reading = t_set_reading,
    .set_timer = t_set_timer,
    .shutdown = t_shutdown,
    .close = t_close,
};

/* ---- accepting ---------------------------------------------------------------------------- */

static void record_peer(hp__conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (c->listener->local || uv_tcp_getpeername(&c->io.tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        c->core.http1.peer_known = true;
        memcpy(c->core.http1.peer_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        c->core.http1.peer_known = true;
        c->core.http1.peer_ip6 = true;
        memcpy(c->core.http1.peer_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    }
}

/* limits.max_connections_per_client: counts the connection for its client address, or false
 * when the address has its cap already (or the table has no room for a new one). */
static bool admit_client(hp__conn *c)
{
    hp__session *s = &c->core.http1;
    uint32_t cap = hp__session_head_limits(s)->max_connections_per_client;
    if (!cap || !s->peer_known) return true;
    c->client_counted = hp__client_count_enter(s->ctx->clients, s->peer_addr, peer_len(s), cap);
    return c->client_counted;
}

/* Answers 503 and closes, counted for the address's head server. */
static void refuse_client(hp__conn *c)
{
    hp__session *s = &c->core.http1;
    hp__stats_slice *slice = hp__server_stats_slice((*s->vhosts)->head->stats, s->ctx->worker);
    hp__counter_add(&slice->refused[HP__REFUSED_CLIENT_CONNECTIONS], 1);
    hp__session_fail(s, 503);
}

int hp__conn_open(hp__listener *l, int fd)
{
    hp__worker *w = l->worker;
    uv_loop_t *loop = hp__worker_loop(w);
    hp__conn *c = HP_NEW(hp__conn);
    if (l->local)
        uv_pipe_init(loop, &c->io.pipe, 0);
    else
        uv_tcp_init(loop, &c->io.tcp);
    int r = l->local ? uv_pipe_open(&c->io.pipe, fd) : uv_tcp_open(&c->io.tcp, fd);
    if (r != 0) close(fd); /* not adopted by the handle */
    c->io.handle.data = c;
    c->listener = l;
    c->open_handles = 2;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    if (r != 0) {
        c->closing = true;
        hp__worker_conn_opened(w, c);
        l->conn_count++;
        close_handles(c);
        return r;
    }
    if (!l->local) uv_tcp_nodelay(&c->io.tcp, 1);
    l->conn_count++;
    hp__worker_conn_opened(w, c);
    c->core.transport.vt = &tcp_transport;
    hp__session_init(&c->core, hp__worker_http(w), &l->vhosts, &l->gauges);
    record_peer(c);
    r = uv_read_start(&c->io.stream, on_alloc, on_read);
    if (r != 0)
        hp__session_abort(&c->core.http1);
    else if (!admit_client(c))
        refuse_client(c);
    return r;
}

/* A connection of a retired listener that still speaks HTTP/1 may carry its first request to
 * any server of the listener's last table; an upgraded one holds only its own server. */
bool hp__conn_uses_server(const hp__conn *c, const hp_server *server)
{
    const hp__protocol *p = protocol_of(c);
    if (p->vt->uses_server(p, server)) return true;
    return p == &c->core.http1.protocol && c->listener->retired &&
           hp__vhosts_has(c->listener->vhosts, server);
}

hp__listener *hp__conn_listener(const hp__conn *c)
{
    return c->listener;
}

void hp__conn_drain(hp__conn *c)
{
    if (c->closing) return;
    hp__protocol *p = protocol_of(c);
    p->vt->drain(p);
}

void hp__conn_server_stopping(hp__conn *c, const hp_server *server)
{
    if (c->closing) return;
    hp__protocol *p = protocol_of(c);
    if (p->vt->server_stopping) p->vt->server_stopping(p, server);
}

void hp__conn_abort(hp__conn *c)
{
    if (!c->closing) {
        hp__protocol *p = protocol_of(c);
        p->vt->abort(p);
    } else if (c->lingering) {
        close_handles(c);
    }
}
