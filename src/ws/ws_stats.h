/* The counters of one WebSocket handler (the metrics hostpool_websocket_*, docs/METRICS.md):
 * one slice per worker, written by that worker alone with the single-writer update of
 * http/stats.h (no lock, no read-modify-write), summed by the control thread when read.
 *
 * A slice is allocated by its worker when the handler starts there (worker_start) and
 * published with a release store; slices are freed with the handler. */
#ifndef HP_WS_WS_STATS_H
#define HP_WS_WS_STATS_H

#include "hostpool/request.h"
#include "http/stats.h"

#include <stdint.h>

/* Close codes counted one by one: 1000 to 1015; any other (an application's 3000-4999) is
 * counted as "other". */
#define HP__WS_CLOSE_CODES 17

typedef struct hp__ws_stats_slice {
    _Atomic uint64_t connections; /* open now */
    _Atomic uint64_t messages_in, messages_out;
    _Atomic uint64_t bytes_in, bytes_out; /* frame bytes, headers included */
    _Atomic uint64_t dropped;             /* messages skipped by on_backpressure: drop */
    _Atomic uint64_t closes[HP__WS_CLOSE_CODES];
} hp__ws_stats_slice;

typedef struct hp__ws_stats {
    hp__ws_stats_slice *_Atomic slices[HP_MAX_WORKERS];
} hp__ws_stats;

typedef struct hp__ws_totals {
    uint64_t connections, messages_in, messages_out, bytes_in, bytes_out, dropped;
    uint64_t closes[HP__WS_CLOSE_CODES];
} hp__ws_totals;

/* The worker's slice (allocated on first call, on that worker). */
hp__ws_stats_slice *hp__ws_stats_slice_of(hp__ws_stats *stats, unsigned worker);
/* Adds every worker's counters into `out` (any thread). */
void hp__ws_stats_add(const hp__ws_stats *stats, hp__ws_totals *out);
/* Frees the slices (once no worker uses them). */
void hp__ws_stats_close(hp__ws_stats *stats);

/* The slot of `code` in closes[], and the label of a slot ("1000" ... "1015", "other"). */
unsigned hp__ws_close_slot(uint16_t code);
const char *hp__ws_close_slot_label(unsigned slot);

#endif
