/* Per-worker state shared by the HTTP sessions of one worker loop.
 *
 * Owned by one worker thread and touched only by it: no locks, no atomics. Its counters are plain
 * per-worker integers for tests and diagnostics (the session tests read connections_open); the
 * metrics' counters, which the control thread reads, are per server and per listener
 * (stats.h). Freelists keep request buffers and exchanges for reuse so the
 * request path does not allocate in the steady state. */
#ifndef HP_HTTP_CONTEXT_H
#define HP_HTTP_CONTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HP__REQUEST_ID_LEN 20
#define HP__BUF_CLASSES 10 /* 4 KiB << 0..9: 4 KiB to 2 MiB */
#define HP__FREELIST_MAX 128

typedef struct hp__http_stats {
    uint64_t connections_accepted;
    uint64_t connections_open;
    uint64_t requests;
    uint64_t responses_by_class[6]; /* [1] = 1xx ... [5] = 5xx; [0] unused */
    uint64_t bytes_in;
    uint64_t bytes_out;
} hp__http_stats;

typedef struct hp__free_block {
    struct hp__free_block *next;
} hp__free_block;

struct hp_server;

typedef struct hp__http_context {
    unsigned worker; /* index of the worker loop */
    /* Set by the worker while one of its servers drains: told when an exchange ends (with the
     * server it ran on, NULL if it was answered before routing). NULL otherwise. */
    void (*exchange_ended)(struct hp__http_context *ctx, const struct hp_server *server);
    uint64_t now_ms; /* the loop's clock, updated by the transport */
    hp__http_stats stats;
    /* Cached "Date: ...\r\n" line, refreshed when the wall-clock second changes. */
    time_t date_second;
    char date_line[48];
    size_t date_line_len;
    /* The last generated X-Request-Id: process prefix, worker, counter (see context.c). */
    char request_id[HP__REQUEST_ID_LEN + 1];
    /* Freelists: buffers by power-of-two size class, and exchanges. */
    hp__free_block *buffers[HP__BUF_CLASSES];
    unsigned buffer_count[HP__BUF_CLASSES];
    hp__free_block *exchanges;
    unsigned exchange_count;
} hp__http_context;

void hp__http_context_init(hp__http_context *ctx, unsigned worker);
void hp__http_context_close(hp__http_context *ctx);
/* Frees the recycled exchanges and what they hold (session.c knows their shape). */
void hp__exchange_freelist_clear(hp__http_context *ctx);

/* The "Date: <IMF-fixdate>\r\n" line for now. Borrowed; valid until the next call. */
const char *hp__http_date_line(hp__http_context *ctx, size_t *len);

/* A buffer of at least `size` bytes; *capacity receives its real size. Pair with put. */
char *hp__http_buffer_get(hp__http_context *ctx, size_t size, size_t *capacity);
void hp__http_buffer_put(hp__http_context *ctx, char *buf, size_t capacity);

/* Writes a generated request id (HP__REQUEST_ID_LEN lowercase hex chars) into `out`. */
void hp__http_request_id(hp__http_context *ctx, char out[HP__REQUEST_ID_LEN]);

#endif
