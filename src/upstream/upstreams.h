/* The registry of a pool's named upstreams (`upstreams:` in a config, PUT /upstreams/{name}).
 *
 * A name maps to the current version of its upstream (upstream/upstream.h): put makes a new
 * version from a model and unreferences the one it replaces, which requests in flight keep
 * alive until they end; remove unreferences it too. Workers resolve names at request time
 * with hp__upstreams_acquire (a new reference) and cache the version they got until
 * hp__upstreams_generation moves, so the name table's mutex is taken only after a change.
 *
 * On the control thread, for each current version, the registry runs:
 *   - the active checks, when the model has `health`: one hp__health_checker per target with
 *     the HTTP probe (pool/http_probe.h) on the control loop's scheduler, rise/fall/interval/
 *     timeout from the model; a target judged KO is taken out of rotation
 *     (hp__upstream_set_health_down) and put back when judged OK again. A target never
 *     checked yet (UNKNOWN) and one in WARN stay in;
 *   - the version's attention: transitions taken and published as events on the pool's bus
 *     (`upstream.target_down`, `upstream.target_up`, `breaker.open`, `breaker.half_open`,
 *     `breaker.closed`, with the upstream, the target's address and why), then
 *     hp__upstream_run_due, a libuv timer armed at the earliest next due time.
 *
 * One uv_async_t and one uv_timer_t serve every version: the attention callback a worker may
 * call at any moment only signals the registry's async handle, which lives as long as the
 * registry, so a version replaced while a worker is signalling never makes it touch a closed
 * handle. Each wakeup attends to every current version (there are few), and versions replaced
 * meanwhile are no longer attended: their transitions are not published.
 *
 * Lifecycle: create with the pool (before the engine's workers run a server), put and remove
 * on the control thread, stop once the engine stopped its workers (checks stopped, handles
 * closing), destroy after the loop ran the close callbacks.
 *
 * Threading: acquire and generation from any thread; everything else on the control thread. */
#ifndef HP_UPSTREAM_UPSTREAMS_H
#define HP_UPSTREAM_UPSTREAMS_H

#include "core/events.h"
#include "core/health.h"
#include "core/sched.h"
#include "upstream/upstream.h"
#include "upstream/upstream_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct hp__upstreams hp__upstreams;

/* An empty registry on the control loop `loop`. `sched` (the loop's scheduler, which runs the
 * pool's health checks) and `events` (where transitions are published) are borrowed and must
 * outlive it. */
hp__upstreams *hp__upstreams_create(uv_loop_t *loop, hp__sched *sched, hp__events *events);
/* Stops every check and closes the handles; put and remove fail from now on. Idempotent. */
void hp__upstreams_stop(hp__upstreams *r);
/* After stop, once the loop ran the close callbacks: drops the registry's references to its
 * versions and frees it. NULL is a no-op. */
void hp__upstreams_destroy(hp__upstreams *r);

/* Adds `model->name`, or replaces it with a new version, made from `model` (copied), its
 * checks started. HP_EINVAL for a model without a name or targets, HP_ELIMIT for a new name
 * when HP__UPSTREAMS_MAX are there, HP_ESTATE after stop. */
int hp__upstreams_put(hp__upstreams *r, const hp__upstream_model *model);
/* HP_ENOTFOUND when there is no upstream of that name, HP_ESTATE after stop. */
int hp__upstreams_remove(hp__upstreams *r, const char *name);

/* Any thread: the current version of `name` with a new reference (hp__upstream_unref it), or
 * NULL. */
hp__upstream *hp__upstreams_acquire(hp__upstreams *r, const char *name);
/* Any thread: bumped at each put and remove (a worker caches its version until it moves). */
uint64_t hp__upstreams_generation(const hp__upstreams *r);

/* ---- reading, on the control thread -------------------------------------------------------- */

size_t hp__upstreams_count(const hp__upstreams *r);
/* The current version of `name`, borrowed until the next put or remove of it, or NULL. */
hp__upstream *hp__upstreams_get(const hp__upstreams *r, const char *name);
/* Calls cb for each upstream in the order they were first put; stops when it returns false. */
typedef bool (*hp__upstreams_walk_cb)(const char *name, hp__upstream *u, void *data);
void hp__upstreams_walk(const hp__upstreams *r, hp__upstreams_walk_cb cb, void *data);
/* The active checks' verdict on target `target` of `name`; false when it has no checks. */
bool hp__upstreams_health(const hp__upstreams *r, const char *name, size_t target,
                          hp__health_state *out);

#endif
