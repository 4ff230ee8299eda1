/* What the library's other modules (the admin API) need of a pool beyond its public API. */
#ifndef HP_POOL_POOL_INTERNAL_H
#define HP_POOL_POOL_INTERNAL_H

#include "core/events.h"
#include "hostpool/engine.h"
#include "hostpool/pool.h"

struct hp__sched;
struct hp__switchboard;

/* The pool's engine (its workers). */
hp_engine *hp__pool_engine(hp_pool *pool);
/* Its registry of named upstreams (upstream/upstreams.h), which its engine's workers reach. */
struct hp__upstreams *hp__pool_upstreams(hp_pool *pool);
/* The supervisor of the server `name`'s process (pool/supervisor.h), or NULL when it has
 * none (not a process server, or no such server). Borrowed: valid until the server is
 * removed or replaced. */
struct hp__supervisor *hp__pool_supervisor(hp_pool *pool, const char *name);
/* The journal of the server `name` (http/server_journal.h), or NULL: no such server, none
 * configured, or not started yet. Borrowed, as above (a replace may keep it); take a
 * reference (refs) to keep it longer. */
struct hp__server_journal *hp__pool_journal(hp_pool *pool, const char *name);
/* Has the server `name` a journal configured? */
bool hp__pool_has_journal(const hp_pool *pool, const char *name);
/* The process config of the server `name` as it was given (port 0: automatic), or NULL when
 * it has none. Borrowed, as above. */
const struct hp_process_config *hp__pool_process(const hp_pool *pool, const char *name);
/* Its event bus (for the counts by topic), and the time since it was created. */
const hp__events *hp__pool_events(const hp_pool *pool);
uint64_t hp__pool_age_ms(const hp_pool *pool);

/* ---- switchboards (switch/switchboard.h) ---- */

/* hp_pool_add for a server the switchboard `switchboard` makes on demand: the entry is marked
 * before server.added, so every event of the server carries hp_event.switchboard. */
int hp__pool_add_on_demand(hp_pool *pool, const hp_server_config *config, const char *switchboard,
                           char *errbuf, size_t errbuf_len);
/* The switchboard that made the server `name`, or NULL (none, or no such server). Borrowed. */
const char *hp__pool_server_switchboard(const hp_pool *pool, const char *name);
/* Publishes `topic` about the server `name` (nothing when there is none). */
void hp__pool_publish_server(hp_pool *pool, const char *topic, const char *name);
/* Publishes `event` (its topic and fields set by the caller; time_ms is set here). */
void hp__pool_publish_event(hp_pool *pool, hp_event *event);
/* The server `name` as the pool runs it (its routes), or NULL. Borrowed: valid until it is
 * removed or replaced. */
const hp_server *hp__pool_server(const hp_pool *pool, const char *name);
/* The control loop's scheduler (health checks, switchboards' idle timers). */
struct hp__sched *hp__pool_sched(hp_pool *pool);
/* The head of the pool's list of switchboards, which it stops and frees with itself. */
struct hp__switchboard **hp__pool_switchboards(const hp_pool *pool);

#endif
