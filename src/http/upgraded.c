/* The upgraded byte stream (upgraded.h; the handler's side is include/hostpool/upgrade.h).
 *
 * Reading: bytes are read into a buffer from the worker's freelist and given to the handler's
 * on_read all at once, then dropped; the buffer goes back to the freelist as soon as it is
 * empty, so an idle upgraded connection (a quiet WebSocket) holds no read buffer. While the
 * handler does not want bytes (hp_upgraded_read_stop) the transport stops reading, so what
 * waits is bounded by the buffer; the bytes handed over at the switch wait there too.
 *
 * Writing: straight to the transport (uv_try_write, then queued); the handler's bytes are
 * borrowed until on_write_done. A close asked for while writes are queued waits for them,
 * then lingers (as an HTTP error answer does): the client reads the last bytes. A half-close
 * (hp_upgraded_shutdown) is the transport's: it too comes after the queued writes.
 *
 * Lifetime: `depth` counts the calls into this file on the stack (from the transport or the
 * handler). The state is freed when the stream is closed and the outermost call returns, so
 * a handler may close (or have its write fail) inside any callback. */
#include "http/upgraded.h"

#include "common/alloc.h"
#include "http/stats.h"

#include <errno.h>
#include <stdlib.h>

#define READ_BUFFER 16384

struct hp_upgraded {
    hp__protocol protocol; /* first */
    hp__transport *t;
    hp__protocol *finished; /* the connection's HTTP/1 session, finished: see finish_close */
    hp__http_context *ctx;
    hp__conn_gauges *gauges;
    const hp_server *server; /* the server whose handler upgraded the connection */
    const hp_upgrade_protocol *user;
    void *data;
    char *rbuf; /* bytes [rstart, rend) wait for the handler; NULL when empty */
    size_t rcap;
    uint32_t rstart, rend;
    unsigned writes_pending;
    unsigned depth;
    bool want_reading; /* the handler's wish */
    bool reading;      /* the transport's state, as last set */
    bool closing;      /* close once the queued writes are done */
    bool eof;          /* the client closed its sending side */
    bool shut;         /* the handler half-closed: no write follows */
    bool closed;
};

static hp_upgraded *stream_of(hp__protocol *p)
{
    return (hp_upgraded *)p; /* the first member */
}

static void enter(hp_upgraded *u)
{
    u->depth++;
}

static void leave(hp_upgraded *u)
{
    if (--u->depth == 0 && u->closed) free(u);
}

static void release_rbuf(hp_upgraded *u)
{
    if (!u->rbuf) return;
    hp__http_buffer_put(u->ctx, u->rbuf, u->rcap);
    u->rbuf = NULL;
    u->rcap = u->rstart = u->rend = 0;
}

static void set_reading(hp_upgraded *u, bool reading)
{
    if (u->closed || reading == u->reading) return;
    u->reading = reading;
    u->t->vt->set_reading(u->t, reading);
}

static void finish_close(hp_upgraded *u, int status)
{
    if (u->closed) return;
    u->closed = true;
    release_rbuf(u);
    u->ctx->connections_open--;
    hp__counter_sub(&u->gauges->open, 1);
    /* A close the handler asked for comes after its last write: lingering, the client reads
     * it (what the client still sends meanwhile would otherwise reset the connection). */
    u->t->vt->close(u->t, status == 0);
    /* The transport may still ask its protocol whether it uses a server until its handles
     * are closed, after this state is freed: it asks the finished session, which answers
     * no and ignores every other call (its phase is CLOSED). */
    u->t->protocol = u->finished;
    u->user->on_close(u, u->data, status);
    /* The server is no longer used here: a drain of it may be waiting (context.h). */
    if (u->ctx->exchange_ended) u->ctx->exchange_ended(u->ctx, u->server);
}

/* Hands the waiting bytes to the handler while it wants them. */
static void deliver(hp_upgraded *u)
{
    while (!u->closed && u->want_reading && u->rend > u->rstart) {
        const char *bytes = u->rbuf + u->rstart;
        size_t len = u->rend - u->rstart;
        u->rstart = u->rend;
        u->user->on_read(u, u->data, bytes, len);
    }
    /* A nested call (read_start inside on_read) keeps it: the outer on_read's bytes are in it. */
    if (!u->closed && u->rstart == u->rend && u->depth == 1) release_rbuf(u);
}

static void close_when_written(hp_upgraded *u)
{
    u->closing = true;
    u->want_reading = false;
    set_reading(u, false);
    if (u->writes_pending == 0) finish_close(u, 0);
}

/* ---- the protocol vtable (protocol.h) ----------------------------------------------------- */

static void p_read_buffer(hp__protocol *p, char **base, size_t *len)
{
    hp_upgraded *u = stream_of(p);
    if (u->closed) {
        *base = NULL;
        *len = 0;
        return;
    }
    if (u->rstart == u->rend) u->rstart = u->rend = 0; /* all delivered: the room is back */
    if (!u->rbuf) u->rbuf = hp__http_buffer_get(u->ctx, READ_BUFFER, &u->rcap);
    *base = u->rbuf + u->rend;
    *len = u->rcap - u->rend;
    if (*len == 0) set_reading(u, false);
}

static void p_on_read(hp__protocol *p, ssize_t nread)
{
    hp_upgraded *u = stream_of(p);
    if (u->closed || nread == 0) return;
    enter(u);
    if (nread > 0) {
        u->rend += (uint32_t)nread;
        deliver(u);
    } else if (nread != HP__READ_EOF) {
        finish_close(u, (int)nread);
    } else {
        u->eof = true;
        set_reading(u, false);
        if (u->user->on_eof)
            u->user->on_eof(u, u->data);
        else
            close_when_written(u);
    }
    leave(u);
}

static void p_on_write_done(hp__protocol *p, int status)
{
    hp_upgraded *u = stream_of(p);
    if (u->closed) return;
    enter(u);
    u->writes_pending--;
    if (status < 0) {
        finish_close(u, status);
    } else if (u->closing) {
        if (u->writes_pending == 0) finish_close(u, 0);
    } else if (u->user->on_write_done) {
        u->user->on_write_done(u, u->data);
    }
    leave(u);
}

static void p_on_timeout(hp__protocol *p)
{
    hp_upgraded *u = stream_of(p);
    if (u->closed) return;
    enter(u);
    if (u->user->on_timeout)
        u->user->on_timeout(u, u->data);
    else
        finish_close(u, -ETIMEDOUT);
    leave(u);
}

static void p_drain(hp__protocol *p)
{
    hp_upgraded *u = stream_of(p);
    if (u->closed || u->closing) return;
    enter(u);
    if (u->user->on_drain)
        u->user->on_drain(u, u->data);
    else
        close_when_written(u);
    leave(u);
}

static void p_abort(hp__protocol *p)
{
    hp_upgraded *u = stream_of(p);
    enter(u);
    finish_close(u, -ECONNABORTED);
    leave(u);
}

static bool p_uses_server(const hp__protocol *p, const hp_server *server)
{
    const hp_upgraded *u = (const hp_upgraded *)p;
    return !u->closed && u->server == server;
}

static void p_server_stopping(hp__protocol *p, const hp_server *server)
{
    if (stream_of(p)->server == server) p_drain(p);
}

static const hp__protocol_vtable upgraded_protocol = {
    .read_buffer = p_read_buffer,
    .on_read = p_on_read,
    .on_write_done = p_on_write_done,
    .on_timeout = p_on_timeout,
    .drain = p_drain,
    .abort = p_abort,
    .uses_server = p_uses_server,
    .server_stopping = p_server_stopping,
};

/* ---- the switch --------------------------------------------------------------------------- */

hp_upgraded *hp__upgraded_create(hp__session *s, const hp_server *server,
                                 const hp_upgrade_protocol *protocol, void *data)
{
    hp_upgraded *u = HP_NEW(hp_upgraded);
    u->protocol.vt = &upgraded_protocol;
    u->t = hp__session_transport(s);
    u->finished = &s->protocol;
    u->ctx = s->ctx;
    u->gauges = s->gauges;
    u->server = server;
    u->user = protocol;
    u->data = data;
    u->rbuf = s->rbuf;
    u->rcap = s->rcap;
    u->rstart = s->rparsed;
    u->rend = s->rend;
    u->reading = s->reading;
    u->eof = s->peer_eof;
    u->want_reading = true;
    s->rbuf = NULL;
    s->rcap = s->rend = s->rparsed = 0;
    s->phase = HP__PHASE_CLOSED;
    u->t->protocol = &u->protocol;
    u->t->vt->set_timer(u->t, 0);
    return u;
}

void hp__upgraded_open(hp_upgraded *u, bool draining)
{
    enter(u);
    u->user->on_open(u, u->data);
    set_reading(u, u->want_reading && !u->eof);
    deliver(u);
    if (u->eof && !u->closed) { /* the client closed its side before the switch */
        if (u->user->on_eof)
            u->user->on_eof(u, u->data);
        else
            close_when_written(u);
    }
    if (draining) p_drain(&u->protocol);
    leave(u);
}

/* ---- the handler's calls ------------------------------------------------------------------ */

int hp_upgraded_write(hp_upgraded *u, const void *bytes, size_t len)
{
    struct iovec iov = {(void *)bytes, len};
    return hp_upgraded_writev(u, &iov, 1);
}

int hp_upgraded_writev(hp_upgraded *u, struct iovec *iov, unsigned n)
{
    if (u->closed || u->shut) return -EPIPE;
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) len += iov[i].iov_len;
    if (len == 0) return 1;
    enter(u);
    int rc = u->t->vt->write(u->t, iov, n);
    if (rc == 0) u->writes_pending++;
    if (rc < 0) finish_close(u, rc);
    leave(u);
    return rc;
}

void hp_upgraded_read_stop(hp_upgraded *u)
{
    if (u->closed || u->closing) return;
    u->want_reading = false;
    set_reading(u, false);
}

void hp_upgraded_read_start(hp_upgraded *u)
{
    if (u->closed || u->closing) return;
    enter(u);
    u->want_reading = true;
    deliver(u);
    set_reading(u, u->want_reading && !u->eof);
    leave(u);
}

void hp_upgraded_set_timer(hp_upgraded *u, uint64_t ms)
{
    if (!u->closed) u->t->vt->set_timer(u->t, ms);
}

void hp_upgraded_shutdown(hp_upgraded *u)
{
    if (u->closed || u->closing || u->shut) return;
    u->shut = true;
    u->t->vt->shutdown(u->t);
}

void hp_upgraded_close(hp_upgraded *u)
{
    if (u->closed) return;
    enter(u);
    close_when_written(u);
    leave(u);
}

void hp_upgraded_abort(hp_upgraded *u)
{
    if (u->closed) return;
    enter(u);
    finish_close(u, -ECONNABORTED);
    leave(u);
}
