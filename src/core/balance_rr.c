/* Smooth weighted round robin, nginx's algorithm, with the sequence computed ahead.
 *
 * nginx picks by adding each target's weight to its `current`, taking the largest (the first
 * of equals) and subtracting the total weight from it. After T picks (T the total weight)
 * every `current` is back to 0, so the sequence repeats with period T, and each target
 * appears weight times in it, spread out (5,1,1 → a a b a c a a).
 *
 * Rather than run that loop over all n targets on every request, the period is computed
 * once into `schedule` (T entries, the targets that are in) and a pick reads the next entry:
 * O(1). When a target goes out or comes back the schedule is stale: it is rebuilt at the
 * next pick, O(T·n), which is a health transition's cost, not a request's. A rebuild starts
 * the period over (nginx keeps its `current` values instead; both spread the same weights).
 *
 * The schedule is allocated at creation for the total weight of all targets (at most
 * HP__BALANCE_MAX_TARGETS × HP__BALANCE_MAX_WEIGHT entries), so a rebuild allocates nothing;
 * so is `current`, the scratch of the rebuild. */
#include "core/balance_kind.h"

#include "common/alloc.h"

#include <stdlib.h>

typedef struct rr {
    hp__balance base;
    uint32_t *schedule; /* the period over the targets in, `len` entries */
    uint32_t len, next;
    bool stale;
    int64_t *current; /* the rebuild's running weights, one per target */
} rr;

static void rebuild(rr *r)
{
    hp__balance *b = &r->base;
    int64_t total = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        r->current[i] = 0;
        if (!b->slots[i].out) total += b->slots[i].weight;
    }
    for (int64_t k = 0; k < total; k++) {
        uint32_t best = HP__BALANCE_NONE;
        for (uint32_t i = 0; i < b->n; i++) {
            if (b->slots[i].out) continue;
            r->current[i] += b->slots[i].weight;
            if (best == HP__BALANCE_NONE || r->current[i] > r->current[best]) best = i;
        }
        r->current[best] -= total;
        r->schedule[k] = best;
    }
    r->len = (uint32_t)total;
    r->next = 0;
    r->stale = false;
}

static uint32_t rr_pick(hp__balance *b, const void *key, size_t key_len)
{
    rr *r = (rr *)b;
    if (r->stale) rebuild(r);
    uint32_t target = r->schedule[r->next];
    if (++r->next == r->len) r->next = 0;
    return target;
}

static void rr_in_changed(hp__balance *b, uint32_t target, bool in)
{
    ((rr *)b)->stale = true;
}

static void rr_destroy(hp__balance *b)
{
    rr *r = (rr *)b;
    free(r->schedule);
    free(r->current);
    hp__balance_close(b);
    free(r);
}

static const hp__balance_ops rr_ops = {
    .pick = rr_pick,
    .in_changed = rr_in_changed,
    .destroy = rr_destroy,
};

hp__balance *hp__balance_rr_create(const hp__balance_target *targets, uint32_t n)
{
    rr *r = HP_NEW(rr);
    hp__balance_init(&r->base, HP__BALANCE_ROUND_ROBIN, &rr_ops, targets, n);
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += targets[i].weight;
    r->schedule = hp__calloc(total, sizeof *r->schedule);
    r->current = hp__calloc(n, sizeof *r->current);
    rebuild(r);
    return &r->base;
}
