/* The counters the request path keeps for metrics: per server, and per listener.
 *
 * Single writer, relaxed atomics. A worker writes only its own slice of a server's counters
 * and its own listeners' connection gauges, each update a relaxed atomic load then a relaxed
 * atomic store (hp__counter_add): on x86-64 and arm64 these compile to plain loads and stores,
 * with no lock prefix and no fence, so the request path pays what plain integers cost. The
 * control thread reads them whenever it likes (a scrape) with relaxed loads and sums the
 * workers' slices. No read-modify-write atomic and no lock is taken on the request path; being
 * atomic, the counters are free of data races (and a torn 64-bit read cannot happen). A scrape
 * may see one counter of a request updated and the next not yet (a histogram's count one
 * ahead of requests_total): the gap is at most the requests in flight, as in any exporter.
 *
 * Memory: a server's block holds one slice pointer per worker (the engine sizes it when the
 * server first starts). A worker allocates its slice on its first request for the server and
 * publishes it with a release store, so a server that serves nothing costs its pointers only.
 * Status codes are kept in a chain of small chunks, grown by the writer when a new code
 * appears: an entry is written before the count that publishes it (release store; readers
 * load it with acquire), and chunks are freed only with the block, so a reader never sees a
 * half-written entry nor a freed chunk.
 *
 * Lifetime: the versions of one server share its block (a replace hands the old version's
 * block to the new one, so the counts of a name go on across replace and restart). `refs` is
 * touched only on the control thread (create, share, release); the last release frees the
 * block, which happens when the last version is destroyed, after no worker uses it any more.
 *
 * Connection gauges (hp__conn_gauges) belong to one listener of one worker and follow the same
 * single-writer rule; they live as long as the listener. */
#ifndef HP_HTTP_STATS_H
#define HP_HTTP_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the request duration histogram, in seconds; a last bucket (+Inf) follows. */
#define HP__DURATION_BUCKETS 14
extern const double hp__duration_bounds[HP__DURATION_BUCKETS];

#define HP__CODE_CHUNK 4

typedef struct hp__code_count {
    uint32_t code; /* written once, before the chunk's `used` publishes it */
    _Atomic uint64_t count;
} hp__code_count;

typedef struct hp__code_chunk {
    _Atomic uint32_t used; /* entries published */
    struct hp__code_chunk *_Atomic next;
    hp__code_count entries[HP__CODE_CHUNK];
} hp__code_chunk;

/* Why a guard refused a request (docs/GUARDS.md), the `reason` label of
 * hostpool_refused_total. */
typedef enum {
    HP__REFUSED_RATE_LIMITED,       /* a rate limit: 429, or 503 when its table is full */
    HP__REFUSED_IN_FLIGHT,          /* max_in_flight: 503 */
    HP__REFUSED_CLIENT_CONNECTIONS, /* max_connections_per_client: 503, then closed */
    HP__REFUSED_REASONS,
} hp__refused_reason;

/* The label of each reason. */
extern const char *const hp__refused_reason_names[HP__REFUSED_REASONS];

/* One worker's counters for one server. */
typedef struct hp__stats_slice {
    _Atomic uint64_t in_flight; /* routed here, not ended */
    _Atomic uint64_t aborted;   /* ended without a complete response */
    _Atomic uint64_t refused[HP__REFUSED_REASONS];
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic uint64_t duration_ns;                       /* the sum over answered requests */
    _Atomic uint64_t buckets[HP__DURATION_BUCKETS + 1]; /* not cumulative; last: +Inf */
    hp__code_chunk codes;                               /* answered requests by status code */
} hp__stats_slice;

typedef struct hp__server_stats {
    unsigned refs; /* control thread only */
    unsigned workers;
    /* The requests a server with max_in_flight admitted and that have not ended, across the
     * workers: the one counter written by every worker (atomic add and sub), touched only by
     * the requests of a server with a cap. Shared by the versions, as the slices are. */
    _Atomic uint64_t answering;
    hp__stats_slice *_Atomic slices[]; /* one per worker, NULL until its first request */
} hp__server_stats;

typedef struct hp__conn_gauges {
    _Atomic uint64_t open;
    _Atomic uint64_t idle; /* open, with no request in progress */
} hp__conn_gauges;

/* The single-writer update: only the thread that owns `c` may call it. */
static inline void hp__counter_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

static inline void hp__counter_sub(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - v,
                          memory_order_relaxed);
}

/* ---- control thread ---- */

/* A block for `workers` workers with one reference. */
hp__server_stats *hp__server_stats_create(unsigned workers);
/* Another reference to `stats` (a new version of the server); returns it. */
hp__server_stats *hp__server_stats_share(hp__server_stats *stats);
/* Drops one reference; the last frees the block and every slice. NULL is a no-op. */
void hp__server_stats_release(hp__server_stats *stats);

typedef struct hp__code_total {
    int code;
    uint64_t count;
} hp__code_total;

/* A server's counters summed over its workers. */
typedef struct hp__stats_totals {
    uint64_t in_flight, aborted, bytes_in, bytes_out, duration_ns;
    uint64_t refused[HP__REFUSED_REASONS];
    uint64_t buckets[HP__DURATION_BUCKETS + 1]; /* not cumulative */
    hp__code_total *codes;                      /* sorted by code */
    size_t code_count;
    uint64_t responses; /* the sum over codes (= the histogram's count) */
    uint64_t errors;    /* 5xx responses plus aborted requests */
} hp__stats_totals;

/* Sums `stats` (NULL: a server that never ran, all zero) into `out`; free with _close. */
void hp__stats_totals_read(const hp__server_stats *stats, hp__stats_totals *out);
void hp__stats_totals_close(hp__stats_totals *totals);

/* ---- the worker that owns the slice ---- */

/* The worker's slice, allocated on first use. */
hp__stats_slice *hp__server_stats_slice(hp__server_stats *stats, unsigned worker);

/* A request ended: answered with `status` (0: no complete response) after `duration_ns`. */
void hp__stats_slice_record(hp__stats_slice *slice, int status, uint64_t duration_ns,
                            uint64_t bytes_in, uint64_t bytes_out);

#endif
