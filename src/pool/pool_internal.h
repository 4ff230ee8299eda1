/* What the library's other modules (the admin API) need of a pool beyond its public API. */
#ifndef HP_POOL_POOL_INTERNAL_H
#define HP_POOL_POOL_INTERNAL_H

#include "core/events.h"
#include "hostpool/engine.h"
#include "hostpool/pool.h"

/* The pool's engine (its workers). */
hp_engine *hp__pool_engine(hp_pool *pool);
/* Its registry of named upstreams (upstream/upstreams.h), which its engine's workers reach. */
struct hp__upstreams *hp__pool_upstreams(hp_pool *pool);
/* The supervisor of the server `name`'s process (pool/supervisor.h), or NULL when it has
 * none (not a process server, or no such server). Borrowed: valid until the server is
 * removed or replaced. */
struct hp__supervisor *hp__pool_supervisor(hp_pool *pool, const char *name);
/* The process config of the server `name` as it was given (port 0: automatic), or NULL when
 * it has none. Borrowed, as above. */
const struct hp_process_config *hp__pool_process(const hp_pool *pool, const char *name);
/* Its event bus (for the counts by topic), and the time since it was created. */
const hp__events *hp__pool_events(const hp_pool *pool);
uint64_t hp__pool_age_ms(const hp_pool *pool);

#endif
