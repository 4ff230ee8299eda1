/* Least connections with weights: the target in with the fewest requests in flight per unit
 * of weight (a·wb < b·wa, compared exactly in integers).
 *
 * Ties (idle targets, most of the time under light load) go to the target whose weighted
 * turn comes first: stride scheduling. Each target has a `pass`; a pick adds
 * HP__STRIDE / weight to it, and the smallest pass wins a tie (at equal passes, the target
 * picked least recently, then the lower index). So weights 3,1 at equal load go
 * a b a a a b a a a b ..., three turns of a for each of b, and equal weights rotate: load
 * spreads instead of always landing on target 0. A target
 * that was not taking turns (out, or too loaded to win a tie) catches up when it comes back
 * or a request of its ends: its pass is raised to the pass of the last pick, so it does not
 * take a burst of turns it "saved" meanwhile.
 *
 * Passes only grow, and are compared by their difference as a signed number, so they may
 * wrap: the order is right while two targets' passes are less than 2^63 apart, i.e. unless
 * one target is held out of its turns for 2^43 picks of the others (months at a million
 * requests a second), and catching up brings it back within range.
 *
 * The targets in are a binary min-heap on (in_flight/weight, pass, last pick, index) with each
 * target's heap position kept, so every operation is O(log n): a pick takes the top and sifts it
 * down (its load and pass grew), a release sifts its target up (its load fell), a target going out
 * is removed, one coming back inserted. Sized at creation: nothing is allocated later. */
#include "core/balance_kind.h"

#include "common/alloc.h"

#include <stdlib.h>

/* A multiple of every weight 1..HP__BALANCE_MAX_WEIGHT would make turns exact; 2^20 is
 * close enough: a stride differs from the exact ratio by under one part in 10,000. */
#define HP__STRIDE (UINT64_C(1) << 20)
#define NOT_IN_HEAP UINT32_MAX

typedef struct lc {
    hp__balance base;
    uint32_t *heap; /* targets in, min-heap */
    uint32_t nheap;
    uint32_t *pos; /* heap index per target, NOT_IN_HEAP when out */
    uint64_t *pass;
    uint64_t *picked_at; /* the number of the target's last pick, 0 for none */
    uint64_t picks;
    uint64_t last_pass; /* the pass of the last pick, before its stride */
} lc;

static bool before(const lc *l, uint32_t a, uint32_t b)
{
    const hp__balance_slot *sa = &l->base.slots[a], *sb = &l->base.slots[b];
    uint64_t load_a = (uint64_t)sa->in_flight * sb->weight;
    uint64_t load_b = (uint64_t)sb->in_flight * sa->weight;
    if (load_a != load_b) return load_a < load_b;
    int64_t turn = (int64_t)(l->pass[a] - l->pass[b]);
    if (turn != 0) return turn < 0;
    if (l->picked_at[a] != l->picked_at[b]) return l->picked_at[a] < l->picked_at[b];
    return a < b;
}

static void place(lc *l, uint32_t i, uint32_t target)
{
    l->heap[i] = target;
    l->pos[target] = i;
}

static void sift_up(lc *l, uint32_t i)
{
    uint32_t target = l->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(l, target, l->heap[parent])) break;
        place(l, i, l->heap[parent]);
        i = parent;
    }
    place(l, i, target);
}

static void sift_down(lc *l, uint32_t i)
{
    uint32_t target = l->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= l->nheap) break;
        if (child + 1 < l->nheap && before(l, l->heap[child + 1], l->heap[child])) child++;
        if (!before(l, l->heap[child], target)) break;
        place(l, i, l->heap[child]);
        i = child;
    }
    place(l, i, target);
}

static void heap_insert(lc *l, uint32_t target)
{
    place(l, l->nheap++, target);
    sift_up(l, l->nheap - 1);
}

static void heap_remove(lc *l, uint32_t target)
{
    uint32_t i = l->pos[target];
    l->pos[target] = NOT_IN_HEAP;
    uint32_t last = l->heap[--l->nheap];
    if (last == target) return;
    place(l, i, last);
    sift_up(l, i);
    sift_down(l, l->pos[last]);
}

/* Raises a target that was not taking turns to the turn of the last pick. */
static void catch_up(lc *l, uint32_t target)
{
    if ((int64_t)(l->pass[target] - l->last_pass) < 0) l->pass[target] = l->last_pass;
}

static uint32_t lc_pick(hp__balance *b, const void *key, size_t key_len)
{
    return ((lc *)b)->heap[0];
}

static void lc_picked(hp__balance *b, uint32_t target)
{
    lc *l = (lc *)b;
    l->last_pass = l->pass[target];
    l->pass[target] += HP__STRIDE / b->slots[target].weight;
    l->picked_at[target] = ++l->picks;
    sift_down(l, l->pos[target]);
}

static void lc_released(hp__balance *b, uint32_t target)
{
    lc *l = (lc *)b;
    if (l->pos[target] == NOT_IN_HEAP) return;
    catch_up(l, target); /* its load fell: its key is smaller whatever its pass */
    sift_up(l, l->pos[target]);
}

static void lc_in_changed(hp__balance *b, uint32_t target, bool in)
{
    lc *l = (lc *)b;
    if (!in) {
        heap_remove(l, target);
        return;
    }
    catch_up(l, target);
    heap_insert(l, target);
}

static void lc_destroy(hp__balance *b)
{
    lc *l = (lc *)b;
    free(l->heap);
    free(l->pos);
    free(l->pass);
    free(l->picked_at);
    hp__balance_close(b);
    free(l);
}

static const hp__balance_ops lc_ops = {
    .pick = lc_pick,
    .picked = lc_picked,
    .released = lc_released,
    .in_changed = lc_in_changed,
    .destroy = lc_destroy,
};

hp__balance *hp__balance_lc_create(const hp__balance_target *targets, uint32_t n)
{
    lc *l = HP_NEW(lc);
    hp__balance_init(&l->base, HP__BALANCE_LEAST_CONN, &lc_ops, targets, n);
    l->heap = hp__calloc(n, sizeof *l->heap);
    l->pos = hp__calloc(n, sizeof *l->pos);
    l->pass = hp__calloc(n, sizeof *l->pass);
    l->picked_at = hp__calloc(n, sizeof *l->picked_at);
    for (uint32_t i = 0; i < n; i++) heap_insert(l, i);
    return &l->base;
}
