/* The process gate: a process server's one handler, which proxies to its program when the
 * program is ready and says why not otherwise (hostpool/process.h's table).
 *
 * Per request, one acquire load of the supervisor's gate (pool/supervisor.h) decides:
 *   READY                     the inner proxy (inline upstream 127.0.0.1:port, passive checks
 *                             off, no retries, Host kept; a WebSocket goes through its tunnel)
 *   BOOTING                   the request waits for the supervisor (below)
 *   BACKOFF                   503 + Retry-After: the seconds until restart_at_ns, at least 1
 *   FAILED, STOPPED, STOPPING 503
 * Every refusal is a short JSON body {"error": "...", "server": "..."}; never a 500.
 *
 * Waiting: a call (io/call.h) carries a `gate_wait` to the control thread, where
 * hp__supervisor_wait answers it (at once, or when the program is ready, exits, times out, or
 * is stopped); the answer comes back to the request's worker as the call's return. The client
 * may leave meanwhile: the wait registers the request's done callback, which marks it `gone`
 * (on the worker, so without a lock), and the return then only frees it. The wait is the one
 * allocation, and only for requests that come while the program boots.
 *
 * The inner proxy keeps per-worker state (its connections): the gate's worker hooks are the
 * proxy's, so the workers record that state under the gate, and the gate hands it to the
 * proxy with the request (hp__proxy_handle).
 *
 * Threads: on_request and the wait's return run on a worker; the wait's on_control on the
 * control thread, the only one that touches the supervisor. */
#include "handlers/process_gate.h"

#include "common/alloc.h"
#include "handlers/proxy.h"
#include "io/call.h"
#include "upstream/upstream.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct process_gate {
    hp_handler base;
    hp_handler *proxy;          /* owned */
    hp__supervisor *supervisor; /* borrowed; touched on the control thread only */
    hp__process_gate *gate;     /* the supervisor's, read by workers */
    char *server;
} process_gate;

/* A request waiting for the program to be ready. */
typedef struct gate_wait {
    hp__call call; /* first */
    hp__process_waiter waiter;
    process_gate *g;
    hp_request *req; /* valid on the worker while !gone */
    hp__process_wait_result result;
    bool gone;
} gate_wait;

/* ---- refusals ---- */

static void refuse(process_gate *g, hp_request *req, int status, const char *error)
{
    char body[256];
    int n =
        snprintf(body, sizeof body, "{\"error\": \"%s\", \"server\": \"%s\"}\n", error, g->server);
    hp_response_header(req, "Content-Type", 12, "application/json", 16);
    hp_respond_copy(req, status, body, (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
}

/* The whole seconds until the restart at `at_ns` (CLOCK_MONOTONIC), rounded up, at least 1. */
static uint64_t seconds_until(uint64_t at_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t s = at_ns > now ? (at_ns - now + 999999999u) / 1000000000u : 1;
    return s ? s : 1;
}

static void refuse_backoff(process_gate *g, hp_request *req)
{
    char v[24];
    uint64_t at = atomic_load_explicit(&g->gate->restart_at_ns, memory_order_acquire);
    int n = snprintf(v, sizeof v, "%llu", (unsigned long long)seconds_until(at));
    hp_response_header(req, "Retry-After", 11, v, (size_t)n);
    refuse(g, req, 503, "the process exited and is waiting to restart");
}

/* 503 for a program that will not answer: stopped, stopping, or given up. */
static void refuse_down(process_gate *g, hp_request *req)
{
    uint32_t state = atomic_load_explicit(&g->gate->state, memory_order_acquire);
    refuse(g, req, 503,
           state == HP__PROCESS_FAILED ? "the process failed: its restart policy gave up"
                                       : "the process is not running");
}

static void proxy(process_gate *g, hp_request *req)
{
    hp__proxy_handle(g->proxy, hp_worker_data(hp_request_worker(req), &g->base), req);
}

/* ---- waiting while it boots ---- */

static void on_wait_back(hp__call *call, bool on_worker)
{
    gate_wait *w = (gate_wait *)call;
    if (on_worker && !w->gone) {
        hp_request *req = w->req;
        process_gate *g = w->g;
        hp_request_on_done(req, NULL, NULL); /* the answer below registers its own */
        switch (w->result) {
        case HP__WAIT_READY:
            proxy(g, req);
            break;
        case HP__WAIT_TIMEOUT:
            refuse(g, req, 504, "the process did not become ready within its boot_timeout");
            break;
        case HP__WAIT_BACKOFF:
            refuse_backoff(g, req);
            break;
        case HP__WAIT_FULL:
            refuse(g, req, 503, "the process is booting and its queue is full");
            break;
        case HP__WAIT_DOWN:
            refuse_down(g, req);
            break;
        }
    }
    free(w);
}

static void on_wait_done(hp__process_waiter *waiter, hp__process_wait_result result)
{
    gate_wait *w = (gate_wait *)((char *)waiter - offsetof(gate_wait, waiter));
    w->result = result;
    hp__call_return(&w->call, on_wait_back);
}

static void on_wait_control(hp__call *call)
{
    gate_wait *w = (gate_wait *)call;
    hp__supervisor_wait(w->g->supervisor, &w->waiter);
}

static void on_client_gone(hp_request *req, bool ok, void *data)
{
    gate_wait *w = data;
    w->gone = true;
}

static void wait_for_ready(process_gate *g, hp_request *req)
{
    gate_wait *w = HP_NEW(gate_wait);
    w->g = g;
    w->req = req;
    w->waiter.done = on_wait_done;
    hp_request_on_done(req, on_client_gone, w);
    hp__call_control(&w->call, on_wait_control);
}

/* ---- the handler ---- */

static void on_request(hp_handler *self, hp_request *req)
{
    process_gate *g = (process_gate *)self;
    switch (atomic_load_explicit(&g->gate->state, memory_order_acquire)) {
    case HP__PROCESS_READY:
        return proxy(g, req);
    case HP__PROCESS_BOOTING:
        return wait_for_ready(g, req);
    case HP__PROCESS_BACKOFF:
        return refuse_backoff(g, req);
    default:
        return refuse_down(g, req);
    }
}

static void *worker_start(hp_handler *self, hp_worker *worker)
{
    process_gate *g = (process_gate *)self;
    return g->proxy->vt->worker_start(g->proxy, worker);
}

static void worker_drain(hp_handler *self, hp_worker *worker, void *data)
{
    process_gate *g = (process_gate *)self;
    g->proxy->vt->worker_drain(g->proxy, worker, data);
}

static void worker_stop(hp_handler *self, hp_worker *worker, void *data)
{
    process_gate *g = (process_gate *)self;
    g->proxy->vt->worker_stop(g->proxy, worker, data);
}

static void destroy(hp_handler *self)
{
    process_gate *g = (process_gate *)self;
    hp_handler_destroy(g->proxy);
    free(g->server);
    free(g);
}

static const hp_handler_vtable gate_vtable = {
    .name = "process",
    .on_request = on_request,
    .destroy = destroy,
    .worker_start = worker_start,
    .worker_drain = worker_drain,
    .worker_stop = worker_stop,
};

/* The inline upstream of the program: one target, passive checks off (the supervisor knows
 * better whether it runs), no retries (there is no other target). */
/* Idle connections to the program kept per worker. */
#define PROGRAM_KEEPALIVE 1024

static hp_handler *proxy_to(uint16_t port)
{
    hp__upstream_model m;
    hp__upstream_model_init(&m);
    m.targets = hp__calloc(1, sizeof *m.targets);
    m.target_count = 1;
    char address[24];
    snprintf(address, sizeof address, "127.0.0.1:%u", port);
    m.targets[0].address = hp__strdup(address);
    m.targets[0].weight = 1;
    struct sockaddr_in *a = (struct sockaddr_in *)&m.targets[0].addr;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m.passive.max_fails = 0;
    m.retries = 0;
    /* The program is this server's alone and on loopback: keep every connection a burst
     * opened (nginx's keepalive 32 closed a third of them under 50 clients, each close a
     * TIME_WAIT and each reopen a connect: half the throughput). */
    m.keepalive = PROGRAM_KEEPALIVE;
    hp__upstream *u = hp__upstream_create(&m);
    hp__upstream_model_close(&m);
    hp_handler *h = hp__proxy_handler_create_with(u, NULL, HP_PROXY_HOST_KEEP, NULL, 0);
    hp__upstream_unref(u);
    return h;
}

hp_handler *hp__process_gate_create(hp__supervisor *supervisor, const char *server, uint16_t port)
{
    process_gate *g = HP_NEW(process_gate);
    g->base.vt = &gate_vtable;
    g->base.stream_request_body = true; /* the proxy pulls the body */
    g->proxy = proxy_to(port);
    g->supervisor = supervisor;
    g->gate = hp__supervisor_gate(supervisor);
    g->server = hp__strdup(server);
    return &g->base;
}
