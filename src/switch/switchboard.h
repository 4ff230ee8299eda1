/* A switchboard: servers made on demand, one per name a request asks for (issue 14).
 *
 * A switchboard is two things:
 *   - its FRONT, an ordinary pool server named as the switchboard, the default (no host names)
 *     of the switchboard's `listen`, whose one route is the front handler (switch_front.c);
 *   - its state on the control thread (here): its names (core/switch_name.h), its template,
 *     its limits, its idle timer.
 * A server it makes is an ordinary pool server named by the name ("hello"), on the SAME listen
 * address, with host names = each `hosts:` pattern with the name put in ("hello.localhost")
 * and one catch-all route built from the template. Once it exists, its requests reach it
 * through the listener's virtual-hosts table directly: the front sees only names that are not
 * up yet, and names chosen by the fallback header or the default, which it reroutes
 * (hp__request_reroute) to the server the first pattern names.
 *
 * The path of a name that is not up:
 *   worker   the front chooses the name (404 when none or refused), tries the reroute, else
 *            submits a control job carrying the name (handlers/control_job.h)
 *   control  hp__switchboard_serve(): allowed (allow.name, then allow.exists stat'ed) else 404
 *            and nothing made; a pool server of that name that is not this switchboard's: 404;
 *            this switchboard's and stopped: started; absent: the limits (this switchboard's
 *            max_servers, then the pool's) else 503 naming the limit, then hp_pool_get_or_create
 *            with a maker that adds it marked as this switchboard's; then the request is handed
 *            back to its worker, which reroutes it.
 *   worker   the reroute finds the new server: hp_engine_start_server posted the new
 *            virtual-hosts table to every worker's command queue (engine.c, post_all) before
 *            the job's answer was posted to the same FIFO queue, so the table is installed
 *            before the request comes back.
 * Creation is synchronous on the control thread, so concurrent first requests for a name make
 * exactly one server: the first job makes it, the later ones find it running.
 *
 * Idle: every switchboard with an idle_timeout has a timer on the pool's scheduler, ticking
 * every quarter of the timeout (at least 100 ms). Each tick reads the totals of each server
 * it made (responses and in flight, summed over the workers as the metrics are); one with no
 * response counted since the last tick and none in flight for idle_timeout is stopped and
 * removed (event server.idle_stopped, then server.stopped and server.removed); its automatic
 * ports go back to the range. The next request makes it again.
 *
 * Threads: everything here runs on the pool's control loop, except what the front handler
 * reads, which is immutable once created (the names, the first host pattern) and the refusal
 * counters (relaxed atomics). */
#ifndef HP_SWITCH_SWITCHBOARD_H
#define HP_SWITCH_SWITCHBOARD_H

#include "config/config_logs.h"
#include "config/config_process.h"
#include "core/switch_name.h"
#include "handlers/control_job.h"
#include "hostpool/pool.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__SWITCHBOARD_MAX_SERVERS 50
#define HP__SWITCHBOARD_IDLE_TIMEOUT_MS (15u * 60u * 1000u)

/* What a switchboard is made of: its config entry, checked (config/config_switchboards.c).
 * Owned strings; hp__switchboard_model_close frees them. */
typedef struct hp__switchboard_model {
    char *name;   /* unique among servers and switchboards */
    char *listen; /* a listen address: the front's and every server's it makes */
    char **hosts; /* patterns, each with one {name}; at least one */
    size_t host_count;
    char *fallback_header; /* or NULL */
    char *default_name;    /* or NULL */
    char *allow_name;      /* a regex, or NULL */
    char *allow_exists;    /* a template with {name}, or NULL */
    uint32_t max_servers;
    uint64_t idle_timeout_ms;   /* 0: never */
    char *file_root;            /* template.file.root, with {name}; or NULL and: */
    hp__process_model *process; /* template.process, {name} and {port} left for the
                                 * supervisor to expand (the server's name is the name) */
    hp_limits limits;           /* the top-level limits, for the front and the servers made */
    bool access_log;
    hp__config_access_log access_log_output; /* the top level's, for the front and the servers */
} hp__switchboard_model;

void hp__switchboard_model_close(hp__switchboard_model *m);

typedef struct hp__switchboard hp__switchboard;

/* Adds a switchboard to `pool`: its front server (stopped, as hp_pool_add adds; start it
 * with the others) and its state, kept by the pool (hp__pool_switchboards) until the pool is
 * destroyed. `model` is copied. Errors: those of hp_pool_add for the front, HP_EEXISTS for a
 * switchboard of that name, HP_ECONFIG for names that do not compile; `err` says why. */
int hp__switchboard_add(hp_pool *pool, const hp__switchboard_model *model, char *err,
                        size_t errlen);

/* ---- what the front handler calls (switch_front.c) ---- */

/* Any thread: the names, and the Host that reaches the server of `name` (the first pattern
 * with the name put in) into host[cap]; false when it does not fit. */
const hp__switch_names *hp__switchboard_names(const hp__switchboard *sb);
bool hp__switchboard_host(const hp__switchboard *sb, const char *name, char *host, size_t cap);
/* Any thread: counts a request refused because its name is not allowed. */
void hp__switchboard_count_not_allowed(hp__switchboard *sb);
/* Control thread: serves a control job whose `arg` is a name the front chose (see above). */
void hp__switchboard_serve(hp__control_job *job, void *sb);

/* ---- what the admin API and the metrics read (control thread) ---- */

const hp__switchboard *hp__switchboard_first(const hp_pool *pool);
const hp__switchboard *hp__switchboard_next(const hp__switchboard *sb);
const hp__switchboard *hp__switchboard_find(const hp_pool *pool, const char *name);
const hp__switchboard_model *hp__switchboard_model_of(const hp__switchboard *sb);
/* The names of the servers of the pool it made, in the pool's order (free the list). */
void hp__switchboard_servers(const hp__switchboard *sb, hp_pool_strings *names);
/* Requests refused: reason "not_allowed" or "limit". */
uint64_t hp__switchboard_refused(const hp__switchboard *sb, const char *reason);
/* {"name", "listen", "hosts", "fallback_header", "default", "max_servers", "idle_timeout_ms",
 * "template" ("file" or "process"), "servers", "count"} (a new reference). */
json_t *hp__switchboard_json(const hp__switchboard *sb);

/* ---- the pool's list (pool.c) ---- */

/* Cancels every switchboard's idle timer (the pool stops). */
void hp__switchboards_stop(hp__switchboard *first);
/* Frees the list; the fronts are the pool's servers. */
void hp__switchboards_destroy(hp__switchboard *first);

#endif
