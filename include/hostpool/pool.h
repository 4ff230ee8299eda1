/* The pool: many servers in one process, each managed on its own or all together.
 *
 * A pool owns an engine (its worker loops) and a set of servers keyed by a unique name. Each
 * server has a lifecycle of its own:
 *
 *     stopped ──start──▶ running ──stop──▶ draining ──▶ stopped
 *        └──start fails──▶ failed (last error kept) ──start──▶ ...
 *     (made on first use) starting ──▶ running, or failed
 *
 * A server that hp_pool_get_or_create() makes is `starting` from the moment its maker adds it
 * until it runs or its start fails: what observes it meanwhile (its server.added subscribers,
 * hp_pool_info, the admin API) sees it so, and replace, start and restart refuse it
 * (HP_ESTATE). Making and binding are synchronous, so for most servers that is within the
 * call. A process server (hostpool/process.h) is `starting` from its bind until its program is
 * ready, `running` from then on (across the program's restarts), and `failed` when its restart
 * policy gives up, with its addresses still bound (they answer 503); starting it again then
 * starts the program again (no new bind). Its start, stop, restart, remove and the shutdown
 * stop the program too (SIGTERM, then SIGKILL after its stop_timeout) and end when both the
 * drain and the program's stop did. Its program's events (process.started, .ready, .exited,
 * .restarting, .giveup) carry the server's name.
 *
 * Starting binds the server's addresses at once (so "address in use" is an immediate error
 * of that server alone); stopping drains its connections without touching any other server.
 * Operations over all servers never stop at the first failure: the result names every server
 * that failed and why.
 *
 * Threads: every function runs on the pool's control loop (the uv_loop_t given to create).
 * Callbacks are called on it too. If a function that takes a callback fails, the callback is
 * never called.
 *
 * Events (topics): server.added, server.started, server.failed, server.stopped,
 * server.removed, server.replaced, server.health (message: the new health), pool.stopped;
 * server.idle_stopped, and hp_event.switchboard on every event of a server a switchboard made
 * (src/switch/switchboard.h). A failed start publishes server.failed then server.stopped. Patterns:
 * `*` matches one dot-separated segment, a final `**` one or more (src/core/topic.h).
 *
 * Ports: a listen address "auto" (127.0.0.1) or "HOST:auto" takes a free port from the pool's
 * range when the server is added; the server keeps it across restarts and gives it back when
 * removed. The range is walked cyclically, so a released port is reused only after the rest of
 * the range was handed out. */
#ifndef HOSTPOOL_POOL_H
#define HOSTPOOL_POOL_H

#include "hostpool/events.h"
#include "hostpool/server.h"

#include <uv.h>

typedef struct hp_pool hp_pool;

typedef enum {
    HP_SERVER_STOPPED,
    HP_SERVER_STARTING,
    HP_SERVER_RUNNING,
    HP_SERVER_DRAINING,
    HP_SERVER_FAILED,
} hp_server_state;

/* "stopped", "starting", "running", "draining", "failed". */
const char *hp_server_state_name(hp_server_state state);

typedef struct hp_pool_options {
    unsigned workers;     /* 0: the number of CPUs */
    uint32_t max_servers; /* 0: 1000; servers being added count against it */
    uint16_t port_min;    /* range for "auto": 0/0 means 20000-20999 */
    uint16_t port_max;
    uint64_t drain_timeout_ms;    /* for the shutdown of the whole pool; 0: 30 s. A server's
                                   * own stop, restart, replace or remove drains within its
                                   * limits.drain_timeout_ms */
    uint32_t health_interval_ms;  /* between TCP checks of a running server; 0: 2 s */
    uint32_t health_rise;         /* successes in a row to become OK; 0: 2 */
    uint32_t health_fall;         /* failures in a row to become KO; 0: 3 */
    const struct hp_hooks *hooks; /* hostpool/hooks.h: told of every request of every server
                                   * (copied; NULL: none) */
    hp_handler *default_handler;  /* answers for servers added without routes (NULL: 404);
                                   * owned by the pool once create succeeded, destroyed with it */
} hp_pool_options;

/* A server's health: UNKNOWN until its first checks, then OK after `health_rise` (2)
 * successful TCP connects in a row, WARN after a failure, KO after `health_fall` (3) failures
 * in a row (and KO needs `rise` successes to become OK again). A server that is not running is
 * KO. */
typedef enum { HP_HEALTH_UNKNOWN, HP_HEALTH_OK, HP_HEALTH_WARN, HP_HEALTH_KO } hp_health;

/* "unknown", "ok", "warn", "ko". */
const char *hp_health_name(hp_health health);

int hp_pool_create(uv_loop_t *loop, const hp_pool_options *options, hp_pool **out);

/* Publishes pool.stopping, stops every server (concurrently), publishes pool.stopped, closes
 * the event stream, stops the workers, then calls `cb`. Afterwards only hp_pool_destroy() may be
 * called. */
typedef void (*hp_pool_cb)(hp_pool *pool, void *data);
void hp_pool_shutdown(hp_pool *pool, hp_pool_cb cb, void *data);
/* Frees the pool and its servers; only after the shutdown callback. NULL is a no-op. */
void hp_pool_destroy(hp_pool *pool);

/* ---- events ----------------------------------------------------------------------------- */

/* Subscribes `cb` to the events whose topic matches `pattern` (hostpool/events.h); `*id`
 * (if not NULL) gets an id for hp_pool_unsubscribe, never 0. HP_EINVAL for a bad pattern;
 * HP_ESTATE once the pool is shutting down and its event stream has been closed. */
int hp_pool_subscribe(hp_pool *pool, const char *pattern, hp_event_cb cb, void *data, uint64_t *id);
/* Idempotent; an unknown id is ignored. Safe from inside any event callback. */
void hp_pool_unsubscribe(hp_pool *pool, uint64_t id);

/* ---- membership --------------------------------------------------------------------------- */

/* Adds a server, stopped (starting when it is the one hp_pool_get_or_create is making: see
 * the lifecycle above). Everything in `config` is copied; the route handlers are owned by
 * the pool on success (and still the caller's on failure). Errors: HP_EEXISTS (the name is
 * taken), HP_ELIMIT (max_servers reached, the message says the limit), HP_ECONFIG; `errbuf`
 * says why. */
int hp_pool_add(hp_pool *pool, const hp_server_config *config, char *errbuf, size_t errbuf_len);

/* Stops (drains) the server if it runs, then removes it and calls `cb`. HP_ENOTFOUND. */
typedef void (*hp_pool_server_cb)(hp_pool *pool, const char *name, int status, void *data);
int hp_pool_remove(hp_pool *pool, const char *name, hp_pool_server_cb cb, void *data);

/* Replaces the server `name` with one built from `config` (whose name must be the same).
 * A running server is replaced without a gap: on the addresses both versions have, the new one
 * takes the old one's place on the sockets already bound (none is closed or bound again), so
 * new requests go to it at once; an address only the new version has is bound as by a start.
 * Requests in flight finish on the old version, which then drains, and `cb` is called. An "auto"
 * address keeps the old server's port at the same position. On any error (HP_ENOTFOUND, HP_EINVAL
 * for another name, HP_ESTATE while it drains, HP_ECONFIG, a bind error) nothing changes and the
 * old version keeps running; the route handlers are the pool's on success, still the caller's on
 * error. Publishes server.replaced. */
int hp_pool_replace(hp_pool *pool, const hp_server_config *config, hp_pool_server_cb cb, void *data,
                    char *errbuf, size_t errbuf_len);

/* The server that claims the host name of a Host value (case-insensitive; a ":port" and a
 * trailing dot are ignored): an exact name first, then the longest "*.suffix"; among equals,
 * the first added. Servers without host names (defaults) are never returned. NULL when no
 * server claims it. Borrowed. */
const char *hp_pool_find_by_host(const hp_pool *pool, const char *host);

bool hp_pool_has(const hp_pool *pool, const char *name);
size_t hp_pool_count(const hp_pool *pool);

/* The name of the server bound (or to be bound) to `address` ("127.0.0.1:8080", compared as
 * written after "auto" was resolved), or NULL. Borrowed. */
const char *hp_pool_find_by_bind(const hp_pool *pool, const char *address);

/* The server `name`, made and started on first use: when it does not exist, `make` is called
 * to add it (with hp_pool_add; it joins the pool `starting`), then it is started, so any number
 * of calls for one name create exactly one server (a call made while it is being made starts
 * it). `cb` gets 0 once the server runs, or the start's error. Asynchronous for a process
 * server: `cb` comes when its program is ready (0), or when the program fails or the server
 * is stopped first (HP_ESTATE, its last error says why); every call made meanwhile waits the
 * same way. For other servers `cb` is called before this returns.
 * Errors of making (max_servers reached: HP_ELIMIT) are returned, and `cb` is not called. */
typedef int (*hp_pool_maker)(hp_pool *pool, const char *name, void *data);
int hp_pool_get_or_create(hp_pool *pool, const char *name, hp_pool_maker make, void *make_data,
                          hp_pool_server_cb cb, void *data);

/* ---- selecting servers -------------------------------------------------------------------- */

typedef enum {
    HP_POOL_FIELD_NAME,   /* the server's name */
    HP_POOL_FIELD_BIND,   /* its first listen address, "127.0.0.1:8080" */
    HP_POOL_FIELD_EXPOSE, /* its expose URL (servers without one never match) */
} hp_pool_field;

/* Strings owned by the caller; free with hp_pool_strings_free(). */
typedef struct hp_pool_strings {
    char **items;
    size_t count;
} hp_pool_strings;

void hp_pool_strings_free(hp_pool_strings *list);

/* The names of the servers whose `field` equals `pattern` (ASCII case-insensitive; for the
 * expose URL only host:port is compared) or matches `regex` (POSIX extended, against the
 * whole text); either may be NULL, and with both NULL nothing is selected. In the order the
 * servers were added. HP_EINVAL for an invalid regex, with regerror's text in `errbuf`. */
int hp_pool_filter(const hp_pool *pool, hp_pool_field field, const char *pattern, const char *regex,
                   hp_pool_strings *names, char *errbuf, size_t errbuf_len);

/* The same selection, but returns each selected server's `value_field` (servers without an
 * expose URL give none). */
int hp_pool_list(const hp_pool *pool, hp_pool_field field, const char *pattern, const char *regex,
                 hp_pool_field value_field, hp_pool_strings *values, char *errbuf,
                 size_t errbuf_len);

/* ---- one server --------------------------------------------------------------------------- */

/* Binds and starts accepting (a process server: and starts its program; it is `starting`
 * until the program is ready). HP_ENOTFOUND, HP_ESTATE (not stopped or failed), or the bind
 * error (the server is then `failed` with that error as its last error). */
int hp_pool_start(hp_pool *pool, const char *name, char *errbuf, size_t errbuf_len);
/* Drains and stops; `cb` when stopped (status 0). HP_ENOTFOUND, HP_ESTATE (not running; a
 * process server that is starting or failed is stopped too: its addresses are bound). */
int hp_pool_stop(hp_pool *pool, const char *name, hp_pool_server_cb cb, void *data);
/* Stop then start; `cb` gets the start's status. HP_ENOTFOUND, HP_ESTATE (starting, or the
 * pool is shutting down). */
int hp_pool_restart(hp_pool *pool, const char *name, hp_pool_server_cb cb, void *data);

typedef struct hp_server_info {
    const char *name; /* borrowed: valid until the server is removed */
    hp_server_state state;
    const char *last_error; /* NULL when none; borrowed like name */
    hp_health health;
    uint64_t uptime_ms; /* 0 unless running */
    uint64_t restarts;  /* starts after its first one (restart, or stop then start) */
    size_t listen_count;
    const hp_server *server;
} hp_server_info;

int hp_pool_info(const hp_pool *pool, const char *name, hp_server_info *out);

/* The port a server of the pool (hp_server_info.server) is bound to at its listen address `i`,
 * 0 when it is not running (hp_engine_bound_port). */
int hp_pool_bound_port(const hp_pool *pool, const hp_server *server, size_t i);

/* Calls `cb` for every server in the order they were added, until it returns false. */
typedef bool (*hp_pool_walk_cb)(const hp_server_info *info, void *data);
void hp_pool_walk(const hp_pool *pool, hp_pool_walk_cb cb, void *data);
/* The same over the named servers only, in the order of `names`; unknown names are skipped. */
void hp_pool_walk_names(const hp_pool *pool, const char *const *names, size_t count,
                        hp_pool_walk_cb cb, void *data);

/* ---- all servers -------------------------------------------------------------------------- */

/* What an operation over several servers did: every failure, by server. */
typedef struct hp_pool_failure {
    char *name;
    char *error;
} hp_pool_failure;

typedef struct hp_pool_result {
    size_t attempted;
    size_t failed;
    hp_pool_failure *failures; /* `failed` of them */
} hp_pool_result;

void hp_pool_result_free(hp_pool_result *result);

/* Starts every stopped or failed server; never stops at a failure. */
void hp_pool_start_all(hp_pool *pool, hp_pool_result *result);
/* Stops every running server at once (they drain concurrently); `cb` when all are stopped. */
typedef void (*hp_pool_result_cb)(hp_pool *pool, const hp_pool_result *result, void *data);
void hp_pool_stop_all(hp_pool *pool, hp_pool_result_cb cb, void *data);
/* Restarts every server at once: running ones drain and start again each as soon as its own
 * drain ends; stopped and failed ones start now. `cb` when all are done, with every start that
 * failed (its error is the server's last error). Nothing is attempted once shutting down. */
void hp_pool_restart_all(hp_pool *pool, hp_pool_result_cb cb, void *data);

/* ---- clone and merge -------------------------------------------------------------------- */

/* Copies `from`'s servers into `pool`, in order: a server whose name `pool` has replaces it in
 * place (as hp_pool_replace: a running one keeps running, without a gap, and its old version
 * drains); a new name is added, stopped (start it, e.g. with hp_pool_start_all). Servers of
 * `pool` that `from` lacks are left alone, and `from` is not changed. Each server is copied as
 * written: its "auto" addresses take ports of `pool`'s range (a replaced server keeps its
 * port), and every route handler is a clone (hp_handler_clone), never shared: two pools run on
 * different workers and a handler's per-worker state is indexed by worker number. Never stops
 * at a failure (a handler that cannot be cloned, max_servers, no free port, a bind error of a
 * replace, a server draining): `cb` gets every one by name, once every replaced server's old
 * version drained; when no running server was replaced, before hp_pool_merge returns. */
void hp_pool_merge(hp_pool *pool, const hp_pool *from, hp_pool_result_cb cb, void *data);

/* A new pool on `loop` with `pool`'s options (its default handler cloned) and a copy of every
 * server, in order, stopped, as hp_pool_merge copies them. `result` (free it) names every
 * server that could not be copied; the clone holds the others. HP_EINVAL when the default
 * handler cannot be cloned; then nothing is made. */
int hp_pool_clone(const hp_pool *pool, uv_loop_t *loop, hp_pool **out, hp_pool_result *result);

/* Is any server running? The uptime of the longest-running one (0 when none runs). */
bool hp_pool_is_running(const hp_pool *pool);
/* The pool's health over the servers meant to serve (running or failed ones): OK when all are
 * OK, KO when all are KO, WARN for a mix, UNKNOWN before any check; OK when there are none. */
hp_health hp_pool_health(const hp_pool *pool);
uint64_t hp_pool_uptime_ms(const hp_pool *pool);

/* ---- metrics and health ------------------------------------------------------------------- */

/* The pool's metrics in the Prometheus text format, version 0.0.4 (docs/METRICS.md lists
 * them): per server, responses by status code, the request duration histogram, requests in
 * flight, connections, bytes, state and restarts; servers by state and events by topic; the
 * process's CPU, memory and descriptors. The counts of a server name go on across replace and
 * restart. Returns a new NUL-terminated text (free() it) and its length in *len. */
char *hp_pool_metrics_text(hp_pool *pool, size_t *len);

/* Handlers that answer from the state of the pool their server is added to (they need it:
 * before that, and on an engine without a pool, they answer 503). Each request is carried to
 * the pool's control thread and answered back on its worker.
 *  - metrics: hp_pool_metrics_text() as text/plain; version=0.0.4.
 *  - health: {"health": "ok", "servers": [{"name", "state", "health"}...]} as
 *    application/json, 200 when the pool's health is ok or warn, 503 when it is ko or unknown
 *    (no server checked yet), so a load balancer or an orchestrator can probe it.
 * Both clone; a clone answers for the pool its own server joins. */
hp_handler *hp_metrics_handler_create(void);
hp_handler *hp_health_handler_create(void);

#endif
