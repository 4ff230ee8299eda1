/* The tunnel after a 101 (proxy_tunnel.h): two byte streams joined, each way with
 * back-pressure.
 *
 *   upstream → client: the upstream is read into `down`, a buffer of the tunnel's own; the
 *     bytes go to hp_upgraded_write; while that write is queued the upstream is not read.
 *   client → upstream: on_read's bytes (borrowed for the call) are tried on the upstream at
 *     once (uv_try_write); what it does not take is copied into `up` and queued (uv_write), and
 *     the client is not read (hp_upgraded_read_stop) until that write completed.
 *
 * So one write at most is in flight each way and the memory of a tunnel is bounded: the
 * struct, `down` (16 KiB, more only when the upstream sent more with its 101 head: at most the
 * proxy's read buffer) and `up` (allocated at the first write the upstream does not take at
 * once, as large as the largest such rest: at most one read of the client's connection).
 *
 * Ends: EOF from one side is passed on as a half-close of the other once the bytes before it
 * are written (uv_shutdown towards the upstream, hp_upgraded_shutdown towards the client); the
 * tunnel ends when both ways are shut, when either side fails, when the client's connection
 * is idle for `idle_ms` (no byte read or written either way: the upgraded stream's timer,
 * whose default closes it), or when its server stops, is replaced or the worker drains
 * (on_drain). Ending closes the upstream connection (never pooled: its bytes were not HTTP)
 * and the client's after its queued writes.
 *
 * Lifetime: the tunnel is freed when the client's side closed (on_close, or on_cancel when
 * the 101 never went out), the upstream connection was given back, and no request of ours on
 * the upstream stream (a write, the shutdown) waits for its callback (closing the stream
 * cancels them: their callbacks still come). `busy` counts our callbacks on the stack, since
 * on_close may run inside any hp_upgraded_* call. */
#include "handlers/proxy_tunnel.h"

#include "common/alloc.h"
#include "common/str.h"
#include "hostpool/upgrade.h"

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>

#define TUNNEL_BUFFER (16u << 10)

typedef struct tunnel {
    hp_upgraded *client;     /* from on_open until on_close */
    hp__upstream_conn *conn; /* until the tunnel ends */
    uv_stream_t *upstream;   /* conn's stream */
    uint64_t idle_ms;
    unsigned busy;
    unsigned upstream_requests; /* our write and shutdown on the upstream, not called back */
    bool client_closed;         /* on_close or on_cancel ran */
    /* client → upstream */
    bool up_writing;  /* `up` is being written: the client is not read */
    bool client_eof;  /* the client ended its side */
    bool up_shutting; /* the client's end is being passed on */
    bool upstream_shut;
    uv_write_t up_write;
    uv_shutdown_t up_shutdown;
    char *up;
    size_t up_cap;
    /* upstream → client */
    bool down_writing; /* `down` is being written: the upstream is not read */
    bool upstream_reading;
    bool upstream_eof; /* the upstream ended its side */
    bool client_shut;  /* its end was passed on */
    uint32_t down_len; /* bytes in `down` not yet given to the client (the early ones) */
    uint32_t down_cap;
    char down[];
} tunnel;

static const hp_upgrade_protocol tunnel_protocol;

static void enter(tunnel *t)
{
    t->busy++;
}

static void leave(tunnel *t)
{
    if (--t->busy > 0 || !t->client_closed || t->conn || t->upstream_requests) return;
    free(t->up);
    free(t);
}

/* Closes the upstream connection; our requests queued on it come back cancelled. */
static void close_upstream(tunnel *t)
{
    if (!t->conn) return;
    hp__upstream_pool_release(t->conn, false);
    t->conn = NULL;
    t->upstream_reading = false;
}

/* Both connections close, the client's once its queued writes are written. */
static void end(tunnel *t)
{
    close_upstream(t);
    if (t->client) hp_upgraded_close(t->client);
}

static void touch(tunnel *t)
{
    if (t->client) hp_upgraded_set_timer(t->client, t->idle_ms);
}

static void end_if_both_shut(tunnel *t)
{
    if (t->upstream_shut && t->client_shut) end(t);
}

/* ---- upstream → client ---------------------------------------------------------------------- */

static void on_upstream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tunnel *t = h->data;
    *buf = uv_buf_init(t->down, t->down_cap);
}

static void on_upstream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void read_upstream(tunnel *t)
{
    if (t->upstream_reading || t->upstream_eof || t->down_writing || !t->conn) return;
    t->upstream_reading = true;
    hp__upstream_conn_read(t->conn, on_upstream_alloc, on_upstream_read);
}

static void stop_reading_upstream(tunnel *t)
{
    if (!t->upstream_reading) return;
    t->upstream_reading = false;
    hp__upstream_conn_read_stop(t->conn);
}

/* The upstream's end reaches the client once the bytes before it are written. */
static void pass_upstream_eof(tunnel *t)
{
    if (t->client_shut || !t->client) return;
    t->client_shut = true;
    hp_upgraded_shutdown(t->client);
    end_if_both_shut(t);
}

/* Gives the client down[0, down_len); the upstream waits while the write is queued. */
static void send_down(tunnel *t)
{
    size_t len = t->down_len;
    t->down_len = 0;
    int rc = hp_upgraded_write(t->client, t->down, len);
    if (rc < 0) return; /* the client's connection failed: on_close ran */
    if (rc == 0) {
        t->down_writing = true;
        stop_reading_upstream(t);
        return;
    }
    read_upstream(t);
}

static void on_upstream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tunnel *t = s->data;
    if (nread == 0) return;
    enter(t);
    if (nread == UV_EOF) {
        t->upstream_eof = true;
        stop_reading_upstream(t);
        pass_upstream_eof(t);
    } else if (nread < 0) {
        end(t);
    } else {
        touch(t);
        t->down_len = (uint32_t)nread;
        send_down(t);
    }
    leave(t);
}

/* ---- client → upstream ---------------------------------------------------------------------- */

static void on_upstream_shut(uv_shutdown_t *req, int status)
{
    tunnel *t = req->data;
    enter(t);
    t->upstream_requests--;
    if (!t->conn) {
        /* ended meanwhile: cancelled */
    } else if (status < 0) {
        end(t);
    } else {
        t->upstream_shut = true;
        end_if_both_shut(t);
    }
    leave(t);
}

/* The client's end reaches the upstream once the bytes before it are written. */
static void pass_client_eof(tunnel *t)
{
    if (t->up_shutting || !t->conn) return;
    t->up_shutting = true;
    t->up_shutdown.data = t;
    if (uv_shutdown(&t->up_shutdown, t->upstream, on_upstream_shut) != 0) return end(t);
    t->upstream_requests++;
}

static void on_upstream_written(uv_write_t *w, int status)
{
    tunnel *t = w->data;
    enter(t);
    t->upstream_requests--;
    t->up_writing = false;
    if (!t->conn) {
        /* ended meanwhile: cancelled */
    } else if (status < 0) {
        end(t);
    } else {
        touch(t);
        if (t->client_eof)
            pass_client_eof(t);
        else if (t->client)
            hp_upgraded_read_start(t->client);
    }
    leave(t);
}

/* Queues what the upstream did not take at once; the client waits until it is written. */
static void write_rest_upstream(tunnel *t, const char *bytes, size_t len)
{
    if (len > t->up_cap) {
        t->up = hp__realloc(t->up, len);
        t->up_cap = len;
    }
    memcpy(t->up, bytes, len);
    uv_buf_t buf = uv_buf_init(t->up, (unsigned)len);
    t->up_write.data = t;
    if (uv_write(&t->up_write, t->upstream, &buf, 1, on_upstream_written) != 0) return end(t);
    t->upstream_requests++;
    t->up_writing = true;
    hp_upgraded_read_stop(t->client);
}

static void on_client_read(hp_upgraded *u, void *data, const char *bytes, size_t len)
{
    tunnel *t = data;
    enter(t);
    if (t->conn) {
        touch(t);
        uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);
        int n = uv_try_write(t->upstream, &buf, 1);
        if (n == UV_EAGAIN) n = 0;
        if (n < 0)
            end(t);
        else if ((size_t)n < len)
            write_rest_upstream(t, bytes + n, len - (size_t)n);
    }
    leave(t);
}

static void on_client_eof(hp_upgraded *u, void *data)
{
    tunnel *t = data;
    enter(t);
    t->client_eof = true;
    if (!t->up_writing) pass_client_eof(t);
    leave(t);
}

/* ---- the client's side: the upgraded connection --------------------------------------------- */

static void on_open(hp_upgraded *u, void *data)
{
    tunnel *t = data;
    enter(t);
    t->client = u;
    touch(t);
    if (t->down_len)
        send_down(t);
    else
        read_upstream(t);
    leave(t);
}

static void on_client_written(hp_upgraded *u, void *data)
{
    tunnel *t = data;
    enter(t);
    t->down_writing = false;
    touch(t);
    if (t->upstream_eof)
        pass_upstream_eof(t);
    else
        read_upstream(t);
    leave(t);
}

static void on_drain(hp_upgraded *u, void *data)
{
    tunnel *t = data;
    enter(t);
    end(t);
    leave(t);
}

static void on_close(hp_upgraded *u, void *data, int status)
{
    tunnel *t = data;
    enter(t);
    t->client = NULL;
    t->client_closed = true;
    close_upstream(t);
    leave(t);
}

static void on_cancel(void *data)
{
    tunnel *t = data;
    enter(t);
    t->client_closed = true;
    close_upstream(t);
    leave(t);
}

static const hp_upgrade_protocol tunnel_protocol = {
    .on_open = on_open,
    .on_read = on_client_read,
    .on_eof = on_client_eof,
    .on_write_done = on_client_written,
    .on_drain = on_drain,
    .on_close = on_close,
    .on_cancel = on_cancel,
    /* .on_timeout: none, so an idle tunnel's client connection closes at once, queued writes
     * or not, and on_close closes the upstream */
};

/* ---- the start ------------------------------------------------------------------------------ */

bool hp__proxy_tunnel_wanted(const hp_request *req)
{
    if (!hp_request_upgrade_asked(req) || req->method_id != HTTP_GET) return false;
    const hp_str *length = hp_request_header(req, "content-length");
    return !hp_request_header(req, "transfer-encoding") &&
           (!length || (length->len == 1 && length->base[0] == '0'));
}

/* The upstream's Upgrade protocol (the parser took the 101 with exactly one), NUL-terminated
 * for hp_request_upgrade: free it. */
static char *protocol_of(const hp__upstream_response *head)
{
    hp_str v = HP_STR_LIT("");
    for (size_t i = 0; i < head->field_count; i++)
        if (hp__str_ieq(head->fields[i].name, "upgrade")) v = head->fields[i].value;
    char *token = hp__malloc(v.len + 1);
    memcpy(token, v.base, v.len);
    token[v.len] = '\0';
    return token;
}

void hp__proxy_tunnel_start(hp_request *req, hp__upstream_conn *conn,
                            const hp__upstream_response *head, hp_str early,
                            uint64_t idle_timeout_ms)
{
    uint32_t cap = early.len > TUNNEL_BUFFER ? (uint32_t)early.len : TUNNEL_BUFFER;
    tunnel *t = hp__malloc(sizeof *t + cap);
    memset(t, 0, sizeof *t); /* not the buffer: its pages are touched when bytes come */
    t->conn = conn;
    t->upstream = hp__upstream_conn_stream(conn);
    t->upstream->data = t;
    hp__upstream_conn_read_stop(conn); /* until the client has the 101 */
    t->idle_ms = idle_timeout_ms;
    t->down_cap = cap;
    t->down_len = (uint32_t)early.len;
    memcpy(t->down, early.base, early.len);
    char *protocol = protocol_of(head);
    /* Cannot fail given the preconditions; if it did, nothing was sent and the client's
     * connection is given up rather than answered with the upstream's fields already added. */
    int rc = hp_request_upgrade(req, protocol, &tunnel_protocol, t);
    free(protocol);
    if (rc == 0) return;
    close_upstream(t);
    free(t);
    hp_request_abort(req);
}
