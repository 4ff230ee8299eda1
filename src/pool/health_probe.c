#include "pool/health_probe.h"

#include "common/alloc.h"
#include "io/socket.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- the TCP connect probe ---------------------------------------------------------------- */

typedef struct hp__tcp_probe {
    uv_tcp_t tcp;
    uv_connect_t connect;
    hp__health_checker *checker; /* NULL once cancelled */
    hp__probe_target *target;
    uint64_t seq;
} hp__tcp_probe;

static void on_probe_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_connected(uv_connect_t *req, int status)
{
    hp__tcp_probe *p = req->data;
    if (p->checker) {
        p->target->in_flight = NULL;
        hp__health_checker_done(p->checker, p->seq, status == 0);
    }
    /* A connected probe ends with a reset, as HAProxy's checks do: a normal close would leave
     * its port in TIME_WAIT for a minute, and 10,000 servers checked every 2 s would keep the
     * whole ephemeral range there (binding a port in it, as `listen: auto` does, would fail). */
    if (status != 0 || uv_tcp_close_reset(&p->tcp, on_probe_closed) != 0)
        uv_close((uv_handle_t *)&p->tcp, on_probe_closed);
}

/* The address to connect to: the server's first, at the port it is bound to now (false when
 * it is not bound); a unix socket's answer is given at once instead (*answered). */
static bool server_address(hp__health_checker *c, uint64_t seq, const hp__probe_target *t,
                           struct sockaddr_storage *addr, bool *answered)
{
    const char *text =
        hp_server_listen_count(t->server) ? hp_server_listen_address(t->server, 0) : "";
    int port = hp_engine_bound_port(t->engine, t->server, 0);
    if (hp__socket_parse_address(text, addr) == 0 && addr->ss_family == AF_UNIX) {
        *answered = true;
        hp__health_checker_done(c, seq, hp__socket_unix_accepts(addr));
        return false;
    }
    if (hp__socket_parse_address(text, addr) != 0 || port == 0) return false;
    hp__socket_address_set_port(addr, port); /* the one chosen for port 0 */
    return true;
}

static void probe(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__probe_target *t = data;
    struct sockaddr_storage addr = t->addr;
    bool answered = false;
    if (t->server && !server_address(c, seq, t, &addr, &answered)) {
        if (!answered) hp__health_checker_done(c, seq, false); /* not bound: not healthy */
        return;
    }
    hp__tcp_probe *p = HP_NEW(hp__tcp_probe);
    p->checker = c;
    p->target = t;
    p->seq = seq;
    uv_tcp_init(t->loop, &p->tcp);
    p->tcp.data = p;
    p->connect.data = p;
    if (uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&addr, on_connected) != 0) {
        uv_close((uv_handle_t *)&p->tcp, on_probe_closed);
        hp__health_checker_done(c, seq, false);
        return;
    }
    t->in_flight = p;
}

static void cancel(hp__health_checker *c, uint64_t seq, void *data)
{
    hp__probe_target *t = data;
    if (!t->in_flight) return;
    t->in_flight->checker = NULL; /* its callback will only close it */
    t->in_flight = NULL;
}

const hp__health_probe_ops hp__tcp_probe_ops = {probe, cancel};
