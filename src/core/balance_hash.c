/* Consistent hashing on a ring of virtual nodes (the ketama scheme).
 *
 * Each target puts weight × HP__BALANCE_HASH_NODES points on a ring of 64-bit values: point r
 * (from 0) of the target with id ID is hp__hash64_mix(hp__hash64(ID) + (r + 1) × φ), φ the
 * 64-bit golden ratio 0x9e3779b97f4a7c15 (splitmix64's step). The points depend only on the
 * target's id (its address), not on its index or the other targets, so every worker and every
 * process puts a target in the same places, and adding or removing a target moves only the
 * keys on its own arcs. A key goes to the first point at or after hp__hash64(key), wrapping
 * past the largest to the smallest. Equal points (probability ~n²·2⁻⁶⁴) are ordered by
 * target index, so the result is still deterministic.
 *
 * A target that goes out: its keys go to the next point clockwise of a target that is in,
 * and nothing else moves; when it comes back they return. To keep a pick one binary search
 * (no walk over points of targets that are out), two rings are kept: `all`, sorted once at
 * creation, and `in`, the points of the targets in, in the same order, refiltered from `all`
 * (O(points)) when a target goes out or comes back. Both are allocated at creation.
 *
 * Cost of a pick: the key's hash (one multiply per byte, then fmix64) and a binary search of
 * log2(points) steps: 11 for 32 targets of weight 1. Memory: 16 bytes per point per ring,
 * 2 KiB per target of weight 1 (64 points). */
#include "core/balance_kind.h"

#include "common/alloc.h"
#include "core/hash64.h"

#include <stdlib.h>
#include <string.h>

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

typedef struct ring_point {
    uint64_t at;
    uint32_t target;
} ring_point;

typedef struct ring {
    hp__balance base;
    ring_point *all, *in;
    uint32_t nall, nin;
} ring;

static int point_order(const void *pa, const void *pb)
{
    const ring_point *a = pa, *b = pb;
    if (a->at != b->at) return a->at < b->at ? -1 : 1;
    return a->target < b->target ? -1 : a->target > b->target;
}

static void refilter(ring *r)
{
    r->nin = 0;
    for (uint32_t i = 0; i < r->nall; i++)
        if (!r->base.slots[r->all[i].target].out) r->in[r->nin++] = r->all[i];
}

static uint32_t hash_pick(hp__balance *b, const void *key, size_t key_len)
{
    ring *r = (ring *)b;
    uint64_t h = hp__hash64(key, key_len);
    uint32_t lo = 0, hi = r->nin; /* the first point >= h is in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->in[mid].at < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r->in[lo == r->nin ? 0 : lo].target;
}

static void hash_in_changed(hp__balance *b, uint32_t target, bool in)
{
    refilter((ring *)b);
}

static void hash_destroy(hp__balance *b)
{
    ring *r = (ring *)b;
    free(r->all);
    free(r->in);
    hp__balance_close(b);
    free(r);
}

static const hp__balance_ops hash_ops = {
    .pick = hash_pick,
    .in_changed = hash_in_changed,
    .destroy = hash_destroy,
};

hp__balance *hp__balance_hash_create(const hp__balance_target *targets, uint32_t n)
{
    ring *r = HP_NEW(ring);
    hp__balance_init(&r->base, HP__BALANCE_HASH, &hash_ops, targets, n);
    for (uint32_t i = 0; i < n; i++) r->nall += targets[i].weight * HP__BALANCE_HASH_NODES;
    r->all = hp__calloc(r->nall, sizeof *r->all);
    r->in = hp__calloc(r->nall, sizeof *r->in);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t base = hp__hash64(targets[i].id, strlen(targets[i].id));
        uint32_t points = targets[i].weight * HP__BALANCE_HASH_NODES;
        for (uint32_t p = 0; p < points; p++)
            r->all[k++] = (ring_point){hp__hash64_mix(base + (p + 1) * GOLDEN), i};
    }
    qsort(r->all, r->nall, sizeof *r->all, point_order);
    refilter(r);
    return &r->base;
}
