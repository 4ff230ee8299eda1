/* Per-server request counters (design, threads and invariants in stats.h). */
#include "http/stats.h"

#include "common/alloc.h"

#include <stdlib.h>

const char *const hp__refused_reason_names[HP__REFUSED_REASONS] = {
    [HP__REFUSED_RATE_LIMITED] = "rate_limited",
    [HP__REFUSED_IN_FLIGHT] = "in_flight",
    [HP__REFUSED_CLIENT_CONNECTIONS] = "client_connections",
};

const double hp__duration_bounds[HP__DURATION_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* The same bounds in nanoseconds, for the request path. */
static const uint64_t bounds_ns[HP__DURATION_BUCKETS] = {
    500000,    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

hp__server_stats *hp__server_stats_create(unsigned workers)
{
    hp__server_stats *s = hp__calloc(1, sizeof *s + workers * sizeof s->slices[0]);
    s->refs = 1;
    s->workers = workers;
    return s;
}

hp__server_stats *hp__server_stats_share(hp__server_stats *stats)
{
    stats->refs++;
    return stats;
}

static void slice_free(hp__stats_slice *slice)
{
    hp__code_chunk *c = atomic_load_explicit(&slice->codes.next, memory_order_relaxed);
    while (c) {
        hp__code_chunk *next = atomic_load_explicit(&c->next, memory_order_relaxed);
        free(c);
        c = next;
    }
    free(slice);
}

void hp__server_stats_release(hp__server_stats *stats)
{
    if (!stats || --stats->refs > 0) return;
    for (unsigned w = 0; w < stats->workers; w++) {
        hp__stats_slice *slice = atomic_load_explicit(&stats->slices[w], memory_order_acquire);
        if (slice) slice_free(slice);
    }
    free(stats);
}

/* ---- the writer ---- */

hp__stats_slice *hp__server_stats_slice(hp__server_stats *stats, unsigned worker)
{
    hp__stats_slice *slice = atomic_load_explicit(&stats->slices[worker], memory_order_relaxed);
    if (slice) return slice;
    slice = HP_NEW(hp__stats_slice);
    atomic_store_explicit(&stats->slices[worker], slice, memory_order_release);
    return slice;
}

/* The count of `code`, found in the chain or appended to it. */
static _Atomic uint64_t *code_counter(hp__code_chunk *chunk, int code)
{
    for (;;) {
        uint32_t used = atomic_load_explicit(&chunk->used, memory_order_relaxed);
        for (uint32_t i = 0; i < used; i++)
            if (chunk->entries[i].code == (uint32_t)code) return &chunk->entries[i].count;
        if (used < HP__CODE_CHUNK) {
            chunk->entries[used].code = (uint32_t)code;
            atomic_store_explicit(&chunk->used, used + 1, memory_order_release);
            return &chunk->entries[used].count;
        }
        hp__code_chunk *next = atomic_load_explicit(&chunk->next, memory_order_relaxed);
        if (!next) {
            next = HP_NEW(hp__code_chunk);
            atomic_store_explicit(&chunk->next, next, memory_order_release);
        }
        chunk = next;
    }
}

static unsigned bucket_of(uint64_t duration_ns)
{
    unsigned b = 0;
    while (b < HP__DURATION_BUCKETS && duration_ns > bounds_ns[b]) b++;
    return b;
}

void hp__stats_slice_record(hp__stats_slice *slice, int status, uint64_t duration_ns,
                            uint64_t bytes_in, uint64_t bytes_out)
{
    hp__counter_add(&slice->bytes_in, bytes_in);
    hp__counter_add(&slice->bytes_out, bytes_out);
    if (status == 0) {
        hp__counter_add(&slice->aborted, 1);
        return;
    }
    hp__counter_add(code_counter(&slice->codes, status), 1);
    hp__counter_add(&slice->buckets[bucket_of(duration_ns)], 1);
    hp__counter_add(&slice->duration_ns, duration_ns);
}

/* ---- the reader ---- */

static uint64_t load(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

static void add_code(hp__stats_totals *t, int code, uint64_t count)
{
    size_t i = 0;
    while (i < t->code_count && t->codes[i].code < code) i++;
    if (i < t->code_count && t->codes[i].code == code) {
        t->codes[i].count += count;
        return;
    }
    t->codes = hp__realloc(t->codes, (t->code_count + 1) * sizeof *t->codes);
    for (size_t k = t->code_count; k > i; k--) t->codes[k] = t->codes[k - 1];
    t->codes[i] = (hp__code_total){code, count};
    t->code_count++;
}

static void add_codes(hp__stats_totals *t, const hp__code_chunk *chunk)
{
    while (chunk) {
        uint32_t used =
            atomic_load_explicit((_Atomic uint32_t *)&chunk->used, memory_order_acquire);
        for (uint32_t i = 0; i < used; i++)
            add_code(t, (int)chunk->entries[i].code, load(&chunk->entries[i].count));
        chunk =
            atomic_load_explicit((hp__code_chunk * _Atomic *)&chunk->next, memory_order_acquire);
    }
}

static void add_slice(hp__stats_totals *t, const hp__stats_slice *s)
{
    t->in_flight += load(&s->in_flight);
    t->aborted += load(&s->aborted);
    for (unsigned r = 0; r < HP__REFUSED_REASONS; r++) t->refused[r] += load(&s->refused[r]);
    t->bytes_in += load(&s->bytes_in);
    t->bytes_out += load(&s->bytes_out);
    t->duration_ns += load(&s->duration_ns);
    for (unsigned b = 0; b <= HP__DURATION_BUCKETS; b++) t->buckets[b] += load(&s->buckets[b]);
    add_codes(t, &s->codes);
}

void hp__stats_totals_read(const hp__server_stats *stats, hp__stats_totals *out)
{
    *out = (hp__stats_totals){0};
    for (unsigned w = 0; stats && w < stats->workers; w++) {
        const hp__stats_slice *slice = atomic_load_explicit(
            (hp__stats_slice * _Atomic *)&stats->slices[w], memory_order_acquire);
        if (slice) add_slice(out, slice);
    }
    for (size_t i = 0; i < out->code_count; i++) {
        out->responses += out->codes[i].count;
        if (out->codes[i].code >= 500 && out->codes[i].code <= 599)
            out->errors += out->codes[i].count;
    }
    out->errors += out->aborted;
}

void hp__stats_totals_close(hp__stats_totals *totals)
{
    free(totals->codes);
    *totals = (hp__stats_totals){0};
}
