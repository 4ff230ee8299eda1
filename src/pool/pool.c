/* The pool (include/hostpool/pool.h): a registry of named servers over one engine.
 *
 * Design: everything here runs on the control loop, so the registry needs no lock. Entries are
 * kept in insertion order (a list) and found by name through a small chained hash table.
 * Per-server operations map onto the engine: start = hp_engine_start_server (synchronous
 * bind), stop = hp_engine_stop_server (asynchronous drain). An entry that is stopping keeps
 * the callbacks waiting for it; remove and restart are built on that. A process server
 * (hostpool/process.h) adds its program: a supervisor (pool/supervisor.h) made with the
 * server, whose gate (handlers/process_gate.c) is the server's one route; start = bind, then
 * the supervisor's start, and the entry runs when the supervisor says READY; stop = the drain
 * and the supervisor's stop, done when both are.
 *
 * Invariants: an entry's state is DRAINING exactly while an engine stop of its server is in
 * flight; it is STARTING only within a start, from the add of a server made on first use
 * (hp_pool_get_or_create sets `making`) to the end of its start, and while a process server's
 * program boots for its first ready; `bound` is true from a successful bind to the end of the
 * stop (a process server whose program gave up is FAILED and still bound); a supervisor lives
 * as long as the server version whose gate uses it; `count` includes every entry (so
 * max_servers covers servers being added or started); a removed entry is unlinked at once but
 * freed only when its drain completed; `retiring` counts the replaced versions not yet drained
 * (with their programs stopped), and a shutdown says pool.stopped only once it is 0. */
#include "hostpool/pool.h"

#include "common/alloc.h"
#include "config/config_process.h"
#include "core/events.h"
#include "core/filter.h"
#include "core/health.h"
#include "core/host_name.h"
#include "pool/health_probe.h"
#include "pool/pool_internal.h"
#include "pool/server_copy.h"
#include "switch/switchboard.h"
#include "core/ports.h"
#include "handlers/process_gate.h"
#include "hostpool/engine.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "io/engine_call.h"
#include "io/socket.h"
#include "pool/supervisor.h"
#include "upstream/upstreams.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

typedef struct waiter {
    hp_pool_server_cb cb;
    void *data;
    bool then_start; /* restart: start again once stopped */
    bool then_remove;
    struct waiter *next;
} waiter;

struct entry;

/* A process server's program (hostpool/process.h): its config, its supervisor and its port.
 * Owned by its entry, or, after a replace, by the retired version until that has drained and
 * the program stopped; `entry` is then NULL, so the supervisor's hooks only publish. */
typedef struct process {
    struct hp_pool *pool;
    struct entry *entry; /* NULL once retired */
    char *name;
    hp__process_model model;
    hp__supervisor *supervisor;
    uint16_t port;
    bool port_auto; /* taken from the range: given back when the process is freed */
} process;

typedef struct entry {
    struct hp_pool *pool;
    char *name;
    hp_server *server;
    hp_server_state state;
    char *last_error;
    uint64_t started_ms;
    uint64_t starts;            /* successful starts since it was added */
    int *auto_ports;            /* per listen address: the port taken from the range, or 0 */
    waiter *waiters;            /* callbacks waiting for the drain in flight */
    hp__health_checker checker; /* runs while the server runs */
    hp__probe_target probe_target;
    char *switchboard;     /* the switchboard that made it on demand, or NULL */
    process *process;      /* a process server's program, else NULL */
    bool bound;            /* its addresses are bound: from a start to the end of a stop */
    unsigned stop_parts;   /* of a stop in flight: the drain, and the program's stop */
    waiter *ready_waiters; /* get_or_create callbacks waiting for the program to be ready */
    bool removed;
    struct entry *hash_next;
    struct entry *prev, *next; /* insertion order */
} entry;

struct hp_pool {
    uv_loop_t *loop;
    hp_engine *engine;
    hp__events *events;
    hp__ports ports;
    hp_pool_options options;
    uint64_t created_ms;
    hp__uv_sched health_sched;
    hp__health_config health_config;
    hp__upstreams *upstreams; /* named upstreams, checked on health_sched */
    uint32_t health_starts;   /* for next_health_phase() */
    entry *buckets[BUCKETS];
    entry *first, *last;
    size_t count;
    bool shutting_down;
    bool servers_stopped;          /* the shutdown's stop of every server is done */
    size_t retiring;               /* replaced versions still draining or stopping their program */
    const char *making;            /* the name hp_pool_get_or_create's maker is adding, or NULL */
    hp__switchboard *switchboards; /* switch/switchboard.h, a list */
    uint64_t journal_drops_task;   /* on health_sched while a server has a journal; 0: none */
    hp_pool_cb shutdown_cb;
    void *shutdown_data;
};

/* ---- registry ----------------------------------------------------------------------------- */

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static entry *find(const hp_pool *p, const char *name)
{
    for (entry *e = p->buckets[hash_name(name) % BUCKETS]; e; e = e->hash_next)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}

static void link_entry(hp_pool *p, entry *e)
{
    entry **bucket = &p->buckets[hash_name(e->name) % BUCKETS];
    e->hash_next = *bucket;
    *bucket = e;
    e->prev = p->last;
    if (p->last) {
        p->last->next = e;
    } else {
        p->first = e;
    }
    p->last = e;
    p->count++;
}

static void unlink_entry(hp_pool *p, entry *e)
{
    entry **pp = &p->buckets[hash_name(e->name) % BUCKETS];
    while (*pp != e) pp = &(*pp)->hash_next;
    *pp = e->hash_next;
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        p->first = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        p->last = e->prev;
    }
    p->count--;
    e->removed = true;
}

static void release_ports(hp_pool *p, entry *e)
{
    for (size_t i = 0; i < hp_server_listen_count(e->server); i++)
        if (e->auto_ports[i]) hp__ports_release(&p->ports, (uint16_t)e->auto_ports[i]);
}

static void process_free(process *proc);
static void flush_ready_waiters(entry *e, int status);

static void entry_free(hp_pool *p, entry *e)
{
    hp__health_checker_stop(&e->checker);
    flush_ready_waiters(e, HP_ESTATE);
    process_free(e->process);
    release_ports(p, e);
    hp_server_destroy(e->server);
    free(e->auto_ports);
    free(e->last_error);
    free(e->switchboard);
    free(e->name);
    free(e);
}

/* ---- events ------------------------------------------------------------------------------- */

static void publish(hp_pool *p, const char *topic, const entry *e, int port, const char *message)
{
    hp__event ev = {
        .topic = topic,
        .server = e ? e->name : NULL,
        .port = port,
        .message = message,
        .switchboard = e ? e->switchboard : NULL,
        .time_ms = uv_now(p->loop),
    };
    hp__events_publish(p->events, &ev);
}

static int first_port(const entry *e)
{
    return hp_engine_bound_port(e->pool->engine, e->server, 0);
}

static void set_error(entry *e, const char *message)
{
    free(e->last_error);
    e->last_error = message ? hp__strdup(message) : NULL;
}

/* ---- process servers --------------------------------------------------------------------- */

/* A process server is bound, then `starting` until its supervisor says READY, then `running`;
 * it stays `running` across the program's restarts and becomes `failed` (still bound: its
 * requests get 503 from the gate) when the supervisor gives up. The supervisor's hooks come
 * here; a retired supervisor's (entry NULL) only publish. */

static void publish_process_event(hp__supervisor *s, hp_event *event, void *data)
{
    process *proc = data;
    event->server = proc->name;
    event->switchboard = proc->entry ? proc->entry->switchboard : NULL;
    event->time_ms = uv_now(proc->pool->loop);
    hp__events_publish(proc->pool->events, event);
}

static void flush_ready_waiters(entry *e, int status)
{
    waiter *w = e->ready_waiters;
    e->ready_waiters = NULL;
    while (w) {
        waiter *next = w->next;
        if (w->cb) w->cb(e->pool, e->name, status, w->data);
        free(w);
        w = next;
    }
}

static void entry_running(hp_pool *p, entry *e);

/* The program gave up, or its policy keeps it down: the entry fails, its addresses bound. */
static void process_failed(entry *e)
{
    hp__supervisor_info info;
    hp__supervisor_info_get(e->process->supervisor, &info);
    char why[160];
    if (info.last_signal > 0)
        snprintf(why, sizeof why, "the process was killed by signal %d and is not restarted",
                 info.last_signal);
    else
        snprintf(why, sizeof why, "the process exited with code %d and is not restarted",
                 info.last_exit_code);
    e->state = HP_SERVER_FAILED;
    e->started_ms = 0;
    hp__health_checker_stop(&e->checker);
    set_error(e, why);
    publish(e->pool, "server.failed", e, 0, why);
    flush_ready_waiters(e, HP_ESTATE);
}

static void on_process_state(hp__supervisor *s, hp__process_state from, hp__process_state to,
                             void *data)
{
    process *proc = data;
    entry *e = proc->entry;
    if (!e || e->state == HP_SERVER_DRAINING) return;
    if (to == HP__PROCESS_READY && e->state == HP_SERVER_STARTING) {
        entry_running(e->pool, e);
        flush_ready_waiters(e, 0);
    } else if (to == HP__PROCESS_FAILED &&
               (e->state == HP_SERVER_STARTING || e->state == HP_SERVER_RUNNING)) {
        process_failed(e);
    }
}

/* Can 127.0.0.1:port be bound now? For the program's automatic port. */
static bool port_is_free(uint16_t port, void *data);

/* What the health checks of `e` connect to: its first address, or, for a process server, its
 * program's port (hostpool's own address answers even while the program is down). */
static void aim_health_checks(entry *e)
{
    hp__probe_target *t = &e->probe_target;
    t->server = e->process ? NULL : e->server;
    if (e->process) uv_ip4_addr("127.0.0.1", e->process->port, (struct sockaddr_in *)&t->addr);
}

/* A process for the server `c` (c->process set): its port (`auto`: a new one from the range,
 * also for a replace, so that the new program can boot while the old one still serves), its
 * supervisor. NULL with errbuf set on an error. */
static process *process_create(hp_pool *p, const hp_server_config *c, char *errbuf, size_t errlen)
{
    process *proc = HP_NEW(process);
    proc->pool = p;
    proc->name = hp__strdup(c->name ? c->name : "");
    hp__process_model_copy(&proc->model, c->process);
    proc->port = c->process->port;
    if (!proc->port) {
        if (hp__ports_take(&p->ports, port_is_free, "127.0.0.1", &proc->port) != 0) {
            snprintf(errbuf, errlen, "process.port: no free port left in %u-%u",
                     p->options.port_min, p->options.port_max);
            process_free(proc);
            return NULL;
        }
        proc->port_auto = true;
    }
    hp__supervisor_options o = {
        .name = proc->name,
        .config = &proc->model.config,
        .port = proc->port,
        .hooks = {.publish = publish_process_event, .on_state = on_process_state},
        .data = proc,
    };
    char why[200];
    if (hp__supervisor_create(p->loop, &o, &proc->supervisor, why, sizeof why) != 0) {
        snprintf(errbuf, errlen, "process: %s", why);
        process_free(proc);
        return NULL;
    }
    return proc;
}

/* Frees `proc`: its supervisor (killing what still runs) and its automatic port. NULL is a
 * no-op. */
static void process_free(process *proc)
{
    if (!proc) return;
    hp__supervisor_destroy(proc->supervisor);
    if (proc->port_auto) hp__ports_release(&proc->pool->ports, proc->port);
    hp__process_model_free(&proc->model);
    free(proc->name);
    free(proc);
}

/* ---- creation ----------------------------------------------------------------------------- */

const char *hp_server_state_name(hp_server_state state)
{
    static const char *const names[] = {"stopped", "starting", "running", "draining", "failed"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "unknown";
}

int hp_pool_create(uv_loop_t *loop, const hp_pool_options *options, hp_pool **out)
{
    hp_pool_options o = options ? *options : (hp_pool_options){0};
    if (!o.max_servers) o.max_servers = 1000;
    if (!o.port_min && !o.port_max) o.port_min = 20000, o.port_max = 20999;
    if (!o.drain_timeout_ms) o.drain_timeout_ms = 30000;
    if (o.port_min > o.port_max || o.port_min == 0) return HP_EINVAL;
    hp_pool *p = HP_NEW(hp_pool);
    hp_engine_options eo = {.workers = o.workers, .hooks = o.hooks};
    int err = hp_engine_create(loop, &eo, &p->engine);
    if (err) {
        free(p);
        return err;
    }
    p->loop = loop;
    p->options = o;
    p->created_ms = uv_now(loop);
    p->events = hp__events_create();
    hp__uv_sched_init(&p->health_sched, loop);
    p->upstreams = hp__upstreams_create(loop, &p->health_sched.sched, p->events);
    hp__engine_set_upstreams(p->engine, p->upstreams);
    hp__health_config_default(&p->health_config);
    if (o.health_interval_ms) p->health_config.interval_ms = o.health_interval_ms;
    if (o.health_rise) p->health_config.rise = o.health_rise;
    if (o.health_fall) p->health_config.fall = o.health_fall;
    if (p->health_config.timeout_ms > p->health_config.interval_ms)
        p->health_config.timeout_ms = p->health_config.interval_ms;
    hp__ports_init(&p->ports, o.port_min, o.port_max);
    *out = p;
    return 0;
}

/* ---- adding ------------------------------------------------------------------------------- */

/* Gives back the ports of `taken` (n of them) that `holder` (may be NULL) does not hold. */
static void release_ports_not_held(hp_pool *p, const int *taken, size_t n, const entry *holder)
{
    for (size_t i = 0; i < n; i++) {
        if (!taken[i]) continue;
        bool kept = false;
        for (size_t k = 0; holder && k < hp_server_listen_count(holder->server); k++)
            kept |= holder->auto_ports[k] == taken[i];
        if (!kept) hp__ports_release(&p->ports, (uint16_t)taken[i]);
    }
}

/* Can `host:port` be bound right now? The allocator's view of "free on this machine". */
static bool port_is_free(uint16_t port, void *data)
{
    const char *host = data;
    char addr[160];
    snprintf(addr, sizeof addr, "%s:%u", host, port);
    return hp__socket_can_bind(addr);
}

/* Rewrites "auto" and "HOST:auto" listen addresses into concrete ones with ports from the
 * range; `taken` records them. With `keep` (a replaced entry), an "auto" address at a position
 * where `keep` had one takes over that port instead. Returns 0 or an error with errbuf set. */
static int resolve_auto(hp_pool *p, const hp_server_config *c, const entry *keep, char **resolved,
                        int *taken, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < c->listen_count; i++) {
        const char *a = c->listen[i];
        size_t len = a ? strlen(a) : 0;
        bool is_auto =
            a && (strcmp(a, "auto") == 0 || (len > 5 && strcmp(a + len - 5, ":auto") == 0));
        if (!is_auto) {
            resolved[i] = a ? hp__strdup(a) : NULL; /* hp_server_create() checks it */
            continue;
        }
        if (keep && i < hp_server_listen_count(keep->server) && keep->auto_ports[i]) {
            resolved[i] = hp__strdup(hp_server_listen_address(keep->server, i));
            taken[i] = keep->auto_ports[i];
            continue;
        }
        char host[128];
        snprintf(host, sizeof host, "%.*s", strcmp(a, "auto") == 0 ? 9 : (int)(len - 5),
                 strcmp(a, "auto") == 0 ? "127.0.0.1" : a);
        uint16_t port;
        if (hp__ports_take(&p->ports, port_is_free, host, &port) != 0) {
            snprintf(errbuf, errlen, "listen[%zu]: no free port left in %u-%u", i,
                     p->options.port_min, p->options.port_max);
            return HP_ELIMIT;
        }
        taken[i] = port;
        size_t n = strlen(host) + 8;
        resolved[i] = hp__malloc(n);
        snprintf(resolved[i], n, "%s:%u", host, port);
    }
    return 0;
}

/* Builds a server from `config` with its automatic ports; *ports_out receives them. A process
 * server (config->process) gets its process in *proc_out and its gate as its one route. */
static int build_server(hp_pool *p, const hp_server_config *config, const entry *keep,
                        hp_server **out, int **ports_out, process **proc_out, char *errbuf,
                        size_t errlen)
{
    hp_server_config c = *config;
    hp_route_config gate_route = {0};
    process *proc = NULL;
    if (config->process && config->route_count) {
        snprintf(errbuf, errlen,
                 "process: a process server has no routes: its process answers "
                 "every request");
        return HP_ECONFIG;
    }
    if (config->process) {
        proc = process_create(p, config, errbuf, errlen);
        if (!proc) return HP_ECONFIG;
        gate_route.handler = hp__process_gate_create(proc->supervisor, proc->name, proc->port);
        c.routes = &gate_route;
        c.route_count = 1;
        c.process = NULL; /* the pool runs it: the server has its gate */
    }
    size_t n = config->listen_count;
    char **resolved = hp__calloc(n ? n : 1, sizeof *resolved);
    int *taken = hp__calloc(n ? n : 1, sizeof *taken);
    int err = resolve_auto(p, config, keep, resolved, taken, errbuf, errlen);
    if (!err) {
        c.listen = (const char *const *)resolved;
        if (c.route_count == 0 && !c.fallback) c.fallback = p->options.default_handler;
        err = hp_server_create(&c, out, errbuf, errlen);
    }
    for (size_t i = 0; i < n; i++) free(resolved[i]);
    free(resolved);
    if (err) {
        release_ports_not_held(p, taken, n, keep);
        free(taken);
        hp_handler_destroy(gate_route.handler);
        process_free(proc);
        return err;
    }
    *ports_out = taken;
    *proc_out = proc;
    return 0;
}

/* Handlers that answer from the pool's state learn which pool (hp_handler_vtable.bind). */
static void bind_handlers(hp_pool *p, hp_server *server)
{
    for (size_t i = 0; i < server->route_count; i++) {
        hp_handler *h = server->routes[i].handler;
        if (h->vt->bind) h->vt->bind(h, p);
    }
}

static void on_health_change(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    entry *e = data;
    publish(e->pool, "server.health", e, 0, hp__health_state_name(to));
}

/* hp_pool_add, the entry marked as made by `switchboard` (NULL: none) before anyone hears of
 * it. */
static int add_entry(hp_pool *p, const hp_server_config *config, const char *switchboard,
                     char *errbuf, size_t errlen)
{
    char scratch[256];
    if (!errbuf) errbuf = scratch, errlen = sizeof scratch;
    if (p->shutting_down) return snprintf(errbuf, errlen, "the pool is shutting down"), HP_ESTATE;
    if (config->name && find(p, config->name)) {
        snprintf(errbuf, errlen, "a server named \"%s\" already exists", config->name);
        return HP_EEXISTS;
    }
    if (p->count >= p->options.max_servers) {
        snprintf(errbuf, errlen, "the pool is full: max_servers is %u", p->options.max_servers);
        publish(p, "server.failed", NULL, 0, errbuf);
        return HP_ELIMIT;
    }
    hp_server *server = NULL;
    int *taken = NULL;
    process *proc = NULL;
    int err = build_server(p, config, NULL, &server, &taken, &proc, errbuf, errlen);
    if (err) return err;
    bind_handlers(p, server);
    entry *e = HP_NEW(entry);
    e->pool = p;
    e->name = hp__strdup(config->name);
    e->server = server;
    e->auto_ports = taken;
    e->switchboard = switchboard ? hp__strdup(switchboard) : NULL;
    e->process = proc;
    if (proc) proc->entry = e;
    /* A server made on first use is starting from now until it runs or fails. */
    e->state =
        p->making && strcmp(p->making, e->name) == 0 ? HP_SERVER_STARTING : HP_SERVER_STOPPED;
    e->probe_target = (hp__probe_target){.loop = p->loop, .engine = p->engine};
    aim_health_checks(e);
    hp__health_checker_init(&e->checker, &p->health_sched.sched, &p->health_config,
                            &hp__tcp_probe_ops, &e->probe_target, on_health_change, e);
    link_entry(p, e);
    publish(p, "server.added", e, 0, NULL);
    return 0;
}

int hp_pool_add(hp_pool *p, const hp_server_config *config, char *errbuf, size_t errlen)
{
    return add_entry(p, config, NULL, errbuf, errlen);
}

int hp__pool_add_on_demand(hp_pool *p, const hp_server_config *config, const char *switchboard,
                           char *errbuf, size_t errlen)
{
    return add_entry(p, config, switchboard, errbuf, errlen);
}

const char *hp__pool_server_switchboard(const hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e ? e->switchboard : NULL;
}

void hp__pool_publish_server(hp_pool *p, const char *topic, const char *name)
{
    const entry *e = find(p, name);
    if (e) publish(p, topic, e, 0, NULL);
}

void hp__pool_publish_event(hp_pool *p, hp_event *event)
{
    event->time_ms = uv_now(p->loop);
    hp__events_publish(p->events, event);
}

const hp_server *hp__pool_server(const hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e ? e->server : NULL;
}

hp__sched *hp__pool_sched(hp_pool *p)
{
    return &p->health_sched.sched;
}

hp__switchboard **hp__pool_switchboards(const hp_pool *p)
{
    return &((hp_pool *)p)->switchboards;
}

/* ---- one server --------------------------------------------------------------------------- */

/* Where in the interval the next server's checks fall: the golden-ratio sequence spreads any
 * number of servers started together evenly over the interval. */
static uint64_t next_health_phase(hp_pool *p)
{
    uint32_t fraction = (uint32_t)(p->health_starts++ * 2654435769u); /* 2^32 / phi */
    return ((uint64_t)fraction * p->health_config.interval_ms) >> 32;
}

/* ---- journal.dropped ------------------------------------------------------------------------ */

/* Once a second while some server has a journal: each journal's drops since the last look, as
 * one event per server (so at most one a second each). */
#define JOURNAL_DROPS_PERIOD_MS 1000

static void watch_journal_drops(hp_pool *p);

static void publish_journal_drops(hp__sched *s, uint64_t now, void *data)
{
    (void)s;
    hp_pool *p = data;
    p->journal_drops_task = 0;
    for (entry *e = p->first; e; e = e->next) {
        hp__journal *journal = hp__server_journal_of(e->server);
        uint64_t dropped = journal ? hp__journal_take_dropped(journal) : 0;
        if (!dropped) continue;
        hp__event ev = {
            .topic = "journal.dropped", .server = e->name, .count = dropped, .time_ms = now};
        hp__events_publish(p->events, &ev);
    }
    watch_journal_drops(p);
}

static void watch_journal_drops(hp_pool *p)
{
    if (p->journal_drops_task || p->shutting_down) return;
    bool any = false;
    for (const entry *e = p->first; e && !any; e = e->next)
        any = e->server->journal_config.capacity > 0;
    if (!any) return;
    hp__sched *s = &p->health_sched.sched;
    p->journal_drops_task =
        hp__sched_add(s, hp__sched_now(s) + JOURNAL_DROPS_PERIOD_MS, publish_journal_drops, p);
}

static void entry_running(hp_pool *p, entry *e)
{
    watch_journal_drops(p);
    e->state = HP_SERVER_RUNNING;
    e->started_ms = uv_now(p->loop);
    e->starts++;
    set_error(e, NULL);
    publish(p, "server.started", e, first_port(e), NULL);
    hp__health_checker_start(&e->checker, next_health_phase(p));
}

/* Binds (unless a failed process server still is) and runs the server; a process server is
 * `starting` until its program is ready (on_process_state). */
static int start_entry(hp_pool *p, entry *e, char *errbuf, size_t errlen)
{
    char scratch[256];
    if (!errbuf) errbuf = scratch, errlen = sizeof scratch;
    e->state = HP_SERVER_STARTING;
    /* A process server's program boots before its addresses are bound: the workers route
     * requests to its gate as soon as the engine publishes its table, and the gate must find
     * it BOOTING (it queues them), not STOPPED (it refuses them). */
    if (e->process) hp__supervisor_start(e->process->supervisor);
    int err = e->bound ? 0 : hp_engine_start_server(p->engine, e->server, errbuf, errlen);
    if (err) {
        if (e->process) hp__supervisor_stop(e->process->supervisor, NULL, NULL);
        e->state = HP_SERVER_FAILED;
        set_error(e, errbuf);
        publish(p, "server.failed", e, 0, errbuf);
        publish(p, "server.stopped", e, 0, NULL);
        flush_ready_waiters(e, err);
        return err;
    }
    e->bound = true;
    if (!e->process) {
        entry_running(p, e);
        return 0;
    }
    set_error(e, NULL);
    return 0;
}

/* Is it bound (running, draining, or a process server starting or failed)? */
static bool is_up(const entry *e)
{
    return e->bound || e->state == HP_SERVER_DRAINING;
}

int hp_pool_start(hp_pool *p, const char *name, char *errbuf, size_t errlen)
{
    entry *e = find(p, name);
    if (!e) return HP_ENOTFOUND;
    if (p->shutting_down || (e->state != HP_SERVER_STOPPED && e->state != HP_SERVER_FAILED))
        return HP_ESTATE;
    return start_entry(p, e, errbuf, errlen);
}

/* The drain and the program's stop both ended. */
static void entry_stopped(entry *e)
{
    hp_pool *p = e->pool;
    e->state = HP_SERVER_STOPPED;
    e->bound = false;
    e->started_ms = 0;
    flush_ready_waiters(e, HP_ESTATE);
    publish(p, "server.stopped", e, 0, NULL);
    waiter *w = e->waiters;
    e->waiters = NULL;
    bool remove = false;
    while (w) {
        waiter *next = w->next;
        int status = 0;
        if (w->then_start && !e->removed) status = start_entry(p, e, NULL, 0);
        remove |= w->then_remove;
        if (w->cb) w->cb(p, e->name, status, w->data);
        free(w);
        w = next;
    }
    if (remove) {
        publish(p, "server.removed", e, 0, NULL);
        entry_free(p, e);
    }
}

static void stop_part_done(entry *e)
{
    if (--e->stop_parts == 0) entry_stopped(e);
}

static void on_entry_drained(hp_engine *engine, hp_server *server, void *data)
{
    stop_part_done(data);
}

static void on_process_stopped(hp__supervisor *s, void *data)
{
    stop_part_done(data);
}

/* Starts draining `e` (if it runs) and queues `w` for the end of the drain. */
static void stop_entry(hp_pool *p, entry *e, waiter *w)
{
    w->next = e->waiters;
    e->waiters = w;
    if (e->state == HP_SERVER_DRAINING) return;
    e->state = HP_SERVER_DRAINING;
    hp__health_checker_stop(&e->checker);
    e->stop_parts = e->process ? 2 : 1;
    /* The program's stop answers the requests waiting for it (503), which the drain waits for;
     * it may end at once (nothing ran). */
    if (e->process) hp__supervisor_stop(e->process->supervisor, on_process_stopped, e);
    /* within its own limits.drain_timeout_ms (a config's top-level one unless it overrides) */
    hp_engine_stop_server(p->engine, e->server, e->server->limits.drain_timeout_ms,
                          on_entry_drained, e);
}

static waiter *new_waiter(hp_pool_server_cb cb, void *data)
{
    waiter *w = HP_NEW(waiter);
    w->cb = cb;
    w->data = data;
    return w;
}

int hp_pool_stop(hp_pool *p, const char *name, hp_pool_server_cb cb, void *data)
{
    entry *e = find(p, name);
    if (!e) return HP_ENOTFOUND;
    if (!is_up(e)) return HP_ESTATE;
    stop_entry(p, e, new_waiter(cb, data));
    return 0;
}

int hp_pool_restart(hp_pool *p, const char *name, hp_pool_server_cb cb, void *data)
{
    entry *e = find(p, name);
    if (!e) return HP_ENOTFOUND;
    if (p->shutting_down || e->state == HP_SERVER_STARTING) return HP_ESTATE;
    if (!is_up(e)) {
        int status = start_entry(p, e, NULL, 0);
        if (cb) cb(p, e->name, status, data);
        return 0;
    }
    waiter *w = new_waiter(cb, data);
    w->then_start = true;
    stop_entry(p, e, w);
    return 0;
}

/* The old version of a replaced server, draining; freed with its ports when it stopped. Its
 * program (a process server's) is stopped once it drained (at once when the new version's
 * program needs its fixed port, and starts once it stopped), and freed with it. */
typedef struct retired_version {
    hp_pool *pool;
    hp_server *server;
    int *ports;   /* its automatic ports */
    size_t count; /* of ports */
    char *name;
    process *process; /* its program, or NULL */
    bool process_stopping;
    unsigned parts; /* the drain and the program's stop, still to end */
    hp_pool_server_cb cb;
    void *data;
} retired_version;

static void finish_shutdown(hp_pool *p);

static void retired_part_done(retired_version *r)
{
    if (--r->parts > 0) return;
    hp_pool *p = r->pool;
    p->retiring--;
    /* Ports the new version took over stay held; the others go back to the range. */
    release_ports_not_held(p, r->ports, r->count, find(p, r->name));
    hp_server_destroy(r->server);
    process_free(r->process);
    if (r->cb) r->cb(p, r->name, 0, r->data);
    free(r->ports);
    free(r->name);
    free(r);
    if (p->shutting_down && p->servers_stopped && !p->retiring) finish_shutdown(p);
}

/* The old program stopped: the entry's new one (if it is still the entry's, bound) starts,
 * unless it did already (a start while it boots or runs does nothing). */
static void on_old_process_stopped(hp__supervisor *s, void *data)
{
    retired_version *r = data;
    entry *e = find(r->pool, r->name);
    if (e && e->bound && e->process && e->state != HP_SERVER_DRAINING)
        hp__supervisor_start(e->process->supervisor);
    retired_part_done(r);
}

static void stop_old_process(retired_version *r)
{
    if (r->process_stopping) return;
    r->process_stopping = true;
    hp__supervisor_stop(r->process->supervisor, on_old_process_stopped, r);
}

/* The old version drained; its program (if it still runs) is stopped now. */
static void on_old_version_stopped(hp_engine *engine, hp_server *server, void *data)
{
    retired_version *r = data;
    if (r->process) stop_old_process(r);
    retired_part_done(r);
}

/* The entry's program becomes `proc` (or none); the old one is the retired version's now. A
 * bound entry that had failed is starting again (its new program starts after the old stops),
 * one that has no program any more runs. */
static void replace_process(entry *e, process *proc)
{
    process *old = e->process;
    if (old) old->entry = NULL;
    e->process = proc;
    if (proc) proc->entry = e;
    if (!e->bound) return;
    if (proc && e->state == HP_SERVER_FAILED)
        e->state = HP_SERVER_STARTING;
    else if (!proc && e->state != HP_SERVER_RUNNING)
        entry_running(e->pool, e);
}

int hp_pool_replace(hp_pool *p, const hp_server_config *config, hp_pool_server_cb cb, void *data,
                    char *errbuf, size_t errlen)
{
    char scratch[256];
    if (!errbuf) errbuf = scratch, errlen = sizeof scratch;
    entry *e = config->name ? find(p, config->name) : NULL;
    if (!e) return snprintf(errbuf, errlen, "no server named that"), HP_ENOTFOUND;
    if (p->shutting_down || e->state == HP_SERVER_DRAINING || e->state == HP_SERVER_STARTING)
        return snprintf(errbuf, errlen, "the server is %s", hp_server_state_name(e->state)),
               HP_ESTATE;
    hp_server *server;
    int *ports;
    process *proc;
    int err = build_server(p, config, e, &server, &ports, &proc, errbuf, errlen);
    if (err) return err;
    hp__server_share_stats(server, e->server);   /* the counts of the name go on */
    hp__server_share_journal(server, e->server); /* and its journal, when configured alike */
    if (server->journal_config.capacity) watch_journal_drops(p);
    bind_handlers(p, server);
    retired_version *r = HP_NEW(retired_version);
    r->pool = p;
    r->server = e->server;
    r->ports = e->auto_ports;
    r->count = hp_server_listen_count(e->server);
    r->name = hp__strdup(e->name);
    r->process = e->process;
    r->parts = 1 + (r->process != NULL);
    r->cb = cb;
    r->data = data;
    bool running = e->bound;
    if (running) {
        /* The new version takes the old one's place on the addresses they share: no socket
         * closes there; the old version's requests in flight finish on it. */
        err = hp_engine_replace_server(p->engine, r->server, server,
                                       r->server->limits.drain_timeout_ms, on_old_version_stopped,
                                       r, errbuf, errlen);
        if (err) {
            release_ports_not_held(p, ports, config->listen_count, e);
            free(ports);
            free(r->name);
            free(r);
            hp_handler *gate = proc ? server->routes[0].handler : NULL; /* ours */
            hp__server_disown_handlers(server); /* still the caller's, as on any error */
            hp_server_destroy(server);
            hp_handler_destroy(gate);
            process_free(proc);
            return err;
        }
    }
    p->retiring++; /* until retired_part_done frees it */
    replace_process(e, proc);
    e->server = server;
    e->auto_ports = ports;
    aim_health_checks(e);
    publish(p, "server.replaced", e, running ? first_port(e) : 0, NULL);
    /* The new program starts now, its requests waiting for it, and the old one serves the old
     * version's requests until that drained (workers may still route a request to the old
     * version for a moment); on the old one's port (a fixed port kept), the old one is
     * stopped at once and the new one starts once it stopped. */
    bool same_port = r->process && proc && r->process->port == proc->port;
    if (proc && running && !same_port) hp__supervisor_start(proc->supervisor);
    if (!running)
        on_old_version_stopped(p->engine, r->server, r); /* may free r */
    else if (same_port)
        stop_old_process(r);
    return 0;
}

int hp_pool_remove(hp_pool *p, const char *name, hp_pool_server_cb cb, void *data)
{
    entry *e = find(p, name);
    if (!e) return HP_ENOTFOUND;
    unlink_entry(p, e);
    if (is_up(e)) {
        waiter *w = new_waiter(cb, data);
        w->then_remove = true;
        stop_entry(p, e, w);
        return 0;
    }
    publish(p, "server.removed", e, 0, NULL);
    if (cb) cb(p, e->name, 0, data);
    entry_free(p, e);
    return 0;
}

/* ---- made on first use -------------------------------------------------------------------- */

/* Making and binding are synchronous on the control loop, so a second call for a name always
 * finds the server the first call made: exactly one is created, whatever the interleaving of
 * callers. The server the maker adds joins the pool `starting` (hp_pool_add reads `making`),
 * so while it is being made (its server.added subscribers, a call for the same name from one
 * of them) it is seen as starting, not as stopped; a call that finds it starting starts it. A
 * process server stays starting while its program boots: the callers that find it so (the
 * first included) are queued on its entry and answered when it runs, fails or stops. */
int hp_pool_get_or_create(hp_pool *p, const char *name, hp_pool_maker make, void *make_data,
                          hp_pool_server_cb cb, void *data)
{
    if (p->shutting_down) return HP_ESTATE;
    entry *e = find(p, name);
    if (!e) {
        const char *outer = p->making; /* a maker may make another server first */
        p->making = name;
        int err = make(p, name, make_data);
        p->making = outer;
        e = find(p, name);
        if (!err && !e) err = HP_ENOTFOUND; /* the maker added another name */
        if (!err && p->shutting_down) err = HP_ESTATE;
        if (err) {
            if (e && e->state == HP_SERVER_STARTING) e->state = HP_SERVER_STOPPED;
            return err;
        }
    }
    int status = 0;
    bool booting = e->process && e->bound && e->state == HP_SERVER_STARTING;
    if (!booting && (e->state == HP_SERVER_STOPPED || e->state == HP_SERVER_FAILED ||
                     e->state == HP_SERVER_STARTING))
        status = start_entry(p, e, NULL, 0);
    if (status == 0 && e->state == HP_SERVER_STARTING) {
        /* a process server: `cb` once its program is ready, or failed, or stopped */
        waiter **tail = &e->ready_waiters;
        while (*tail) tail = &(*tail)->next;
        *tail = new_waiter(cb, data);
        return 0;
    }
    if (cb) cb(p, e->name, status, data);
    return 0;
}

/* ---- looking ------------------------------------------------------------------------------ */

const char *hp_pool_find_by_bind(const hp_pool *p, const char *address)
{
    for (const entry *e = p->first; e; e = e->next)
        for (size_t i = 0; i < hp_server_listen_count(e->server); i++)
            if (strcmp(hp_server_listen_address(e->server, i), address) == 0) return e->name;
    return NULL;
}

/* A linear scan: lookups by host are for operators and tools, not for requests (a listener
 * routes by its own table, src/http/vhosts.c). */
const char *hp_pool_find_by_host(const hp_pool *p, const char *host)
{
    hp_str name = hp__host_strip((hp_str){host, strlen(host)});
    const entry *best = NULL;
    int best_match = -1;
    for (const entry *e = p->first; e; e = e->next) {
        for (size_t i = 0; i < hp_server_host_count(e->server); i++) {
            int match = hp__host_match(hp_server_host(e->server, i), name);
            if (match > best_match) best = e, best_match = match;
        }
    }
    return best ? best->name : NULL;
}

hp__supervisor *hp__pool_supervisor(hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e && e->process ? e->process->supervisor : NULL;
}

hp__server_journal *hp__pool_journal(hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e ? e->server->journal : NULL;
}

bool hp__pool_has_journal(const hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e && e->server->journal_config.capacity > 0;
}

const hp_process_config *hp__pool_process(const hp_pool *p, const char *name)
{
    const entry *e = find(p, name);
    return e && e->process ? &e->process->model.config : NULL;
}

hp__upstreams *hp__pool_upstreams(hp_pool *p)
{
    return p->upstreams;
}

hp_engine *hp__pool_engine(hp_pool *p)
{
    return p->engine;
}

int hp_pool_bound_port(const hp_pool *p, const hp_server *server, size_t i)
{
    return hp_engine_bound_port(p->engine, server, i);
}

const hp__events *hp__pool_events(const hp_pool *p)
{
    return p->events;
}

uint64_t hp__pool_age_ms(const hp_pool *p)
{
    return uv_now(p->loop) - p->created_ms;
}

bool hp_pool_has(const hp_pool *p, const char *name)
{
    return find(p, name) != NULL;
}

size_t hp_pool_count(const hp_pool *p)
{
    return p->count;
}

const char *hp_health_name(hp_health health)
{
    return hp__health_state_name((hp__health_state)health);
}

static hp_health entry_health(const entry *e)
{
    if (e->state != HP_SERVER_RUNNING || e->last_error) return HP_HEALTH_KO;
    return (hp_health)hp__health_checker_state(&e->checker);
}

hp_health hp_pool_health(const hp_pool *p)
{
    size_t n = 0;
    for (const entry *e = p->first; e; e = e->next)
        n += e->state == HP_SERVER_RUNNING || e->state == HP_SERVER_FAILED;
    hp__health_state *states = hp__calloc(n + 1, sizeof *states);
    n = 0;
    for (const entry *e = p->first; e; e = e->next)
        if (e->state == HP_SERVER_RUNNING || e->state == HP_SERVER_FAILED)
            states[n++] = (hp__health_state)entry_health(e);
    hp_health h = n ? (hp_health)hp__health_aggregate(states, n) : HP_HEALTH_OK;
    free(states);
    return h;
}

static void fill_info(const hp_pool *p, const entry *e, hp_server_info *out)
{
    *out = (hp_server_info){
        .name = e->name,
        .state = e->state,
        .last_error = e->last_error,
        .health = entry_health(e),
        .uptime_ms = e->state == HP_SERVER_RUNNING ? uv_now(p->loop) - e->started_ms : 0,
        .restarts = e->starts > 1 ? e->starts - 1 : 0,
        .listen_count = hp_server_listen_count(e->server),
        .server = e->server,
    };
}

int hp_pool_info(const hp_pool *p, const char *name, hp_server_info *out)
{
    const entry *e = find(p, name);
    if (!e) return HP_ENOTFOUND;
    fill_info(p, e, out);
    return 0;
}

void hp_pool_walk(const hp_pool *p, hp_pool_walk_cb cb, void *data)
{
    for (const entry *e = p->first; e; e = e->next) {
        hp_server_info info;
        fill_info(p, e, &info);
        if (!cb(&info, data)) return;
    }
}

void hp_pool_walk_names(const hp_pool *p, const char *const *names, size_t count,
                        hp_pool_walk_cb cb, void *data)
{
    for (size_t i = 0; i < count; i++) {
        const entry *e = find(p, names[i]);
        if (!e) continue;
        hp_server_info info;
        fill_info(p, e, &info);
        if (!cb(&info, data)) return;
    }
}

bool hp_pool_is_running(const hp_pool *p)
{
    for (const entry *e = p->first; e; e = e->next)
        if (e->state == HP_SERVER_RUNNING) return true;
    return false;
}

uint64_t hp_pool_uptime_ms(const hp_pool *p)
{
    uint64_t longest = 0, now = uv_now(p->loop);
    for (const entry *e = p->first; e; e = e->next)
        if (e->state == HP_SERVER_RUNNING && now - e->started_ms > longest)
            longest = now - e->started_ms;
    return longest;
}

/* ---- all servers -------------------------------------------------------------------------- */

static void result_add_failure(hp_pool_result *r, const char *name, const char *error)
{
    r->failures = hp__realloc(r->failures, (r->failed + 1) * sizeof *r->failures);
    r->failures[r->failed].name = hp__strdup(name);
    r->failures[r->failed].error = hp__strdup(error);
    r->failed++;
}

void hp_pool_result_free(hp_pool_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->failed; i++) {
        free(r->failures[i].name);
        free(r->failures[i].error);
    }
    free(r->failures);
    memset(r, 0, sizeof *r);
}

void hp_pool_start_all(hp_pool *p, hp_pool_result *result)
{
    memset(result, 0, sizeof *result);
    if (p->shutting_down) return;
    for (entry *e = p->first; e; e = e->next) {
        if (e->state != HP_SERVER_STOPPED && e->state != HP_SERVER_FAILED) continue;
        result->attempted++;
        char err[256];
        if (start_entry(p, e, err, sizeof err) != 0) result_add_failure(result, e->name, err);
    }
}

/* A hp_pool_stop_all() or hp_pool_restart_all() in flight: done when its last server is. */
typedef struct batch {
    size_t left;
    hp_pool_result result;
    hp_pool_result_cb cb;
    void *data;
} batch;

static batch *batch_new(hp_pool_result_cb cb, void *data)
{
    batch *b = HP_NEW(batch);
    b->cb = cb;
    b->data = data;
    b->left = 1; /* held until every server is under way, so a quick one cannot finish it */
    return b;
}

static void batch_release(hp_pool *p, batch *b)
{
    if (--b->left > 0) return;
    if (b->cb) b->cb(p, &b->result, b->data);
    hp_pool_result_free(&b->result);
    free(b);
}

/* A server of the batch is done; a failed restart names the start's error. */
static void on_batch_server_done(hp_pool *p, const char *name, int status, void *data)
{
    batch *b = data;
    if (status != 0) {
        const entry *e = find(p, name);
        result_add_failure(&b->result, name,
                           e && e->last_error ? e->last_error : hp_strerror(status));
    }
    batch_release(p, b);
}

/* Queues `e`'s drain (then its start, with `then_start`) in batch `b`. */
static void batch_stop(hp_pool *p, batch *b, entry *e, bool then_start)
{
    waiter *w = new_waiter(on_batch_server_done, b);
    w->then_start = then_start;
    b->left++;
    stop_entry(p, e, w);
}

void hp_pool_stop_all(hp_pool *p, hp_pool_result_cb cb, void *data)
{
    batch *b = batch_new(cb, data);
    for (entry *e = p->first; e; e = e->next) {
        if (!is_up(e)) continue;
        b->result.attempted++;
        batch_stop(p, b, e, false);
    }
    batch_release(p, b);
}

void hp_pool_restart_all(hp_pool *p, hp_pool_result_cb cb, void *data)
{
    batch *b = batch_new(cb, data);
    for (entry *e = p->first; e && !p->shutting_down; e = e->next) {
        b->result.attempted++;
        if (is_up(e)) {
            batch_stop(p, b, e, true);
            continue;
        }
        char err[256];
        if (start_entry(p, e, err, sizeof err) != 0) result_add_failure(&b->result, e->name, err);
    }
    batch_release(p, b);
}

/* ---- clone and merge --------------------------------------------------------------------- */

/* Puts a copy of `from`'s server `e` into `p`: replaced in place when `p` has that name, else
 * added (stopped). A replace of a running server joins batch `b` until its old version drained. */
static void merge_entry(hp_pool *p, const hp_pool *from, const entry *e, batch *b)
{
    b->result.attempted++;
    char err[256];
    hp__server_copy copy;
    int rc = hp__server_copy_init(&copy, e->server, e->auto_ports, from->options.default_handler,
                                  e->process ? &e->process->model.config : NULL, err, sizeof err);
    if (rc == 0) {
        if (find(p, e->name)) {
            b->left++;
            rc = hp_pool_replace(p, &copy.config, on_batch_server_done, b, err, sizeof err);
            if (rc) b->left--;
        } else {
            rc = hp_pool_add(p, &copy.config, err, sizeof err);
        }
        copy.handed_over = rc == 0;
        hp__server_copy_fini(&copy);
    }
    if (rc) result_add_failure(&b->result, e->name, err);
}

void hp_pool_merge(hp_pool *p, const hp_pool *from, hp_pool_result_cb cb, void *data)
{
    batch *b = batch_new(cb, data);
    for (const entry *e = from->first; e; e = e->next) merge_entry(p, from, e, b);
    batch_release(p, b);
}

static void keep_clone_result(hp_pool *p, const hp_pool_result *r, void *data)
{
    hp_pool_result *out = data;
    for (size_t i = 0; i < r->failed; i++)
        result_add_failure(out, r->failures[i].name, r->failures[i].error);
    out->attempted = r->attempted;
}

int hp_pool_clone(const hp_pool *p, uv_loop_t *loop, hp_pool **out, hp_pool_result *result)
{
    memset(result, 0, sizeof *result);
    hp_pool_options o = p->options;
    if (o.default_handler && !(o.default_handler = hp_handler_clone(o.default_handler)))
        return HP_EINVAL;
    int err = hp_pool_create(loop, &o, out);
    if (err) {
        hp_handler_destroy(o.default_handler);
        return err;
    }
    /* Only adds into a new pool: the merge ends before it returns. */
    hp_pool_merge(*out, p, keep_clone_result, result);
    return 0;
}

/* ---- shutdown ----------------------------------------------------------------------------- */

static void on_health_timer_closed(uv_handle_t *h)
{
    hp_pool *p = (hp_pool *)((char *)h - offsetof(hp_pool, health_sched.timer));
    if (p->shutdown_cb) p->shutdown_cb(p, p->shutdown_data);
}

static void on_engine_stopped(hp_engine *engine, void *data)
{
    hp_pool *p = data;
    for (entry *e = p->first; e; e = e->next) hp__health_checker_stop(&e->checker);
    hp__upstreams_stop(p->upstreams);
    hp__switchboards_stop(p->switchboards);
    hp__uv_sched_close(&p->health_sched, on_health_timer_closed);
}

/* Every server stopped, and every replaced version drained with its program stopped. */
static void finish_shutdown(hp_pool *p)
{
    publish(p, "pool.stopped", NULL, 0, NULL);
    hp__events_close(p->events);
    hp_engine_shutdown(p->engine, 0, on_engine_stopped, p);
}

static void on_all_stopped(hp_pool *p, const hp_pool_result *result, void *data)
{
    p->servers_stopped = true;
    if (!p->retiring) finish_shutdown(p);
}

void hp_pool_shutdown(hp_pool *p, hp_pool_cb cb, void *data)
{
    if (p->shutting_down) return;
    p->shutting_down = true;
    p->shutdown_cb = cb;
    p->shutdown_data = data;
    publish(p, "pool.stopping", NULL, 0, NULL); /* long-lived streams end themselves now */
    hp_pool_stop_all(p, on_all_stopped, NULL);
}

void hp_pool_destroy(hp_pool *p)
{
    if (!p) return;
    for (entry *e = p->first, *next; e; e = next) {
        next = e->next;
        entry_free(p, e);
    }
    hp__events_destroy(p->events);
    hp_engine_destroy(p->engine);
    hp__upstreams_destroy(p->upstreams); /* the workers, which held versions, are gone */
    hp__switchboards_destroy(p->switchboards);
    hp_handler_destroy(p->options.default_handler);
    free(p);
}

/* ---- events ------------------------------------------------------------------------------- */

int hp_pool_subscribe(hp_pool *p, const char *pattern, hp_event_cb cb, void *data, uint64_t *id)
{
    return hp__events_subscribe(p->events, pattern, cb, data, id);
}

void hp_pool_unsubscribe(hp_pool *p, uint64_t id)
{
    hp__events_unsubscribe(p->events, id);
}

/* ---- selecting ---------------------------------------------------------------------------- */

void hp_pool_strings_free(hp_pool_strings *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static const char *field_value(const entry *e, hp_pool_field field)
{
    switch (field) {
    case HP_POOL_FIELD_NAME:
        return e->name;
    case HP_POOL_FIELD_BIND:
        return hp_server_listen_count(e->server) ? hp_server_listen_address(e->server, 0) : NULL;
    case HP_POOL_FIELD_EXPOSE:
        return hp_server_expose(e->server);
    }
    return NULL;
}

int hp_pool_list(const hp_pool *p, hp_pool_field field, const char *pattern, const char *regex,
                 hp_pool_field value_field, hp_pool_strings *values, char *errbuf, size_t errlen)
{
    static const hp__filter_field fields[] = {HP__FILTER_NAME, HP__FILTER_BIND, HP__FILTER_EXPOSE};
    memset(values, 0, sizeof *values);
    if ((unsigned)field > HP_POOL_FIELD_EXPOSE || (unsigned)value_field > HP_POOL_FIELD_EXPOSE)
        return HP_EINVAL;
    hp__filter *f;
    int err = hp__filter_compile(fields[field], pattern, regex, &f, errbuf, errlen);
    if (err) return err;
    values->items = hp__calloc(p->count + 1, sizeof *values->items);
    for (const entry *e = p->first; e; e = e->next) {
        hp__filter_record record = {e->name, field_value(e, HP_POOL_FIELD_BIND),
                                    field_value(e, HP_POOL_FIELD_EXPOSE)};
        const char *value = field_value(e, value_field);
        if (value && hp__filter_match(f, &record))
            values->items[values->count++] = hp__strdup(value);
    }
    hp__filter_free(f);
    return 0;
}

int hp_pool_filter(const hp_pool *p, hp_pool_field field, const char *pattern, const char *regex,
                   hp_pool_strings *names, char *errbuf, size_t errlen)
{
    return hp_pool_list(p, field, pattern, regex, HP_POOL_FIELD_NAME, names, errbuf, errlen);
}
