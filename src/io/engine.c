/* The engine: worker threads and the listening sockets they share (include/hostpool/engine.h).
 *
 * Starting a server binds every listen address here, on the control thread, one socket per
 * worker (SO_REUSEPORT), then hands each worker its socket through the command queue. A new
 * address is first tried without SO_REUSEPORT (check_owner), so the engine never joins another
 * process's socket group. Servers with the same address share its sockets: each change of the
 * servers on an address publishes a new virtual-hosts table (http/vhosts.h) to every worker's
 * listener there. Stopping a server takes it off its addresses (the last one leaving closes the
 * sockets), then asks every worker to drain its requests in flight. Replacing one puts the new
 * version in the old one's place on every address they share, so those sockets never close.
 * Workers tell the control loop what they finished (a server stopped here, a listener closed,
 * the loop ended), and send it their handlers' calls (io/call.h), through one queue plus
 * `replies_ready`; a server's stop callback runs when every worker replied, the shutdown
 * callback when every worker exited. */
#include "hostpool/engine.h"
#include "hostpool/hooks.h"

#include "common/alloc.h"
#include "common/log.h"
#include "core/client_count.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "io/call.h"
#include "io/engine_call.h"
#include "io/engine_reserve.h"
#include "io/engine_stats.h"
#include "io/fd_limit.h"
#include "io/socket.h"
#include "io/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* One reply from a worker: a call (io/call.h) the engine itself handles, in the one queue to
 * the control loop that the workers' calls travel too. */
typedef struct engine_reply {
    hp__call call; /* first */
    hp__reply_type type;
    void *token;
} engine_reply;

/* A hp_engine_stop_server() in progress: done when every worker replied. */
typedef struct server_stop {
    hp_engine *engine;
    hp_server *server;
    unsigned workers_left;
    hp_engine_server_cb cb;
    void *data;
} server_stop;

/* One listen address, bound once per worker (SO_REUSEPORT), and the servers sharing it, in
 * the order they started. Sockets with a fixed port are found by address, so a server with
 * the same address joins the socket instead of binding again; port-0 sockets are never
 * shared. When the last server leaves, the socket is retiring until every worker closed its
 * listener there: it is no longer found by address, but still known as ours (check_owner).
 * Control thread only. */
typedef struct hp__listen_socket {
    struct sockaddr_storage addr; /* as parsed (port 0 stays 0) */
    int port;                     /* bound */
    const hp_server **servers;
    size_t count;
    unsigned closing; /* retiring: the workers whose listener is not closed yet */
    uint64_t fds;     /* what it may hold: workers x (its head's max_connections + 1) */
    struct hp__listen_socket *hash_next;
    struct hp__listen_socket *prev, *next; /* every socket, for hp_engine_destroy */
    hp__listener *listeners[]; /* one per worker: names it in commands; the worker's memory */
} listen_socket;

/* What the engine keeps of a server it started (the hp_server itself is immutable): the socket
 * of each of its listen addresses, NULL once it left it (stopping, or replaced), and the port
 * bound there. Found by the server's address. It lives from the start (or the replace that
 * put the server in) until its stop completed, so the port reads 0 from the stop's callback on.
 * Control thread only. */
typedef struct engine_server {
    const hp_server *server;
    struct engine_server *hash_next;
    listen_socket **sockets;
    int ports[]; /* then the sockets: one allocation */
} engine_server;

/* What starting a server will do with one of its addresses (see plan_address). */
typedef struct address_plan {
    struct sockaddr_storage addr;
    listen_socket *socket; /* to join or keep; NULL: bind a new one */
    bool keeps;            /* the socket is the old version's */
    int fds[HP_MAX_WORKERS];
    int port;
} address_plan;

#define SOCKET_BUCKETS 4096
#define SERVER_BUCKETS 4096

struct hp_engine {
    uv_loop_t *loop;
    listen_socket *buckets[SOCKET_BUCKETS];
    listen_socket *sockets;
    engine_server *servers[SERVER_BUCKETS];
    unsigned worker_count;
    hp__worker *workers[HP_MAX_WORKERS];
    uv_async_t replies_ready;
    hp__locked_queue replies;
    unsigned exited;
    bool shutting_down;
    bool stopped;
    hp_engine_stopped_cb stopped_cb;
    void *stopped_data;
    uint64_t fd_demand; /* the sum of the sockets' fds */
    uint64_t fd_limit;  /* RLIMIT_NOFILE when the engine was made */
    bool fds_warned;
    bool has_reserved; /* connections to `reserved` may use the workers' reserve descriptor */
    hp__client_count *clients; /* open connections by client address, every worker's */
    hp_hooks hooks;            /* the options' copy, which the workers' contexts borrow */
    struct sockaddr_storage reserved;
};

/* Worker threads: queue the reply and wake the control loop. The worker then yields: when the
 * control thread shares its CPU (one CPU per worker leaves it none of its own), it runs now
 * instead of after the busy worker's time slice; replies are rare, so the syscall is cheap.
 * Measured: a server's remove under load took a median 0.6-0.8 ms without, 0.1-0.3 ms with. */
static void on_reply(hp__call *call);

static void on_worker_reply(hp__worker *w, hp__reply_type type, void *token, void *data)
{
    hp_engine *e = data;
    hp__call *call = token;
    if (type != HP__REPLY_CALL) {
        engine_reply *r = HP_NEW(engine_reply);
        r->type = type;
        r->token = token;
        r->call.on_control = on_reply;
        call = &r->call;
    }
    hp__locked_queue_push(&e->replies, &call->item);
    uv_async_send(&e->replies_ready);
    sched_yield();
}

static void on_async_closed(uv_handle_t *h)
{
    hp_engine *e = h->data;
    if (e->stopped_cb) e->stopped_cb(e, e->stopped_data);
}

static void all_workers_exited(hp_engine *e)
{
    e->stopped = true;
    for (unsigned i = 0; i < e->worker_count; i++) {
        hp__worker_destroy(e->workers[i]);
        e->workers[i] = NULL;
    }
    uv_close((uv_handle_t *)&e->replies_ready, on_async_closed);
}

/* ---- started servers ---------------------------------------------------------------------- */

static engine_server **server_bucket(const hp_engine *e, const hp_server *server)
{
    uint64_t h = (uint64_t)(uintptr_t)server * 0x9E3779B97F4A7C15u;
    return (engine_server **)&e->servers[(h >> 32) % SERVER_BUCKETS];
}

/* The record of `server`, or NULL when it is not started here. */
static engine_server *server_find(const hp_engine *e, const hp_server *server)
{
    engine_server *r = *server_bucket(e, server);
    while (r && r->server != server) r = r->hash_next;
    return r;
}

static engine_server *server_record(hp_engine *e, const hp_server *server)
{
    engine_server *r = server_find(e, server);
    if (r) return r;
    size_t n = server->listen_count, ports = n + (n & 1); /* the sockets stay pointer-aligned */
    r = hp__calloc(1, sizeof *r + ports * sizeof r->ports[0] + n * sizeof *r->sockets);
    r->server = server;
    r->sockets = (listen_socket **)&r->ports[ports];
    engine_server **bucket = server_bucket(e, server);
    r->hash_next = *bucket;
    *bucket = r;
    return r;
}

static void server_forget(hp_engine *e, const hp_server *server)
{
    engine_server **pp = server_bucket(e, server);
    while (*pp && (*pp)->server != server) pp = &(*pp)->hash_next;
    if (!*pp) return;
    engine_server *r = *pp;
    *pp = r->hash_next;
    free(r);
}

int hp_engine_bound_port(const hp_engine *e, const hp_server *server, size_t i)
{
    const engine_server *r = server_find(e, server);
    return r && i < server->listen_count ? r->ports[i] : 0;
}

static void server_stop_reply(server_stop *st)
{
    if (--st->workers_left > 0) return;
    server_forget(st->engine, st->server); /* before the callback, which may start it again */
    if (st->cb) st->cb(st->engine, st->server, st->data);
    free(st);
}

static void socket_free(hp_engine *e, listen_socket *ls);

/* A worker closed its listener of a retiring socket; the last one frees the record. */
static void socket_closed_reply(hp_engine *e, listen_socket *ls)
{
    if (--ls->closing == 0) socket_free(e, ls);
}

static void on_reply(hp__call *call)
{
    engine_reply *r = (engine_reply *)call;
    hp_engine *e = call->engine;
    if (r->type == HP__REPLY_SERVER_STOPPED) {
        server_stop_reply(r->token);
    } else if (r->type == HP__REPLY_LISTENER_CLOSED) {
        socket_closed_reply(e, r->token);
    } else if (r->type == HP__REPLY_EXITED) {
        e->exited++;
    }
    free(r);
}

static void on_replies(uv_async_t *a)
{
    hp_engine *e = a->data;
    hp__call *call = (hp__call *)hp__locked_queue_take_all(&e->replies);
    while (call) {
        hp__call *next = (hp__call *)call->item.next;
        call->engine = e;
        call->on_control(call);
        call = next;
    }
    if (e->exited == e->worker_count && !e->stopped) all_workers_exited(e);
}

/* Sets worker `w`'s own fields in its copy of a command posted to every worker. */
typedef void (*command_fill_fn)(hp__command *cmd, unsigned w, const void *arg);

/* Posts a copy of `cmd` to every worker, the one way the control thread talks to them all;
 * `fill` (NULL: none) sets what differs from one worker to the next. */
static void post_all(hp_engine *e, hp__command cmd, command_fill_fn fill, const void *arg)
{
    for (unsigned w = 0; w < e->worker_count; w++) {
        hp__command *copy = HP_NEW(hp__command);
        *copy = cmd;
        if (fill) fill(copy, w, arg);
        hp__worker_post(e->workers[w], copy);
    }
}

static void fill_slot(hp__command *cmd, unsigned w, const void *slots)
{
    cmd->slot = ((hp__snapshot_slot *const *)slots)[w];
}

void hp__engine_publish(hp_engine *e, hp__snapshot_slot *const *slots, hp__snapshot *snapshot)
{
    post_all(e, (hp__command){.type = HP__CMD_PUBLISH, .snapshot = snapshot}, fill_slot, slots);
}

int hp_engine_create(uv_loop_t *loop, const hp_engine_options *options, hp_engine **out)
{
    unsigned n =
        options && options->workers ? options->workers : (unsigned)uv_available_parallelism();
    if (n == 0 || n > HP_MAX_WORKERS) return HP_EINVAL;
    hp_engine *e = HP_NEW(hp_engine);
    e->loop = loop;
    e->worker_count = n;
    e->fd_limit = hp__fd_limit();
    hp__locked_queue_init(&e->replies);
    uv_async_init(loop, &e->replies_ready, on_replies);
    e->replies_ready.data = e;
    if (options && options->hooks) e->hooks = *options->hooks;
    const hp_hooks *hooks = options && options->hooks ? &e->hooks : NULL;
    e->clients = hp__client_count_create(HP__CLIENT_COUNT_DEFAULT_MAX);
    for (unsigned i = 0; i < n; i++) {
        e->workers[i] = hp__worker_create(i, on_worker_reply, e, hooks);
        hp__worker_http(e->workers[i])->clients = e->clients; /* before its thread runs */
        int err = hp__worker_start(e->workers[i]);
        if (err) {
            /* Fatal for the process: threads are a basic resource. */
            fprintf(stderr, "hostpool: cannot start worker thread: %s\n", uv_strerror(err));
            abort();
        }
    }
    *out = e;
    return 0;
}

void hp__engine_set_upstreams(hp_engine *e, struct hp__upstreams *upstreams)
{
    for (unsigned i = 0; i < e->worker_count; i++)
        hp__worker_context(e->workers[i])->upstreams = upstreams;
}

unsigned hp_engine_worker_count(const hp_engine *e)
{
    return e->worker_count;
}

/* ---- listen sockets ----------------------------------------------------------------------- */

static listen_socket **bucket_of(hp_engine *e, const struct sockaddr_storage *addr)
{
    return &e->buckets[hp__socket_address_hash(addr) % SOCKET_BUCKETS];
}

/* A started socket bound to `addr` that other servers may join (not port 0), or NULL. */
static listen_socket *socket_find(hp_engine *e, const struct sockaddr_storage *addr)
{
    if (hp__socket_address_port(addr) == 0) return NULL;
    for (listen_socket *ls = *bucket_of(e, addr); ls; ls = ls->hash_next)
        if (hp__socket_address_equal(&ls->addr, addr)) return ls;
    return NULL;
}

/* Keeps the sum of what the sockets may hold, and says once when it is more than the process
 * may open: at the limit accepting pauses (worker.c), it does not fail. */
static void count_fds(hp_engine *e, listen_socket *ls)
{
    const hp_server *head = ls->count ? hp__vhosts_head_of(ls->servers, ls->count) : NULL;
    e->fd_demand -= ls->fds;
    ls->fds = head ? e->worker_count * ((uint64_t)head->limits.max_connections + 1) : 0;
    e->fd_demand += ls->fds;
    if (e->fd_demand <= e->fd_limit || e->fds_warned) return;
    e->fds_warned = true;
    hp__warn("the servers may hold up to %llu connections (workers x max_connections of each "
             "address), more than the %llu files this process may open (RLIMIT_NOFILE): past "
             "that, accepting pauses until connections close",
             (unsigned long long)e->fd_demand, (unsigned long long)e->fd_limit);
}

/* Publishes the socket's current servers to every worker. */
static void socket_publish(hp_engine *e, listen_socket *ls)
{
    count_fds(e, ls);
    hp__vhosts *v = hp__vhosts_create(ls->servers, ls->count, e->worker_count);
    hp__snapshot_slot *slots[HP_MAX_WORKERS];
    for (unsigned w = 0; w < e->worker_count; w++) slots[w] = &ls->listeners[w]->routing;
    hp__engine_publish(e, slots, &v->snapshot);
}

/* Worker w's listener of a socket and, when it opens, its socket (address_plan.fds). */
typedef struct listener_fill {
    listen_socket *socket;
    const int *fds;
} listener_fill;

static void fill_listener(hp__command *cmd, unsigned w, const void *arg)
{
    const listener_fill *f = arg;
    cmd->listener = f->socket->listeners[w];
    if (f->fds) cmd->fd = f->fds[w];
}

static listen_socket *socket_open(hp_engine *e, const address_plan *plan, const hp_server *server)
{
    listen_socket *ls = hp__calloc(1, sizeof *ls + e->worker_count * sizeof ls->listeners[0]);
    ls->addr = plan->addr;
    ls->port = plan->port;
    ls->servers = hp__calloc(1, sizeof *ls->servers);
    ls->servers[ls->count++] = server;
    ls->next = e->sockets;
    if (e->sockets) e->sockets->prev = ls;
    e->sockets = ls;
    if (hp__socket_address_port(&ls->addr) != 0) {
        listen_socket **bucket = bucket_of(e, &ls->addr);
        ls->hash_next = *bucket;
        *bucket = ls;
    }
    count_fds(e, ls);
    bool reserved = e->has_reserved && hp__socket_address_equal(&e->reserved, &ls->addr);
    for (unsigned w = 0; w < e->worker_count; w++) {
        ls->listeners[w] = HP_NEW(hp__listener);
        ls->listeners[w]->local = ls->addr.ss_family == AF_UNIX;
        ls->listeners[w]->reserved = reserved;
    }
    hp__vhosts *v = hp__vhosts_create(ls->servers, 1, e->worker_count);
    post_all(e, (hp__command){.type = HP__CMD_LISTEN, .snapshot = &v->snapshot}, fill_listener,
             &(listener_fill){ls, plan->fds});
    return ls;
}

static void socket_join(hp_engine *e, listen_socket *ls, const hp_server *server)
{
    ls->servers = hp__realloc(ls->servers, (ls->count + 1) * sizeof *ls->servers);
    ls->servers[ls->count++] = server;
    socket_publish(e, ls);
}

static void socket_swap(hp_engine *e, listen_socket *ls, const hp_server *old,
                        const hp_server *server)
{
    for (size_t i = 0; i < ls->count; i++)
        if (ls->servers[i] == old) ls->servers[i] = server;
    socket_publish(e, ls);
}

static void socket_free(hp_engine *e, listen_socket *ls)
{
    if (ls->prev) {
        ls->prev->next = ls->next;
    } else {
        e->sockets = ls->next;
    }
    if (ls->next) ls->next->prev = ls->prev;
    free(ls->servers);
    free(ls);
}

/* `server` leaves `ls`; the last one to leave closes it on every worker, and the record goes
 * when they all replied that they did. */
static void socket_leave(hp_engine *e, listen_socket *ls, const hp_server *server)
{
    size_t i = 0;
    while (ls->servers[i] != server) i++;
    memmove(&ls->servers[i], &ls->servers[i + 1], (ls->count - i - 1) * sizeof *ls->servers);
    if (--ls->count > 0) {
        socket_publish(e, ls);
        return;
    }
    count_fds(e, ls);
    ls->closing = e->worker_count;
    post_all(e, (hp__command){.type = HP__CMD_CLOSE_LISTENER, .token = ls}, fill_listener,
             &(listener_fill){ls, NULL});
    if (hp__socket_address_port(&ls->addr) != 0) {
        listen_socket **pp = bucket_of(e, &ls->addr);
        while (*pp != ls) pp = &(*pp)->hash_next;
        *pp = ls->hash_next;
    }
    hp__socket_unlink(&ls->addr); /* a unix socket's file goes with its last server */
}

/* ---- planning a start or a replace -------------------------------------------------------- */

/* The socket the server of `old` (NULL: none) has for `addr`: a new version takes it over. */
static listen_socket *old_socket(const engine_server *old, const struct sockaddr_storage *addr)
{
    for (size_t i = 0; old && i < old->server->listen_count; i++)
        if (old->sockets[i] && hp__socket_address_equal(&old->sockets[i]->addr, addr))
            return old->sockets[i];
    return NULL;
}

/* Can `server` share `ls` with the servers there (but `old`, which it replaces)? */
static int check_sharing(const listen_socket *ls, const hp_server *old, const hp_server *server,
                         const char *text, char *errbuf, size_t errlen)
{
    const hp_server *others[ls->count];
    size_t n = 0;
    for (size_t i = 0; i < ls->count; i++)
        if (ls->servers[i] != old) others[n++] = ls->servers[i];
    char why[200];
    int err = hp__vhosts_conflict(others, n, server, why, sizeof why);
    if (err && errbuf) snprintf(errbuf, errlen, "listen %s: %s", text, why);
    return err;
}

static bool listed_before(const address_plan *plans, size_t i)
{
    if (hp__socket_address_port(&plans[i].addr) == 0) return false;
    for (size_t k = 0; k < i; k++)
        if (hp__socket_address_equal(&plans[k].addr, &plans[i].addr)) return true;
    return false;
}

/* May this engine make a new socket group on `addr`? Not when another process listens there
 * or on an overlapping address: SO_REUSEPORT would let us join its group (any process of the
 * same user may) and the two would split the connections. A trial bind without SO_REUSEPORT
 * fails then, with "address already in use". It fails as well when the socket in the way is
 * one of ours: a specific address beside our wildcard on the same port (both bind, Linux hands
 * a connection to the most specific), or a socket still closing on the workers after its last
 * server left (a reload that moves an address from one server to another). Those we know, so
 * the failure is ours to ignore. Port 0 gets a port no one listens on; a unix socket is
 * exclusive by itself (socket.c). */
static int check_owner(const hp_engine *e, const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_UNIX || hp__socket_address_port(addr) == 0) return 0;
    int err = hp__socket_probe(addr);
    if (err != UV_EADDRINUSE) return err;
    for (const listen_socket *ls = e->sockets; ls; ls = ls->next) {
        struct sockaddr_storage bound = ls->addr;
        hp__socket_address_set_port(&bound, ls->port);
        if (hp__socket_addresses_overlap(&bound, addr)) return 0;
    }
    return err;
}

/* Decides, for one listen address of `server`, whether it keeps `old`'s socket, joins a socket
 * other servers have, or binds a new one (binding now, so errors are immediate). */
static int plan_address(hp_engine *e, const hp_server *old, const hp_server *server, size_t i,
                        address_plan *plans, char *errbuf, size_t errlen)
{
    const char *text = server->listen[i];
    address_plan *plan = &plans[i];
    if (hp__socket_parse_address(text, &plan->addr) != 0) {
        if (errbuf) snprintf(errbuf, errlen, "listen %s: not an address (host:port)", text);
        return HP_EADDR;
    }
    if (listed_before(plans, i)) {
        if (errbuf) snprintf(errbuf, errlen, "listen %s: listed twice", text);
        return HP_EADDR;
    }
    plan->socket = old_socket(server_find(e, old), &plan->addr);
    plan->keeps = plan->socket != NULL;
    if (!plan->socket) plan->socket = socket_find(e, &plan->addr);
    if (plan->socket) return check_sharing(plan->socket, old, server, text, errbuf, errlen);
    int err = check_owner(e, &plan->addr);
    if (!err) err = hp__socket_listen_many(&plan->addr, e->worker_count, plan->fds, &plan->port);
    if (err && errbuf) snprintf(errbuf, errlen, "listen %s: %s", text, uv_strerror(err));
    return err;
}

static void close_planned(hp_engine *e, address_plan *plans, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!plans[i].socket)
            for (unsigned w = 0; w < e->worker_count; w++) close(plans[i].fds[w]);
}

/* Puts `server` on its addresses in place of `old` (NULL: none); `old` leaves the addresses
 * the new version does not have. Nothing changes on error. */
static int install(hp_engine *e, const hp_server *old, hp_server *server, char *errbuf,
                   size_t errlen)
{
    hp__server_attach_stats(server, e->worker_count);
    hp__server_attach_journal(server, e->worker_count);
    size_t n = server->listen_count;
    address_plan *plans = hp__calloc(n, sizeof *plans);
    for (size_t i = 0; i < n; i++) {
        int err = plan_address(e, old, server, i, plans, errbuf, errlen);
        if (err) {
            close_planned(e, plans, i);
            free(plans);
            return err;
        }
    }
    engine_server *record = server_record(e, server);
    for (size_t i = 0; i < n; i++) {
        address_plan *plan = &plans[i];
        if (plan->keeps) {
            socket_swap(e, plan->socket, old, server);
        } else if (plan->socket) {
            socket_join(e, plan->socket, server);
        } else {
            plan->socket = socket_open(e, plan, server);
        }
        record->sockets[i] = plan->socket;
        record->ports[i] = plan->socket->port;
    }
    free(plans);
    engine_server *was = server_find(e, old);
    for (size_t i = 0; was && i < old->listen_count; i++)
        if (was->sockets[i] && !old_socket(record, &was->sockets[i]->addr))
            socket_leave(e, was->sockets[i], old);
    return 0;
}

/* Every socket of `server` forgets it; its record stays until its stop completed. */
static void uninstall(hp_engine *e, const hp_server *server)
{
    engine_server *r = server_find(e, server);
    for (size_t i = 0; r && i < server->listen_count; i++) {
        if (r->sockets[i]) socket_leave(e, r->sockets[i], server);
        r->sockets[i] = NULL;
    }
}

/* ---- servers ------------------------------------------------------------------------------ */

int hp_engine_start_server(hp_engine *e, hp_server *server, char *errbuf, size_t errlen)
{
    if (e->shutting_down) return HP_ESTATE;
    return install(e, NULL, server, errbuf, errlen);
}

/* Drains `server` on every worker (it is on no listener any more); `cb` once all of them
 * replied. */
static void drain_on_workers(hp_engine *e, hp_server *server, uint64_t drain_timeout_ms,
                             hp_engine_server_cb cb, void *data)
{
    server_stop *st = HP_NEW(server_stop);
    st->engine = e;
    st->server = server;
    st->workers_left = e->worker_count;
    st->cb = cb;
    st->data = data;
    post_all(e,
             (hp__command){.type = HP__CMD_STOP_SERVER,
                           .server = server,
                           .timeout_ms = drain_timeout_ms,
                           .token = st},
             NULL, NULL);
}

int hp_engine_stop_server(hp_engine *e, hp_server *server, uint64_t drain_timeout_ms,
                          hp_engine_server_cb cb, void *data)
{
    if (e->shutting_down) return HP_ESTATE;
    uninstall(e, server);
    drain_on_workers(e, server, drain_timeout_ms, cb, data);
    return 0;
}

int hp_engine_replace_server(hp_engine *e, hp_server *old, hp_server *replacement,
                             uint64_t drain_timeout_ms, hp_engine_server_cb cb, void *data,
                             char *errbuf, size_t errlen)
{
    if (e->shutting_down) return HP_ESTATE;
    int err = install(e, old, replacement, errbuf, errlen);
    if (err) return err;
    engine_server *was = server_find(e, old);
    if (was) memset(was->sockets, 0, old->listen_count * sizeof *was->sockets);
    drain_on_workers(e, old, drain_timeout_ms, cb, data);
    return 0;
}

void hp__engine_server_connections(const hp_engine *e, const hp_server *server, uint64_t *open,
                                   uint64_t *idle)
{
    *open = *idle = 0;
    const engine_server *r = server_find(e, server);
    for (size_t i = 0; r && i < server->listen_count; i++) {
        const listen_socket *ls = r->sockets[i];
        if (!ls || hp__vhosts_head_of(ls->servers, ls->count) != server) continue;
        for (unsigned w = 0; w < e->worker_count; w++) {
            hp__conn_gauges *g = &ls->listeners[w]->gauges;
            *open += atomic_load_explicit(&g->open, memory_order_relaxed);
            *idle += atomic_load_explicit(&g->idle, memory_order_relaxed);
        }
    }
}

int hp__engine_reserve_for(hp_engine *e, const char *address)
{
    if (hp__socket_parse_address(address, &e->reserved) != 0) return HP_EADDR;
    e->has_reserved = true;
    return 0;
}

void hp__engine_call_worker(hp_engine *e, unsigned worker, hp__worker_call_fn fn, void *arg)
{
    if (!e->workers[worker]) { /* destroyed: it ended and will never run anything */
        fn(arg, false);
        return;
    }
    hp__command *cmd = HP_NEW(hp__command);
    cmd->type = HP__CMD_CALL;
    cmd->call = fn;
    cmd->call_arg = arg;
    hp__worker_post(e->workers[worker], cmd);
}

void hp_engine_shutdown(hp_engine *e, uint64_t drain_timeout_ms, hp_engine_stopped_cb cb,
                        void *data)
{
    if (e->shutting_down) return;
    e->shutting_down = true;
    e->stopped_cb = cb;
    e->stopped_data = data;
    post_all(e, (hp__command){.type = HP__CMD_DRAIN, .timeout_ms = drain_timeout_ms}, NULL, NULL);
}

void hp_engine_destroy(hp_engine *e)
{
    if (!e) return;
    while (e->sockets) socket_free(e, e->sockets); /* the workers freed their listeners */
    for (size_t b = 0; b < SERVER_BUCKETS; b++)    /* the servers still started at shutdown */
        while (e->servers[b]) server_forget(e, e->servers[b]->server);
    hp__locked_queue_close(&e->replies);
    hp__client_count_destroy(e->clients); /* the workers, and their connections, are gone */
    free(e);
}
