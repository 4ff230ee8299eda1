/* See upstreams.h. The name table is an array of entries in the order names were first put
 * (a pool has tens of upstreams, not thousands; a worker searches it only after a change).
 * The control thread is its only writer, so it reads it without the mutex; writes, and the
 * reads of other threads, hold the mutex. An entry owns one reference to its current version
 * and, when the version has checks, one checker and probe target per target. */
#include "upstream/upstreams.h"

#include "common/alloc.h"
#include "core/clock.h"
#include "core/health_checker.h"
#include "hostpool/errors.h"
#include "pool/http_probe.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry entry;

typedef struct target_check {
    hp__health_checker checker;
    hp__http_probe_target probe;
    entry *entry;
    uint32_t target;
} target_check;

struct entry {
    hp__upstreams *registry;
    hp__upstream *upstream; /* the current version: one reference */
    target_check *checks;   /* [target count], or NULL without health checks */
};

struct hp__upstreams {
    uv_loop_t *loop;
    hp__sched *sched;
    hp__events *events;
    uv_mutex_t lock; /* the table, for other threads */
    entry **entries;
    size_t count, capacity;
    _Atomic uint64_t generation;
    uv_async_t attention; /* a version asked for attention (any thread) */
    uv_timer_t due;       /* the earliest next due time of a version's timers */
    bool stopped;
};

static const char *name_of(const entry *e)
{
    return hp__upstream_model_of(e->upstream)->name;
}

/* The index of `name`, or r->count. */
static size_t find(const hp__upstreams *r, const char *name)
{
    size_t i = 0;
    while (i < r->count && strcmp(name_of(r->entries[i]), name) != 0) i++;
    return i;
}

/* ---- attention: transitions published, timers run ------------------------------------------ */

static const char *topic_of(hp__upstream_transition_kind kind)
{
    switch (kind) {
    case HP__UPSTREAM_TARGET_DOWN:
        return "upstream.target_down";
    case HP__UPSTREAM_TARGET_UP:
        return "upstream.target_up";
    case HP__UPSTREAM_BREAKER_OPEN:
        return "breaker.open";
    case HP__UPSTREAM_BREAKER_HALF_OPEN:
        return "breaker.half_open";
    case HP__UPSTREAM_BREAKER_CLOSED:
        return "breaker.closed";
    }
    return "upstream.unknown";
}

static void publish_transitions(hp__upstreams *r, entry *e)
{
    const hp__upstream_model *m = hp__upstream_model_of(e->upstream);
    hp__upstream_transition batch[16];
    size_t n;
    while ((n = hp__upstream_take_transitions(e->upstream, batch, 16)) > 0) {
        for (size_t i = 0; i < n; i++) {
            hp__event ev = {
                .topic = topic_of(batch[i].kind),
                .upstream = m->name,
                .target =
                    batch[i].target < m->target_count ? m->targets[batch[i].target].address : NULL,
                .message = batch[i].why,
                .time_ms = uv_now(r->loop),
            };
            if (r->events) hp__events_publish(r->events, &ev);
        }
    }
}

static void on_due(uv_timer_t *t);

/* Every current version: its transitions published, its due timers run; the timer re-armed
 * at the earliest next due time. */
static void attend(hp__upstreams *r)
{
    if (r->stopped) return;
    uint64_t next = HP__SCHED_NEVER;
    for (size_t i = 0; i < r->count; i++) {
        entry *e = r->entries[i];
        publish_transitions(r, e);
        uint64_t due = hp__upstream_run_due(e->upstream);
        publish_transitions(r, e); /* what the timers changed */
        if (due < next) next = due;
    }
    uv_timer_stop(&r->due);
    if (next == HP__SCHED_NEVER) return;
    hp__clock clock = hp__clock_monotonic();
    uint64_t now = hp__clock_now(&clock);
    uv_timer_start(&r->due, on_due, next > now ? next - now : 0, 0);
}

static void on_due(uv_timer_t *t)
{
    attend(t->data);
}

static void on_attention(uv_async_t *a)
{
    attend(a->data);
}

/* Any thread (upstream.h): only signals the registry's async handle. */
static void attention_cb(hp__upstream *u, void *data)
{
    hp__upstreams *r = data;
    uv_async_send(&r->attention);
}

/* ---- active checks ------------------------------------------------------------------------- */

static void on_health_change(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    target_check *c = data;
    if (to == HP__HEALTH_KO)
        hp__upstream_set_health_down(c->entry->upstream, c->target, true);
    else if (from == HP__HEALTH_KO)
        hp__upstream_set_health_down(c->entry->upstream, c->target, false);
}

static void checks_start(hp__upstreams *r, entry *e)
{
    const hp__upstream_model *m = hp__upstream_model_of(e->upstream);
    if (!m->health.enabled) return;
    hp__health_config config = {
        .interval_ms = m->health.interval_ms,
        .timeout_ms = m->health.timeout_ms,
        .rise = m->health.rise,
        .fall = m->health.fall,
    };
    e->checks = hp__calloc(m->target_count, sizeof *e->checks);
    for (size_t t = 0; t < m->target_count; t++) {
        target_check *c = &e->checks[t];
        c->entry = e;
        c->target = (uint32_t)t;
        hp__http_probe_target_init(&c->probe, r->loop, &m->targets[t].addr, m->targets[t].address,
                                   m->health.path, (int)m->health.expect);
        hp__health_checker_init(&c->checker, r->sched, &config, &hp__http_probe_ops, &c->probe,
                                on_health_change, c);
        /* Spread over one interval, as the pool spreads its servers' checks. */
        hp__health_checker_start(&c->checker, (uint64_t)config.interval_ms * t / m->target_count);
    }
}

static void checks_stop(entry *e)
{
    if (!e->checks) return;
    size_t n = hp__upstream_model_of(e->upstream)->target_count;
    for (size_t t = 0; t < n; t++) {
        hp__health_checker_stop(&e->checks[t].checker); /* cancels the probe in flight */
        hp__http_probe_target_close(&e->checks[t].probe);
    }
    free(e->checks);
    e->checks = NULL;
}

/* ---- entries ------------------------------------------------------------------------------- */

static entry *entry_create(hp__upstreams *r, const hp__upstream_model *model)
{
    entry *e = HP_NEW(entry);
    e->registry = r;
    e->upstream = hp__upstream_create(model);
    hp__upstream_set_attention(e->upstream, attention_cb, r);
    checks_start(r, e);
    return e;
}

/* The version is left to the requests that hold it: no more checks, no more attention. */
static void entry_retire(entry *e)
{
    checks_stop(e);
    hp__upstream_set_attention(e->upstream, NULL, NULL);
    hp__upstream_unref(e->upstream);
    free(e);
}

/* ---- the registry -------------------------------------------------------------------------- */

hp__upstreams *hp__upstreams_create(uv_loop_t *loop, hp__sched *sched, hp__events *events)
{
    hp__upstreams *r = HP_NEW(hp__upstreams);
    r->loop = loop;
    r->sched = sched;
    r->events = events;
    uv_mutex_init(&r->lock);
    uv_async_init(loop, &r->attention, on_attention);
    r->attention.data = r;
    uv_unref((uv_handle_t *)&r->attention); /* it alone keeps no loop alive */
    uv_timer_init(loop, &r->due);
    r->due.data = r;
    uv_unref((uv_handle_t *)&r->due);
    return r;
}

int hp__upstreams_put(hp__upstreams *r, const hp__upstream_model *model)
{
    if (r->stopped) return HP_ESTATE;
    if (!model->name || model->target_count == 0) return HP_EINVAL;
    size_t i = find(r, model->name);
    if (i == r->count && r->count >= HP__UPSTREAMS_MAX) return HP_ELIMIT;
    entry *e = entry_create(r, model);
    entry *old = i < r->count ? r->entries[i] : NULL;
    uv_mutex_lock(&r->lock);
    if (!old && r->count == r->capacity) {
        r->capacity = r->capacity ? 2 * r->capacity : 8;
        r->entries = hp__realloc(r->entries, r->capacity * sizeof *r->entries);
    }
    r->entries[i] = e;
    if (!old) r->count++;
    atomic_fetch_add_explicit(&r->generation, 1, memory_order_relaxed);
    uv_mutex_unlock(&r->lock);
    if (old) entry_retire(old);
    attend(r); /* the new version's timers, if any */
    return 0;
}

int hp__upstreams_remove(hp__upstreams *r, const char *name)
{
    if (r->stopped) return HP_ESTATE;
    size_t i = find(r, name);
    if (i == r->count) return HP_ENOTFOUND;
    entry *old = r->entries[i];
    uv_mutex_lock(&r->lock);
    memmove(&r->entries[i], &r->entries[i + 1], (r->count - i - 1) * sizeof *r->entries);
    r->count--;
    atomic_fetch_add_explicit(&r->generation, 1, memory_order_relaxed);
    uv_mutex_unlock(&r->lock);
    entry_retire(old);
    return 0;
}

hp__upstream *hp__upstreams_acquire(hp__upstreams *r, const char *name)
{
    uv_mutex_lock(&r->lock);
    size_t i = find(r, name);
    hp__upstream *u = i < r->count ? r->entries[i]->upstream : NULL;
    if (u) hp__upstream_ref(u);
    uv_mutex_unlock(&r->lock);
    return u;
}

uint64_t hp__upstreams_generation(const hp__upstreams *r)
{
    return atomic_load_explicit(&r->generation, memory_order_relaxed);
}

void hp__upstreams_stop(hp__upstreams *r)
{
    if (r->stopped) return;
    r->stopped = true;
    for (size_t i = 0; i < r->count; i++) {
        checks_stop(r->entries[i]);
        hp__upstream_set_attention(r->entries[i]->upstream, NULL, NULL);
    }
    uv_close((uv_handle_t *)&r->attention, NULL);
    uv_close((uv_handle_t *)&r->due, NULL);
}

void hp__upstreams_destroy(hp__upstreams *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) entry_retire(r->entries[i]);
    free(r->entries);
    uv_mutex_destroy(&r->lock);
    free(r);
}

/* ---- reading ------------------------------------------------------------------------------- */

size_t hp__upstreams_count(const hp__upstreams *r)
{
    return r->count;
}

hp__upstream *hp__upstreams_get(const hp__upstreams *r, const char *name)
{
    size_t i = find(r, name);
    return i < r->count ? r->entries[i]->upstream : NULL;
}

void hp__upstreams_walk(const hp__upstreams *r, hp__upstreams_walk_cb cb, void *data)
{
    for (size_t i = 0; i < r->count; i++)
        if (!cb(name_of(r->entries[i]), r->entries[i]->upstream, data)) return;
}

bool hp__upstreams_health(const hp__upstreams *r, const char *name, size_t target,
                          hp__health_state *out)
{
    size_t i = find(r, name);
    if (i == r->count || !r->entries[i]->checks) return false;
    if (target >= hp__upstream_model_of(r->entries[i]->upstream)->target_count) return false;
    *out = hp__health_checker_state(&r->entries[i]->checks[target].checker);
    return true;
}
