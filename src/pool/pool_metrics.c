/* hp_pool_metrics_text(): the pool's metrics in the Prometheus text format.
 *
 * Runs on the control thread. One walk of the pool takes a snapshot of every server (its
 * counters summed over the workers, stats.h; its connections, engine_stats.h), then each
 * metric family is written over the snapshot, since the format wants a family's samples
 * together. Nothing changes the pool while this runs (it owns the control thread), so the
 * names borrowed from the pool stay valid to the end.
 *
 * The named upstreams follow the servers, one sample per target (upstream/upstreams.h: the
 * current version of each; a replaced upstream's counts start again from zero).
 *
 * Size: a server that never answered has no histogram (17 lines saved per idle server, which
 * matters with 10,000 servers); every other family has a sample for every server. */
#include "hostpool/pool.h"

#include "common/alloc.h"
#include "core/prom_text.h"
#include "handlers/websocket.h"
#include "http/server.h"
#include "io/log_file.h"
#include "io/engine_stats.h"
#include "switch/switchboard.h"
#include "io/proc_stats.h"
#include "pool/pool_internal.h"
#include "upstream/upstreams.h"
#include "ws/hub.h"

#include <stdio.h>
#include <stdlib.h>

#define STATE_COUNT (HP_SERVER_FAILED + 1)

typedef struct server_snapshot {
    const char *name;
    hp_server_state state;
    uint64_t restarts;
    uint64_t conns_open, conns_idle;
    hp__stats_totals totals;
    bool websocket; /* a route of the server is a WebSocket handler: `ws` sums theirs */
    hp__ws_totals ws;
    uint64_t ws_fanout_dropped; /* their hubs' (ws/hub.h) */
} server_snapshot;

typedef struct snapshot {
    hp_pool *pool;
    server_snapshot *servers;
    size_t count;
} snapshot;

static bool take_server(const hp_server_info *info, void *data)
{
    snapshot *s = data;
    server_snapshot *out = &s->servers[s->count++];
    out->name = info->name;
    out->state = info->state;
    out->restarts = info->restarts;
    hp__engine_server_connections(hp__pool_engine(s->pool), info->server, &out->conns_open,
                                  &out->conns_idle);
    hp__stats_totals_read(info->server->stats, &out->totals);
    for (size_t r = 0; r < info->server->route_count; r++) {
        const hp__ws_config *ws = hp__websocket_config(info->server->routes[r].handler);
        if (!ws) continue;
        out->websocket = true;
        hp__ws_stats_add(&ws->stats, &out->ws);
        out->ws_fanout_dropped += hp__ws_hub_dropped(ws->hub);
    }
    return true;
}

/* ---- per server ---- */

typedef uint64_t (*server_value)(const server_snapshot *s);

/* One family with one sample per server, labelled by server. */
static void per_server(hp__prom *p, const snapshot *s, const char *name, const char *type,
                       const char *help, server_value value)
{
    hp__prom_family(p, name, type, help);
    for (size_t i = 0; i < s->count; i++) {
        hp__prom_label l = {"server", s->servers[i].name};
        hp__prom_u64(p, name, &l, 1, value(&s->servers[i]));
    }
}

static uint64_t in_flight(const server_snapshot *s)
{
    return s->totals.in_flight;
}
static uint64_t aborted(const server_snapshot *s)
{
    return s->totals.aborted;
}
static uint64_t conns_open(const server_snapshot *s)
{
    return s->conns_open;
}
static uint64_t conns_idle(const server_snapshot *s)
{
    return s->conns_idle;
}
static uint64_t bytes_in(const server_snapshot *s)
{
    return s->totals.bytes_in;
}
static uint64_t bytes_out(const server_snapshot *s)
{
    return s->totals.bytes_out;
}
static uint64_t up(const server_snapshot *s)
{
    return s->state == HP_SERVER_RUNNING;
}
static uint64_t restarts(const server_snapshot *s)
{
    return s->restarts;
}

static void requests(hp__prom *p, const snapshot *s)
{
    static const char name[] = "hostpool_requests_total";
    hp__prom_family(p, name, "counter", "Responses completed, by server and status code.");
    for (size_t i = 0; i < s->count; i++) {
        const hp__stats_totals *t = &s->servers[i].totals;
        for (size_t c = 0; c < t->code_count; c++) {
            char code[12];
            snprintf(code, sizeof code, "%d", t->codes[c].code);
            hp__prom_label l[] = {{"server", s->servers[i].name}, {"code", code}};
            hp__prom_u64(p, name, l, 2, t->codes[c].count);
        }
    }
}

static void refusals(hp__prom *p, const snapshot *s)
{
    static const char name[] = "hostpool_refused_total";
    hp__prom_family(p, name, "counter", "Requests a guard refused, by server and reason.");
    for (size_t i = 0; i < s->count; i++) {
        for (unsigned r = 0; r < HP__REFUSED_REASONS; r++) {
            hp__prom_label l[] = {{"server", s->servers[i].name},
                                  {"reason", hp__refused_reason_names[r]}};
            hp__prom_u64(p, name, l, 2, s->servers[i].totals.refused[r]);
        }
    }
}

static void durations(hp__prom *p, const snapshot *s)
{
    static const char name[] = "hostpool_request_duration_seconds";
    hp__prom_family(p, name, "histogram",
                    "Time from the first byte of a request to the last byte of its response, "
                    "for completed responses.");
    for (size_t i = 0; i < s->count; i++) {
        const hp__stats_totals *t = &s->servers[i].totals;
        if (t->responses == 0) continue;
        hp__prom_label l = {"server", s->servers[i].name};
        hp__prom_histogram(p, name, &l, 1, hp__duration_bounds, HP__DURATION_BUCKETS, t->buckets,
                           (double)t->duration_ns / 1e9);
    }
}

static void states(hp__prom *p, const snapshot *s)
{
    static const char name[] = "hostpool_server_state";
    hp__prom_family(p, name, "gauge", "1 for the state the server is in, 0 for the others.");
    for (size_t i = 0; i < s->count; i++) {
        for (int st = 0; st < STATE_COUNT; st++) {
            hp__prom_label l[] = {{"server", s->servers[i].name},
                                  {"state", hp_server_state_name((hp_server_state)st)}};
            hp__prom_u64(p, name, l, 2, s->servers[i].state == (hp_server_state)st);
        }
    }
}

static void write_servers(hp__prom *p, const snapshot *s)
{
    requests(p, s);
    per_server(p, s, "hostpool_requests_aborted_total", "counter",
               "Requests that ended without a complete response (the client went away, a "
               "timeout, a drain deadline).",
               aborted);
    refusals(p, s);
    durations(p, s);
    per_server(p, s, "hostpool_requests_in_flight", "gauge",
               "Requests routed to the server and not ended yet.", in_flight);
    per_server(p, s, "hostpool_connections_open", "gauge",
               "Open connections on the addresses the server heads (their default server, else "
               "the first started there).",
               conns_open);
    per_server(p, s, "hostpool_connections_idle", "gauge",
               "Open connections with no request in progress, counted as connections_open.",
               conns_idle);
    per_server(p, s, "hostpool_bytes_received_total", "counter",
               "Request bytes (head and body) of the server's requests.", bytes_in);
    per_server(p, s, "hostpool_bytes_sent_total", "counter",
               "Response bytes (head and body) of the server's requests.", bytes_out);
    per_server(p, s, "hostpool_server_up", "gauge", "1 when the server is running, else 0.", up);
    states(p, s);
    per_server(p, s, "hostpool_server_restarts_total", "counter",
               "Starts of the server after its first one (restart, or stop then start).", restarts);
}

/* ---- WebSocket servers (none: nothing is written) ---- */

typedef struct ws_direction {
    const char *direction;
    uint64_t value;
} ws_direction;

/* One family with an in and an out sample per WebSocket server. */
static void ws_in_out(hp__prom *p, const snapshot *s, const char *name, const char *help,
                      bool messages)
{
    hp__prom_family(p, name, "counter", help);
    for (size_t i = 0; i < s->count; i++) {
        const server_snapshot *v = &s->servers[i];
        if (!v->websocket) continue;
        ws_direction d[] = {{"in", messages ? v->ws.messages_in : v->ws.bytes_in},
                            {"out", messages ? v->ws.messages_out : v->ws.bytes_out}};
        for (size_t k = 0; k < 2; k++) {
            hp__prom_label l[] = {{"server", v->name}, {"direction", d[k].direction}};
            hp__prom_u64(p, name, l, 2, d[k].value);
        }
    }
}

static void write_websockets(hp__prom *p, const snapshot *s)
{
    bool any = false;
    for (size_t i = 0; i < s->count; i++) any = any || s->servers[i].websocket;
    if (!any) return;
    hp__prom_family(p, "hostpool_websocket_connections", "gauge", "Open WebSocket connections.");
    for (size_t i = 0; i < s->count; i++) {
        if (!s->servers[i].websocket) continue;
        hp__prom_label l = {"server", s->servers[i].name};
        hp__prom_u64(p, "hostpool_websocket_connections", &l, 1, s->servers[i].ws.connections);
    }
    ws_in_out(p, s, "hostpool_websocket_messages_total", "WebSocket messages received and sent.",
              true);
    ws_in_out(p, s, "hostpool_websocket_bytes_total",
              "WebSocket frame bytes (headers included) received and queued to send.", false);
    hp__prom_family(p, "hostpool_websocket_dropped_total", "counter",
                    "Messages not sent to a connection past its max_backpressure "
                    "(on_backpressure: drop).");
    for (size_t i = 0; i < s->count; i++) {
        if (!s->servers[i].websocket) continue;
        hp__prom_label l = {"server", s->servers[i].name};
        hp__prom_u64(p, "hostpool_websocket_dropped_total", &l, 1, s->servers[i].ws.dropped);
    }
    hp__prom_family(p, "hostpool_websocket_fanout_dropped_total", "counter",
                    "Published messages not delivered to a worker whose pub/sub inbox was full.");
    for (size_t i = 0; i < s->count; i++) {
        if (!s->servers[i].websocket) continue;
        hp__prom_label l = {"server", s->servers[i].name};
        hp__prom_u64(p, "hostpool_websocket_fanout_dropped_total", &l, 1,
                     s->servers[i].ws_fanout_dropped);
    }
    hp__prom_family(p, "hostpool_websocket_closes_total", "counter",
                    "WebSocket connections closed, by close code (1006: lost without one).");
    for (size_t i = 0; i < s->count; i++) {
        if (!s->servers[i].websocket) continue;
        for (unsigned c = 0; c < HP__WS_CLOSE_CODES; c++) {
            if (s->servers[i].ws.closes[c] == 0) continue;
            hp__prom_label l[] = {{"server", s->servers[i].name},
                                  {"code", hp__ws_close_slot_label(c)}};
            hp__prom_u64(p, "hostpool_websocket_closes_total", l, 2, s->servers[i].ws.closes[c]);
        }
    }
}

/* ---- per upstream target ---- */

typedef struct target_snapshot {
    const char *upstream, *target;
    hp__upstream_target_view view;
} target_snapshot;

typedef struct targets {
    target_snapshot *items;
    size_t count, cap;
} targets;

static bool take_upstream(const char *name, hp__upstream *u, void *data)
{
    targets *ts = data;
    const hp__upstream_model *m = hp__upstream_model_of(u);
    for (size_t t = 0; t < m->target_count; t++) {
        if (ts->count == ts->cap) {
            ts->cap = ts->cap ? 2 * ts->cap : 16;
            ts->items = hp__realloc(ts->items, ts->cap * sizeof *ts->items);
        }
        target_snapshot *out = &ts->items[ts->count++];
        out->upstream = name;
        out->target = m->targets[t].address;
        hp__upstream_target_view_of(u, t, &out->view);
    }
    return true;
}

typedef uint64_t (*target_value)(const hp__upstream_target_view *v);

/* One family with one sample per target, labelled by upstream and target. */
static void per_target(hp__prom *p, const targets *ts, const char *name, const char *type,
                       const char *help, target_value value)
{
    hp__prom_family(p, name, type, help);
    for (size_t i = 0; i < ts->count; i++) {
        hp__prom_label l[] = {{"upstream", ts->items[i].upstream}, {"target", ts->items[i].target}};
        hp__prom_u64(p, name, l, 2, value(&ts->items[i].view));
    }
}

static uint64_t target_requests(const hp__upstream_target_view *v)
{
    return v->requests;
}
static uint64_t target_failures(const hp__upstream_target_view *v)
{
    return v->failures;
}
static uint64_t target_available(const hp__upstream_target_view *v)
{
    return v->available;
}
/* 0 closed (or no breaker), 1 open, 2 half-open. */
static uint64_t target_breaker(const hp__upstream_target_view *v)
{
    if (!v->has_breaker) return 0;
    return v->breaker == HP__BREAKER_OPEN ? 1 : v->breaker == HP__BREAKER_HALF_OPEN ? 2 : 0;
}
static uint64_t target_waiting(const hp__upstream_target_view *v)
{
    return v->waiting;
}

static void target_connections(hp__prom *p, const targets *ts)
{
    static const char name[] = "hostpool_upstream_connections";
    hp__prom_family(p, name, "gauge",
                    "Connections to the target, all workers: open (connecting, idle or in use), "
                    "idle, in use.");
    for (size_t i = 0; i < ts->count; i++) {
        const hp__upstream_target_view *v = &ts->items[i].view;
        const struct {
            const char *state;
            uint32_t value;
        } states[] = {{"open", v->open}, {"idle", v->idle}, {"in_use", v->in_use}};
        for (size_t s = 0; s < sizeof states / sizeof *states; s++) {
            hp__prom_label l[] = {{"upstream", ts->items[i].upstream},
                                  {"target", ts->items[i].target},
                                  {"state", states[s].state}};
            hp__prom_u64(p, name, l, 3, states[s].value);
        }
    }
}

static void write_upstreams(hp__prom *p, hp_pool *pool)
{
    targets ts = {0};
    hp__upstreams_walk(hp__pool_upstreams(pool), take_upstream, &ts);
    if (ts.count == 0) return; /* no named upstream: no family to show */
    per_target(p, &ts, "hostpool_upstream_requests_total", "counter",
               "Requests proxied to the target.", target_requests);
    per_target(p, &ts, "hostpool_upstream_failures_total", "counter",
               "Of them, failures: connect error, reset, malformed response, timeout, 5xx.",
               target_failures);
    per_target(p, &ts, "hostpool_upstream_available", "gauge",
               "1 when the target is in rotation (not taken out by the active or passive checks, "
               "its breaker not open), else 0.",
               target_available);
    per_target(p, &ts, "hostpool_upstream_breaker_state", "gauge",
               "The target's circuit breaker: 0 closed (or none), 1 open, 2 half-open.",
               target_breaker);
    target_connections(p, &ts);
    per_target(p, &ts, "hostpool_upstream_waiting", "gauge",
               "Requests waiting for a connection to the target, all workers.", target_waiting);
    free(ts.items);
}

/* ---- switchboards (none: nothing is written) ---- */

static void write_switchboards(hp__prom *p, const hp_pool *pool)
{
    if (!hp__switchboard_first(pool)) return;
    hp__prom_family(p, "hostpool_switchboard_servers", "gauge",
                    "Servers a switchboard made that the pool has now.");
    for (const hp__switchboard *sb = hp__switchboard_first(pool); sb;
         sb = hp__switchboard_next(sb)) {
        hp__prom_label l = {"switchboard", hp__switchboard_model_of(sb)->name};
        hp_pool_strings names;
        hp__switchboard_servers(sb, &names);
        hp__prom_u64(p, "hostpool_switchboard_servers", &l, 1, names.count);
        hp_pool_strings_free(&names);
    }
    static const char *const reasons[] = {"not_allowed", "limit"};
    hp__prom_family(p, "hostpool_switchboard_refused_total", "counter",
                    "Requests a switchboard refused: a name not allowed (404), a limit (503).");
    for (const hp__switchboard *sb = hp__switchboard_first(pool); sb;
         sb = hp__switchboard_next(sb)) {
        for (size_t i = 0; i < 2; i++) {
            hp__prom_label l[] = {{"switchboard", hp__switchboard_model_of(sb)->name},
                                  {"reason", reasons[i]}};
            hp__prom_u64(p, "hostpool_switchboard_refused_total", l, 2,
                         hp__switchboard_refused(sb, reasons[i]));
        }
    }
}

/* ---- the pool and the process ---- */

static void write_pool(hp__prom *p, hp_pool *pool, const snapshot *s)
{
    uint64_t by_state[STATE_COUNT] = {0};
    for (size_t i = 0; i < s->count; i++) by_state[s->servers[i].state]++;
    hp__prom_family(p, "hostpool_servers", "gauge", "Servers of the pool, by state.");
    for (int st = 0; st < STATE_COUNT; st++) {
        hp__prom_label l = {"state", hp_server_state_name((hp_server_state)st)};
        hp__prom_u64(p, "hostpool_servers", &l, 1, by_state[st]);
    }
    size_t topics;
    const hp__event_count *counts = hp__events_counts(hp__pool_events(pool), &topics);
    hp__prom_family(p, "hostpool_events_total", "counter",
                    "Events published on the pool's event bus, by topic.");
    for (size_t i = 0; i < topics; i++) {
        hp__prom_label l = {"topic", counts[i].topic};
        hp__prom_u64(p, "hostpool_events_total", &l, 1, counts[i].count);
    }
    hp__prom_family(p, "hostpool_uptime_seconds", "gauge", "Seconds since the pool was created.");
    hp__prom_double(p, "hostpool_uptime_seconds", NULL, 0, (double)hp__pool_age_ms(pool) / 1e3);
}

typedef struct dropped_lines {
    hp__prom *p;
    bool family_written;
} dropped_lines;

static void write_one_dropped(void *data, const char *path, uint64_t dropped)
{
    dropped_lines *d = data;
    if (!d->family_written)
        hp__prom_family(d->p, "hostpool_access_log_dropped_total", "counter",
                        "Access log lines dropped because a worker's buffer for the file was "
                        "full, by file.");
    d->family_written = true;
    hp__prom_label l = {"file", path};
    hp__prom_u64(d->p, "hostpool_access_log_dropped_total", &l, 1, dropped);
}

/* The process's access log files (io/log_file.h): only when there is one. */
static void write_access_log_files(hp__prom *p)
{
    dropped_lines d = {.p = p};
    hp__log_files_walk(write_one_dropped, &d);
}

static void write_process(hp__prom *p)
{
    hp__proc_stats ps;
    if (hp__proc_stats_read(&ps) != 0) return; /* no /proc: nothing to say */
    hp__prom_family(p, "process_cpu_seconds_total", "counter", "User and system CPU time.");
    hp__prom_double(p, "process_cpu_seconds_total", NULL, 0, ps.cpu_seconds);
    hp__prom_family(p, "process_open_fds", "gauge", "Open file descriptors.");
    hp__prom_u64(p, "process_open_fds", NULL, 0, ps.open_fds);
    hp__prom_family(p, "process_max_fds", "gauge", "The limit of open file descriptors.");
    hp__prom_u64(p, "process_max_fds", NULL, 0, ps.max_fds);
    hp__prom_family(p, "process_resident_memory_bytes", "gauge", "Resident memory size.");
    hp__prom_u64(p, "process_resident_memory_bytes", NULL, 0, ps.resident_bytes);
    hp__prom_family(p, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
    hp__prom_u64(p, "process_virtual_memory_bytes", NULL, 0, ps.virtual_bytes);
    hp__prom_family(p, "process_start_time_seconds", "gauge",
                    "Start time of the process, in seconds since the Unix epoch.");
    hp__prom_double(p, "process_start_time_seconds", NULL, 0, ps.start_time_seconds);
}

char *hp_pool_metrics_text(hp_pool *pool, size_t *len)
{
    snapshot s = {.pool = pool, .servers = hp__calloc(hp_pool_count(pool) + 1, sizeof *s.servers)};
    hp_pool_walk(pool, take_server, &s);
    hp__prom p;
    hp__prom_init(&p);
    write_servers(&p, &s);
    write_websockets(&p, &s);
    write_upstreams(&p, pool);
    write_switchboards(&p, pool);
    write_pool(&p, pool, &s);
    write_access_log_files(&p);
    write_process(&p);
    for (size_t i = 0; i < s.count; i++) hp__stats_totals_close(&s.servers[i].totals);
    free(s.servers);
    return hp__prom_take(&p, len);
}
