/* The memory transport; the model and its contract checks are described in mem_transport.h. */
#include "mem_transport.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mem_transport *transport_of(hp__transport *t)
{
    return (mem_transport *)((char *)t - offsetof(mem_transport, conn.transport));
}

static hp__protocol *protocol_of(mem_transport *m)
{
    return m->conn.transport.protocol;
}

static void out_append(mem_transport *m, const void *p, size_t len)
{
    if (m->out_len + len + 1 > m->out_cap) {
        size_t cap = m->out_cap ? m->out_cap : 1024;
        while (cap < m->out_len + len + 1) cap *= 2;
        m->out = hp__realloc(m->out, cap);
        m->out_cap = cap;
    }
    memcpy(m->out + m->out_len, p, len);
    m->out_len += len;
    m->out[m->out_len] = '\0';
}

/* Records a call from the session; false (and a violation) when it had already closed. */
static bool called(mem_transport *m)
{
    if (!m->closed) return true;
    m->violations++;
    return false;
}

static int t_write(hp__transport *t, struct iovec *iov, unsigned n)
{
    mem_transport *m = transport_of(t);
    if (!called(m)) return -EPIPE;
    if (m->shut) m->violations++; /* nothing may be written after the half-close */
    m->write_calls++;
    if (m->write_error < 0) return m->write_error;
    if (!m->hold_writes && m->queued_count == 0) {
        for (unsigned i = 0; i < n; i++) out_append(m, iov[i].iov_base, iov[i].iov_len);
        return 1;
    }
    if (n > MEM_TRANSPORT_MAX_IOV) {
        m->violations++; /* a shape this model does not keep */
        return -EINVAL;
    }
    if (m->queued_count == m->queued_cap) {
        m->queued_cap = m->queued_cap ? m->queued_cap * 2 : 4;
        m->queued = hp__realloc(m->queued, m->queued_cap * sizeof *m->queued);
    }
    mem_write *w = &m->queued[m->queued_count++];
    w->n = n;
    memcpy(w->iov, iov, n * sizeof *iov); /* pointers only: the bytes must stay valid */
    return 0;
}

static ssize_t t_sendfile(hp__transport *t, int fd, uint64_t offset, size_t len)
{
    mem_transport *m = transport_of(t);
    if (!called(m)) return -EPIPE;
    m->sendfile_calls++;
    if (m->queued_count) m->violations++; /* would overtake the queued bytes */
    if (m->sendfile_blocks) return 0;
    if (m->sendfile_max && len > m->sendfile_max) len = m->sendfile_max;
    char buf[4096];
    if (len > sizeof buf) len = sizeof buf;
    ssize_t got = pread(fd, buf, len, (off_t)offset);
    if (got < 0) return -errno;
    if (got == 0) return -EIO; /* as the libuv transport: the file ended early */
    out_append(m, buf, (size_t)got);
    return got;
}

static void t_set_reading(hp__transport *t, bool reading)
{
    mem_transport *m = transport_of(t);
    if (called(m)) m->reading = reading;
}

static void t_set_timer(hp__transport *t, uint64_t ms)
{
    mem_transport *m = transport_of(t);
    if (!called(m)) return;
    m->timer_ms = ms;
    m->timer_calls++;
}

static void t_shutdown(hp__transport *t)
{
    mem_transport *m = transport_of(t);
    if (!called(m)) return;
    if (m->shut) m->violations++;
    m->shut = true;
}

static void t_close(hp__transport *t, bool linger)
{
    mem_transport *m = transport_of(t);
    if (!called(m)) return;
    m->closed = true;
    m->lingered = linger;
    m->close_calls++;
    m->reading = false;
}

static const hp__transport_vtable mem_vtable = {
    .write = t_write,
    .sendfile = t_sendfile,
    .set_reading = t_set_reading,
    .set_timer = t_set_timer,
    .shutdown = t_shutdown,
    .close = t_close,
};

mem_transport *mem_transport_create_vhosts(hp__http_context *ctx, hp__vhosts *vhosts)
{
    mem_transport *m = HP_NEW(mem_transport);
    m->reading = true;
    m->vhosts = vhosts;
    /* As the engine does when a server starts: counters for the workers up to this one. */
    for (size_t i = 0; i < vhosts->server_count; i++)
        hp__server_attach_stats((hp_server *)vhosts->servers[i], ctx->worker + 1);
    m->conn.transport.vt = &mem_vtable;
    hp__session_init(&m->conn, ctx, &m->vhosts, &m->gauges);
    return m;
}

mem_transport *mem_transport_create(hp__http_context *ctx, const hp_server *server)
{
    mem_transport *m = mem_transport_create_vhosts(ctx, hp__vhosts_create(&server, 1, 1));
    m->owns_vhosts = true;
    return m;
}

void mem_transport_destroy(mem_transport *m)
{
    if (!m) return;
    mem_transport_abort(m);
    if (m->owns_vhosts) hp__vhosts_release(m->vhosts);
    free(m->queued);
    free(m->out);
    free(m);
}

size_t mem_transport_feed(mem_transport *m, const void *data, size_t len)
{
    const char *p = data;
    size_t fed = 0;
    while (fed < len && !m->closed && m->reading) {
        char *base;
        size_t room;
        hp__protocol *proto = protocol_of(m);
        proto->vt->read_buffer(proto, &base, &room);
        if (room == 0) break;
        size_t n = len - fed < room ? len - fed : room;
        memcpy(base, p + fed, n);
        fed += n;
        proto->vt->on_read(proto, (ssize_t)n);
    }
    return fed;
}

size_t mem_transport_feed_str(mem_transport *m, const char *s)
{
    return mem_transport_feed(m, s, strlen(s));
}

void mem_transport_eof(mem_transport *m)
{
    if (!m->closed) protocol_of(m)->vt->on_read(protocol_of(m), HP__READ_EOF);
}

void mem_transport_read_error(mem_transport *m)
{
    if (!m->closed) protocol_of(m)->vt->on_read(protocol_of(m), -ECONNRESET);
}

bool mem_transport_complete_write(mem_transport *m, int status)
{
    if (m->closed || m->queued_count == 0) return false;
    mem_write w = m->queued[0];
    m->queued_count--;
    memmove(m->queued, m->queued + 1, m->queued_count * sizeof *m->queued);
    if (status == 0)
        for (unsigned i = 0; i < w.n; i++) out_append(m, w.iov[i].iov_base, w.iov[i].iov_len);
    protocol_of(m)->vt->on_write_done(protocol_of(m), status);
    return true;
}

unsigned mem_transport_flush(mem_transport *m)
{
    bool hold = m->hold_writes;
    m->hold_writes = false;
    unsigned n = 0;
    while (mem_transport_complete_write(m, 0)) n++;
    m->hold_writes = hold;
    return n;
}

bool mem_transport_fire_timer(mem_transport *m)
{
    if (m->closed || m->timer_ms == 0) return false;
    protocol_of(m)->vt->on_timeout(protocol_of(m));
    return true;
}

void mem_transport_drain(mem_transport *m)
{
    if (!m->closed) protocol_of(m)->vt->drain(protocol_of(m));
}

void mem_transport_abort(mem_transport *m)
{
    if (!m->closed) protocol_of(m)->vt->abort(protocol_of(m));
}

void mem_transport_clear_output(mem_transport *m)
{
    m->out_len = 0;
}

unsigned mem_transport_count(const mem_transport *m, const char *needle)
{
    size_t nl = strlen(needle);
    unsigned count = 0;
    const char *p = m->out, *end = m->out + m->out_len;
    while (p && (size_t)(end - p) >= nl) {
        const char *hit = memmem(p, (size_t)(end - p), needle, nl);
        if (!hit) break;
        count++;
        p = hit + nl;
    }
    return count;
}
