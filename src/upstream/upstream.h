/* A running upstream: one version of an upstream's settings and the state its targets share
 * across workers (docs/PROXY.md).
 *
 * A version is made from a model (upstream_model.h, copied) and never changes its settings:
 * PUT /upstreams/{name} makes a new version, and requests in flight finish on the old one,
 * which is freed when its last reference goes (hp__upstream_unref, from any thread).
 *
 * Per target, shared by every worker under the version's one mutex: the passive check
 * (core/passive.h), the circuit breaker (core/breaker.h, when the model has one), whether the
 * active checks say it is down, and its figures (counted atomically: requests, failures, and
 * the connection pools' open/idle/in use/waiting, which the workers' pools add to). The
 * timers of the passive checks and breakers run on a scheduler of the version's own, on the
 * monotonic clock, under the same mutex: a worker runs what is due before it picks a target
 * (so nothing needs a thread of its own to move on), and the control thread runs it on time
 * when it was told to (hp__upstream_set_attention), so a breaker half-opens and its event is
 * published even when no request comes.
 *
 * Transitions (a target out or back in, a breaker opening, half-opening, closing) are logged
 * under the mutex in a bounded ring and the attention callback is called (from the thread
 * that caused them, outside the mutex); the control thread takes them with
 * hp__upstream_take_transitions and publishes them as events. A worker's picker notices them
 * through the version's generation (bumped at each change of a target's availability) and
 * re-reads the availability of every target into its own balancer.
 *
 * Threads: create on any thread; ref/unref, pick/report on any worker; set_health,
 * take_transitions, run_due, view and set_attention on the control thread. */
#ifndef HP_UPSTREAM_UPSTREAM_H
#define HP_UPSTREAM_UPSTREAM_H

#include "core/breaker.h"
#include "core/health.h"
#include "io/upstream_pool.h"
#include "upstream/upstream_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hp__upstream hp__upstream;

/* A new version with one reference. The model is copied. */
hp__upstream *hp__upstream_create(const hp__upstream_model *model);
void hp__upstream_ref(hp__upstream *u);
/* Frees the version with its last reference. NULL is a no-op. */
void hp__upstream_unref(hp__upstream *u);

const hp__upstream_model *hp__upstream_model_of(const hp__upstream *u);
/* Per target: what the workers' connection pools count into (upstream_pool.h); the targets'
 * figures are one array, so hp__upstream_figures(u, 0) is what a pool's options take. */
hp__upstream_pool_figures *hp__upstream_figures(hp__upstream *u, size_t target);

/* ---- the control thread -------------------------------------------------------------------- */

/* Called, from whichever thread caused it and outside the mutex, when transitions were logged
 * or the version's scheduler got an earlier timer: the control thread should then take the
 * transitions and run what is due at hp__upstream_next_due. The callback must be safe from
 * any thread (uv_async_send). NULL stops the calls. */
typedef void (*hp__upstream_attention_cb)(hp__upstream *u, void *data);
void hp__upstream_set_attention(hp__upstream *u, hp__upstream_attention_cb cb, void *data);

/* The active checks' verdict: `down` takes the target out of rotation (a transition). */
void hp__upstream_set_health_down(hp__upstream *u, size_t target, bool down);
/* Runs the passive checks' and breakers' timers due by now; returns when the next is due
 * (monotonic ms, HP__SCHED_NEVER when none). */
uint64_t hp__upstream_run_due(hp__upstream *u);

typedef enum {
    HP__UPSTREAM_TARGET_DOWN, /* out of rotation: health KO or passive max_fails */
    HP__UPSTREAM_TARGET_UP,   /* back in rotation */
    HP__UPSTREAM_BREAKER_OPEN,
    HP__UPSTREAM_BREAKER_HALF_OPEN,
    HP__UPSTREAM_BREAKER_CLOSED,
} hp__upstream_transition_kind;

typedef struct hp__upstream_transition {
    hp__upstream_transition_kind kind;
    uint32_t target;
    const char *why; /* static text: "health", "passive", "failures", "error_ratio", "trial" */
} hp__upstream_transition;

/* Moves up to `max` logged transitions, oldest first, into `out`; returns how many. A ring
 * that overflowed lost its oldest ones (counted in hp__upstream_view.transitions_lost). */
size_t hp__upstream_take_transitions(hp__upstream *u, hp__upstream_transition *out, size_t max);

/* One target, as GET /upstreams/{name} and the metrics show it. */
typedef struct hp__upstream_target_view {
    bool health_down; /* active checks said KO */
    bool passive_out; /* taken out by max_fails */
    bool has_breaker;
    hp__breaker_state breaker;
    bool available;    /* in rotation: not health_down, not passive_out, breaker not open */
    uint64_t requests; /* proxied to it, ever */
    uint64_t failures; /* of them, failures (docs/PROXY.md says which) */
    uint32_t open, idle, in_use, waiting; /* the pools' figures, all workers */
} hp__upstream_target_view;

typedef struct hp__upstream_view {
    uint32_t in_flight; /* requests being proxied */
    uint32_t pending;   /* requests waiting for a connection */
    uint64_t transitions_lost;
} hp__upstream_view;

void hp__upstream_view_of(hp__upstream *u, hp__upstream_view *out);
void hp__upstream_target_view_of(hp__upstream *u, size_t target, hp__upstream_target_view *out);

/* ---- a worker ------------------------------------------------------------------------------ */

/* A worker's view of a version: its own balancer (core/balance.h, built from the model: kind,
 * weights, addresses as hash ids), kept in step with the shared availability of the targets
 * (re-read whenever the version's generation moved, which it does at each change). */
typedef struct hp__upstream_picker {
    hp__upstream *u; /* a reference, dropped by _close */
    hp__balance *balance;
    uint64_t generation;
} hp__upstream_picker;

void hp__upstream_picker_init(hp__upstream_picker *p, hp__upstream *u);
void hp__upstream_picker_close(hp__upstream_picker *p);

/* Admission of one request to the upstream as a whole: false when max_in_flight is reached
 * (then 503). Every admitted request is ended with hp__upstream_leave. */
bool hp__upstream_enter(hp__upstream *u);
void hp__upstream_leave(hp__upstream *u);
/* A request about to wait for a connection: false when max_pending is reached (then 503).
 * Every begun wait is ended with hp__upstream_wait_end. */
bool hp__upstream_wait_begin(hp__upstream *u);
void hp__upstream_wait_end(hp__upstream *u);

typedef struct hp__upstream_pick {
    uint32_t target;
    hp__breaker_ticket ticket;
} hp__upstream_pick;

/* Picks a target for one attempt: runs what is due, skips the targets out of rotation, those
 * whose breaker refuses and those in `tried` (a bit per target), takes a breaker ticket and
 * counts the passive check's pick for the one chosen. Returns false when no target may be
 * tried (then 503 with Retry-After). Each pick is ended by hp__upstream_report exactly once. */
bool hp__upstream_pick_target(hp__upstream_picker *p, const void *key, size_t key_len,
                              uint64_t tried, hp__upstream_pick *out);

typedef enum {
    HP__UPSTREAM_SUCCESS,   /* a response that is not a failure */
    HP__UPSTREAM_FAILURE,   /* connect error, reset, malformed response, timeout, 5xx */
    HP__UPSTREAM_ABANDONED, /* the request ended before the target said anything */
} hp__upstream_outcome;
/* Ends a pick: the balancer's count, the passive check, the breaker and the figures. */
void hp__upstream_report(hp__upstream_picker *p, const hp__upstream_pick *pick,
                         hp__upstream_outcome outcome);

/* How long until some target may be back (for Retry-After): the next timed transition, or
 * the health interval, in whole seconds, at least 1. */
uint32_t hp__upstream_retry_after_s(hp__upstream *u);

#endif
