/* See port_probe.h. Whichever comes first of the connect's answer and the checker's cancel
 * detaches the probe from its target (`checker` NULL) and closes the socket; a connect callback
 * that comes after a cancel (UV_ECANCELED) finds the probe detached and does nothing. The
 * memory goes in the close callback, which libuv runs after that connect callback. */
#include "pool/port_probe.h"

#include "common/alloc.h"

#include <stdlib.h>

typedef struct hp__port_probe {
    uv_tcp_t tcp;
    uv_connect_t connect;
    hp__health_checker *checker; /* NULL once answered or cancelled */
    hp__port_probe_target *target;
    uint64_t seq;
} hp__port_probe;

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_connected(uv_connect_t *req, int status)
{
    hp__port_probe *p = req->data;
    hp__health_checker *c = p->checker;
    if (!c) return; /* cancelled: already closing */
    if (status != 0 || uv_tcp_close_reset(&p->tcp, on_closed) != 0)
        uv_close((uv_handle_t *)&p->tcp, on_closed);
    p->checker = NULL;
    p->target->in_flight = NULL;
    hp__health_checker_done(c, p->seq, status == 0); /* last: the checker may stop here */
}

static void probe(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__port_probe_target *t = data;
    hp__port_probe *p = HP_NEW(hp__port_probe);
    p->checker = c;
    p->target = t;
    p->seq = seq;
    uv_tcp_init(t->loop, &p->tcp);
    p->tcp.data = p;
    p->connect.data = p;
    if (uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&t->addr, on_connected) !=
        0) {
        uv_close((uv_handle_t *)&p->tcp, on_closed);
        hp__health_checker_done(c, seq, false); /* at once */
        return;
    }
    t->in_flight = p;
}

static void cancel(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__port_probe_target *t = data;
    hp__port_probe *p = t->in_flight;
    if (!p) return;
    p->checker = NULL;
    t->in_flight = NULL;
    uv_close((uv_handle_t *)&p->tcp, on_closed); /* the connect is cancelled: its callback
                                                  * sees no checker */
}

const hp__health_probe_ops hp__port_probe_ops = {.probe = probe, .cancel = cancel};
