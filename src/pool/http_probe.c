/* See http_probe.h. A probe's life:
 *
 *   connect ──▶ write the request ──▶ read until the head ──▶ report ──▶ close
 *
 * Whichever comes first of an answer (the head, an error, EOF) and the checker's cancel
 * detaches the probe from its target (`checker` NULL) and closes the handle; every callback
 * that runs after that (a connect or write cancelled by the close) only sees the detached
 * probe and does nothing. The memory goes in the close callback, which libuv runs after those
 * cancelled callbacks. */
#include "pool/http_probe.h"

#include "common/alloc.h"
#include "http/upstream_response.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

typedef struct hp__http_probe {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    uv_connect_t connect;
    uv_write_t write;
    hp__health_checker *checker; /* NULL once answered or cancelled */
    hp__http_probe_target *target;
    uint64_t seq;
    bool tcp;
    bool connected;
    size_t received; /* bytes in `head` */
    size_t parsed;   /* of them, given to the parser */
    hp__upstream_response response;
    char head[HP__HTTP_PROBE_HEAD_LIMIT];
} hp__http_probe;

void hp__http_probe_target_init(hp__http_probe_target *t, uv_loop_t *loop,
                                const struct sockaddr_storage *addr, const char *address,
                                const char *path, int expect)
{
    memset(t, 0, sizeof *t);
    t->loop = loop;
    t->addr = *addr;
    t->expect = expect;
    const char *host = addr->ss_family == AF_UNIX ? "localhost" : address;
    static const char format[] = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                                 "User-Agent: hostpool-health\r\n\r\n";
    int len = snprintf(NULL, 0, format, path, host);
    t->request = hp__malloc((size_t)len + 1);
    snprintf(t->request, (size_t)len + 1, format, path, host);
    t->request_len = (size_t)len;
}

void hp__http_probe_target_close(hp__http_probe_target *t)
{
    free(t->request);
    t->request = NULL;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void close_probe(hp__http_probe *p)
{
    if (uv_is_closing(&p->io.handle)) return;
    /* A reset, so the check leaves no TIME_WAIT (see http_probe.h). */
    if (p->tcp && p->connected && uv_tcp_close_reset(&p->io.tcp, on_closed) == 0) return;
    uv_close(&p->io.handle, on_closed);
}

/* The probe's one answer; nothing is touched after the checker heard it (it may stop). */
static void answer(hp__http_probe *p, bool ok)
{
    hp__health_checker *c = p->checker;
    if (!c) return;
    p->checker = NULL;
    p->target->in_flight = NULL;
    close_probe(p);
    hp__health_checker_done(c, p->seq, ok);
}

/* `expect` is a status (100-599) or a class (1-5). */
static bool status_expected(int status, int expect)
{
    return expect < 100 ? status / 100 == expect : status == expect;
}

/* Parses what arrived since the last read: the head decides, anything malformed fails. */
static void parse(hp__http_probe *p)
{
    for (;;) {
        size_t used = 0;
        hp__upstream_event ev = hp__upstream_response_parse(&p->response, p->head + p->parsed,
                                                            p->received - p->parsed, &used);
        p->parsed += used;
        if (ev == HP__UPSTREAM_HEAD) {
            answer(p, status_expected(p->response.status, p->target->expect));
            return;
        }
        if (ev == HP__UPSTREAM_ERROR) {
            answer(p, false);
            return;
        }
        if (ev == HP__UPSTREAM_MORE) break;
    }
    if (p->received == sizeof p->head) answer(p, false); /* no room left for the head */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    hp__http_probe *p = h->data;
    *buf = uv_buf_init(p->head + p->received, (unsigned)(sizeof p->head - p->received));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    hp__http_probe *p = s->data;
    if (!p->checker) return;
    if (n == UV_EOF) {
        hp__upstream_response_eof(&p->response); /* no head yet: an error either way */
        answer(p, false);
    } else if (n < 0) {
        answer(p, false);
    } else if (n > 0) {
        p->received += (size_t)n;
        parse(p);
    }
}

static void on_written(uv_write_t *req, int status)
{
    hp__http_probe *p = req->data;
    if (p->checker && status != 0) answer(p, false);
}

static void on_connected(uv_connect_t *req, int status)
{
    hp__http_probe *p = req->data;
    if (!p->checker) return;
    if (status != 0) {
        answer(p, false);
        return;
    }
    p->connected = true;
    hp__http_probe_target *t = p->target;
    uv_buf_t buf = uv_buf_init(t->request, (unsigned)t->request_len);
    if (uv_write(&p->write, &p->io.stream, &buf, 1, on_written) != 0 ||
        uv_read_start(&p->io.stream, on_alloc, on_read) != 0)
        answer(p, false);
}

static void probe(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__http_probe_target *t = data;
    hp__http_probe *p = HP_NEW(hp__http_probe);
    p->checker = c;
    p->target = t;
    p->seq = seq;
    p->tcp = t->addr.ss_family != AF_UNIX;
    p->io.handle.data = p;
    p->connect.data = p;
    p->write.data = p;
    hp__upstream_response_init(&p->response, HP__HTTP_PROBE_HEAD_LIMIT, false);
    t->in_flight = p;
    if (!p->tcp) {
        uv_pipe_init(t->loop, &p->io.pipe, 0);
        uv_pipe_connect(&p->connect, &p->io.pipe, ((const struct sockaddr_un *)&t->addr)->sun_path,
                        on_connected); /* every failure comes through on_connected */
        return;
    }
    uv_tcp_init(t->loop, &p->io.tcp);
    if (uv_tcp_connect(&p->connect, &p->io.tcp, (const struct sockaddr *)&t->addr, on_connected) !=
        0)
        answer(p, false); /* at once */
}

static void cancel(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__http_probe_target *t = data;
    hp__http_probe *p = t->in_flight;
    if (!p) return;
    p->checker = NULL;
    t->in_flight = NULL;
    close_probe(p); /* its pending connect or write is cancelled: their callbacks see no checker */
}

const hp__health_probe_ops hp__http_probe_ops = {.probe = probe, .cancel = cancel};
