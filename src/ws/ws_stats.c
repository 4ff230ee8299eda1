/* The per-worker counters of a WebSocket handler (ws_stats.h). */
#include "ws/ws_stats.h"

#include "common/alloc.h"

#include <stdlib.h>

hp__ws_stats_slice *hp__ws_stats_slice_of(hp__ws_stats *stats, unsigned worker)
{
    hp__ws_stats_slice *s = atomic_load_explicit(&stats->slices[worker], memory_order_acquire);
    if (!s) {
        s = HP_NEW(hp__ws_stats_slice);
        atomic_store_explicit(&stats->slices[worker], s, memory_order_release);
    }
    return s;
}

static uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void hp__ws_stats_add(const hp__ws_stats *stats, hp__ws_totals *out)
{
    for (unsigned w = 0; w < HP_MAX_WORKERS; w++) {
        const hp__ws_stats_slice *s = atomic_load_explicit(&stats->slices[w], memory_order_acquire);
        if (!s) continue;
        out->connections += get(&s->connections);
        out->messages_in += get(&s->messages_in);
        out->messages_out += get(&s->messages_out);
        out->bytes_in += get(&s->bytes_in);
        out->bytes_out += get(&s->bytes_out);
        out->dropped += get(&s->dropped);
        for (unsigned c = 0; c < HP__WS_CLOSE_CODES; c++) out->closes[c] += get(&s->closes[c]);
    }
}

void hp__ws_stats_close(hp__ws_stats *stats)
{
    for (unsigned w = 0; w < HP_MAX_WORKERS; w++) free(atomic_load(&stats->slices[w]));
}

unsigned hp__ws_close_slot(uint16_t code)
{
    return code >= 1000 && code <= 1015 ? code - 1000u : HP__WS_CLOSE_CODES - 1;
}

const char *hp__ws_close_slot_label(unsigned slot)
{
    static const char *const labels[HP__WS_CLOSE_CODES] = {
        "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008",
        "1009", "1010", "1011", "1012", "1013", "1014", "1015", "other"};
    return labels[slot];
}
