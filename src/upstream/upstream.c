/* A running upstream version and its targets' shared state (upstream.h).
 *
 * Invariants, all under `lock`:
 * - target->available == !health_down && passive available && (no breaker || it admits);
 *   whenever it changes, `generation` is bumped (release) so pickers re-read every target.
 * - `ring` holds the transitions not yet taken, oldest at ring_head; when full the oldest is
 *   dropped and counted in `lost`.
 * - `notify` is set by anything the control thread must hear about (a logged transition, the
 *   scheduler's wakeup); unlock() clears it and calls the attention callback after releasing
 *   the mutex, so the callback never runs under the lock.
 * The scheduler's clock is the monotonic clock, the same on every thread. */
#include "upstream/upstream.h"

#include "common/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RING 64

typedef struct target_state {
    hp__upstream *u;
    uint32_t index;
    hp__passive passive;
    hp__breaker breaker;
    bool health_down, out_of_rotation, available;
    _Atomic uint64_t requests, failures;
} target_state;

struct hp__upstream {
    hp__upstream_model model;
    _Atomic uint32_t refs;
    _Atomic uint64_t generation;
    _Atomic uint32_t in_flight, pending;
    pthread_mutex_t lock;
    hp__sched sched;
    target_state *targets;
    hp__upstream_pool_figures *figures; /* one per target, one array: the pools take it whole */
    hp__upstream_transition ring[RING];
    uint32_t ring_head, ring_count;
    uint64_t lost;
    bool notify;
    hp__upstream_attention_cb attention;
    void *attention_data;
};

/* ---- under the lock ------------------------------------------------------------------------ */

static void log_transition(hp__upstream *u, hp__upstream_transition_kind kind, uint32_t target,
                           const char *why)
{
    if (u->ring_count == RING) {
        u->ring_head = (u->ring_head + 1) % RING;
        u->ring_count--;
        u->lost++;
    }
    u->ring[(u->ring_head + u->ring_count++) % RING] =
        (hp__upstream_transition){.kind = kind, .target = target, .why = why};
    u->notify = true;
}

/* Recomputes a target's rotation and availability after any of its inputs changed. */
static void refresh(target_state *t, const char *why)
{
    hp__upstream *u = t->u;
    bool out = t->health_down || !hp__passive_available(&t->passive);
    if (out != t->out_of_rotation) {
        t->out_of_rotation = out;
        log_transition(u, out ? HP__UPSTREAM_TARGET_DOWN : HP__UPSTREAM_TARGET_UP, t->index, why);
    }
    bool available = !out && (!u->model.breaker_enabled || hp__breaker_admits(&t->breaker));
    if (available == t->available) return;
    t->available = available;
    atomic_fetch_add_explicit(&u->generation, 1, memory_order_release);
}

static void on_passive_change(hp__passive *p, bool available, void *data)
{
    refresh(data, "passive");
}

static void on_breaker_change(hp__breaker *b, hp__breaker_state from, hp__breaker_state to,
                              void *data)
{
    target_state *t = data;
    static const hp__upstream_transition_kind kinds[] = {
        [HP__BREAKER_CLOSED] = HP__UPSTREAM_BREAKER_CLOSED,
        [HP__BREAKER_OPEN] = HP__UPSTREAM_BREAKER_OPEN,
        [HP__BREAKER_HALF_OPEN] = HP__UPSTREAM_BREAKER_HALF_OPEN,
    };
    const char *why = to == HP__BREAKER_OPEN ? hp__breaker_reason_name(b->reason) : "open_for";
    if (to == HP__BREAKER_CLOSED) why = "trials";
    log_transition(t->u, kinds[to], t->index, why);
    refresh(t, "breaker");
}

static void on_wakeup(hp__sched *s, uint64_t due, void *data)
{
    ((hp__upstream *)data)->notify = true;
}

static void lock(hp__upstream *u)
{
    pthread_mutex_lock(&u->lock);
}

static void unlock(hp__upstream *u)
{
    hp__upstream_attention_cb cb = u->notify ? u->attention : NULL;
    void *data = u->attention_data;
    u->notify = false;
    pthread_mutex_unlock(&u->lock);
    if (cb) cb(u, data);
}

static void run_due_locked(hp__upstream *u)
{
    uint64_t now = hp__sched_now(&u->sched);
    if (hp__sched_next_due(&u->sched) <= now) hp__sched_run_due(&u->sched, now);
}

/* ---- the version --------------------------------------------------------------------------- */

hp__upstream *hp__upstream_create(const hp__upstream_model *model)
{
    hp__upstream *u = HP_NEW(hp__upstream);
    hp__upstream_model_copy(&u->model, model);
    atomic_init(&u->refs, 1);
    pthread_mutex_init(&u->lock, NULL);
    hp__sched_init(&u->sched, hp__clock_monotonic());
    hp__sched_set_wakeup(&u->sched, on_wakeup, u);
    u->targets = hp__calloc(model->target_count, sizeof *u->targets);
    u->figures = hp__calloc(model->target_count, sizeof *u->figures);
    for (uint32_t i = 0; i < model->target_count; i++) {
        target_state *t = &u->targets[i];
        *t = (target_state){.u = u, .index = i, .available = true};
        hp__passive_init(&t->passive, &u->sched, &model->passive, on_passive_change, t);
        if (model->breaker_enabled)
            hp__breaker_init(&t->breaker, &u->sched, &model->breaker, on_breaker_change, t);
    }
    return u;
}

void hp__upstream_ref(hp__upstream *u)
{
    atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
}

void hp__upstream_unref(hp__upstream *u)
{
    if (!u || atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < u->model.target_count; i++) {
        hp__passive_close(&u->targets[i].passive);
        if (u->model.breaker_enabled) hp__breaker_close(&u->targets[i].breaker);
    }
    hp__sched_close(&u->sched);
    pthread_mutex_destroy(&u->lock);
    free(u->targets);
    free(u->figures);
    hp__upstream_model_close(&u->model);
    free(u);
}

const hp__upstream_model *hp__upstream_model_of(const hp__upstream *u)
{
    return &u->model;
}

hp__upstream_pool_figures *hp__upstream_figures(hp__upstream *u, size_t target)
{
    return &u->figures[target];
}

/* ---- the control thread -------------------------------------------------------------------- */

void hp__upstream_set_attention(hp__upstream *u, hp__upstream_attention_cb cb, void *data)
{
    lock(u);
    u->attention = cb;
    u->attention_data = data;
    u->notify = false;
    pthread_mutex_unlock(&u->lock);
}

void hp__upstream_set_health_down(hp__upstream *u, size_t target, bool down)
{
    lock(u);
    target_state *t = &u->targets[target];
    if (t->health_down != down) {
        t->health_down = down;
        refresh(t, "health");
    }
    unlock(u);
}

uint64_t hp__upstream_run_due(hp__upstream *u)
{
    lock(u);
    run_due_locked(u);
    uint64_t next = hp__sched_next_due(&u->sched);
    u->notify = u->ring_count > 0; /* the caller is the one being told: only left-overs */
    pthread_mutex_unlock(&u->lock);
    return next;
}

size_t hp__upstream_take_transitions(hp__upstream *u, hp__upstream_transition *out, size_t max)
{
    lock(u);
    size_t n = 0;
    for (; n < max && u->ring_count; n++, u->ring_count--) {
        out[n] = u->ring[u->ring_head];
        u->ring_head = (u->ring_head + 1) % RING;
    }
    pthread_mutex_unlock(&u->lock);
    return n;
}

void hp__upstream_view_of(hp__upstream *u, hp__upstream_view *out)
{
    lock(u);
    *out = (hp__upstream_view){
        .in_flight = atomic_load_explicit(&u->in_flight, memory_order_relaxed),
        .pending = atomic_load_explicit(&u->pending, memory_order_relaxed),
        .transitions_lost = u->lost,
    };
    pthread_mutex_unlock(&u->lock);
}

void hp__upstream_target_view_of(hp__upstream *u, size_t target, hp__upstream_target_view *out)
{
    lock(u);
    run_due_locked(u);
    target_state *t = &u->targets[target];
    hp__upstream_pool_figures *f = &u->figures[target];
    *out = (hp__upstream_target_view){
        .health_down = t->health_down,
        .passive_out = !hp__passive_available(&t->passive),
        .has_breaker = u->model.breaker_enabled,
        .breaker =
            u->model.breaker_enabled ? hp__breaker_state_of(&t->breaker) : HP__BREAKER_CLOSED,
        .available = t->available,
        .requests = atomic_load_explicit(&t->requests, memory_order_relaxed),
        .failures = atomic_load_explicit(&t->failures, memory_order_relaxed),
        .open = atomic_load_explicit(&f->open, memory_order_relaxed),
        .idle = atomic_load_explicit(&f->idle, memory_order_relaxed),
        .in_use = atomic_load_explicit(&f->in_use, memory_order_relaxed),
        .waiting = atomic_load_explicit(&f->waiting, memory_order_relaxed),
    };
    unlock(u);
}

/* ---- a worker ------------------------------------------------------------------------------ */

void hp__upstream_picker_init(hp__upstream_picker *p, hp__upstream *u)
{
    hp__balance_target targets[HP__UPSTREAM_MAX_TARGETS];
    for (size_t i = 0; i < u->model.target_count; i++)
        targets[i] = (hp__balance_target){.id = u->model.targets[i].address,
                                          .weight = u->model.targets[i].weight};
    hp__upstream_ref(u);
    /* Cannot fail: the model was checked (1..64 targets, weights in range, addresses set). */
    hp__balance_create(u->model.balance, targets, (uint32_t)u->model.target_count, &p->balance);
    p->u = u;
    p->generation = 0; /* every target starts available: nothing to re-read yet */
}

void hp__upstream_picker_close(hp__upstream_picker *p)
{
    hp__balance_destroy(p->balance);
    hp__upstream_unref(p->u);
    *p = (hp__upstream_picker){0};
}

static bool below(_Atomic uint32_t *count, uint32_t cap)
{
    uint32_t n = atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
    if (!cap || n < cap) return true;
    atomic_fetch_sub_explicit(count, 1, memory_order_relaxed);
    return false;
}

bool hp__upstream_enter(hp__upstream *u)
{
    return below(&u->in_flight, u->model.max_in_flight);
}

void hp__upstream_leave(hp__upstream *u)
{
    atomic_fetch_sub_explicit(&u->in_flight, 1, memory_order_relaxed);
}

bool hp__upstream_wait_begin(hp__upstream *u)
{
    return below(&u->pending, u->model.max_pending);
}

void hp__upstream_wait_end(hp__upstream *u)
{
    atomic_fetch_sub_explicit(&u->pending, 1, memory_order_relaxed);
}

enum { OUT_TRIED = 1u << 7 }; /* a reason of this file's: excluded for the current pick */

static void sync_balance(hp__upstream_picker *p)
{
    uint64_t g = atomic_load_explicit(&p->u->generation, memory_order_acquire);
    if (g == p->generation) return;
    p->generation = g;
    for (uint32_t i = 0; i < p->u->model.target_count; i++) {
        const target_state *t = &p->u->targets[i];
        hp__balance_set_out(p->balance, i, HP__BALANCE_OUT_HEALTH, t->health_down);
        hp__balance_set_out(p->balance, i, HP__BALANCE_OUT_PASSIVE,
                            !hp__passive_available(&t->passive));
        hp__balance_set_out(p->balance, i, HP__BALANCE_OUT_BREAKER,
                            p->u->model.breaker_enabled && !hp__breaker_admits(&t->breaker));
    }
}

/* Tries the balancer's choice: admitted by the breaker, or refused (and excluded). */
static bool admit(hp__upstream *u, uint32_t target, hp__upstream_pick *out)
{
    target_state *t = &u->targets[target];
    if (!t->available) return false;
    hp__breaker_ticket ticket = 0;
    if (u->model.breaker_enabled) {
        ticket = hp__breaker_acquire(&t->breaker);
        if (ticket == HP__BREAKER_REFUSED) return false;
    }
    hp__passive_picked(&t->passive);
    refresh(t, "passive"); /* a trial pick, or the breaker's last trial place taken */
    *out = (hp__upstream_pick){.target = target, .ticket = ticket};
    return true;
}

bool hp__upstream_pick_target(hp__upstream_picker *p, const void *key, size_t key_len,
                              uint64_t tried, hp__upstream_pick *out)
{
    hp__upstream *u = p->u;
    uint32_t n = (uint32_t)u->model.target_count;
    lock(u);
    run_due_locked(u);
    sync_balance(p);
    uint64_t excluded = 0;
    for (uint32_t i = 0; i < n; i++)
        if (tried >> i & 1)
            hp__balance_set_out(p->balance, i, OUT_TRIED, true), excluded |= 1ull << i;
    bool found = false;
    for (uint32_t attempt = 0; attempt < n && !found; attempt++) {
        uint32_t target = hp__balance_pick(p->balance, key, key_len);
        if (target == HP__BALANCE_NONE) break;
        found = admit(u, target, out);
        if (found) break;
        hp__balance_release(p->balance, target);
        hp__balance_set_out(p->balance, target, OUT_TRIED, true);
        excluded |= 1ull << target;
    }
    for (uint32_t i = 0; i < n; i++)
        if (excluded >> i & 1) hp__balance_set_out(p->balance, i, OUT_TRIED, false);
    unlock(u);
    if (found)
        atomic_fetch_add_explicit(&u->targets[out->target].requests, 1, memory_order_relaxed);
    return found;
}

void hp__upstream_report(hp__upstream_picker *p, const hp__upstream_pick *pick,
                         hp__upstream_outcome outcome)
{
    hp__upstream *u = p->u;
    target_state *t = &u->targets[pick->target];
    hp__balance_release(p->balance, pick->target);
    if (outcome == HP__UPSTREAM_FAILURE)
        atomic_fetch_add_explicit(&t->failures, 1, memory_order_relaxed);
    lock(u);
    if (outcome != HP__UPSTREAM_ABANDONED)
        hp__passive_report(&t->passive, outcome == HP__UPSTREAM_FAILURE);
    if (u->model.breaker_enabled) {
        static const hp__breaker_outcome map[] = {
            [HP__UPSTREAM_SUCCESS] = HP__BREAKER_SUCCESS,
            [HP__UPSTREAM_FAILURE] = HP__BREAKER_FAILURE,
            [HP__UPSTREAM_ABANDONED] = HP__BREAKER_ABANDONED,
        };
        hp__breaker_report(&t->breaker, pick->ticket, map[outcome]);
    }
    refresh(t, "passive");
    unlock(u);
}

uint32_t hp__upstream_retry_after_s(hp__upstream *u)
{
    lock(u);
    uint64_t now = hp__sched_now(&u->sched), next = hp__sched_next_due(&u->sched);
    pthread_mutex_unlock(&u->lock);
    uint64_t ms = next != HP__SCHED_NEVER && next > now ? next - now
                  : u->model.health.enabled             ? u->model.health.interval_ms
                                                        : 1000;
    uint64_t s = (ms + 999) / 1000;
    return s < 1 ? 1 : s > 3600 ? 3600 : (uint32_t)s;
}
