/* Per-worker state shared by the HTTP sessions of one worker loop.
 *
 * Owned by one worker thread and touched only by it: no locks, no atomics. connections_open is
 * a plain per-worker count for tests (they check it returns to 0); the metrics' counters, which
 * the control thread reads, are per server and per listener (stats.h). Freelists keep request
 * buffers and exchanges for reuse so the request path does not allocate in the steady state.
 *
 * End observers: whatever must hear of every exchange that ends (the metrics' counters, the
 * access log; the journal's and the hooks' when there are any) is one entry of a short array,
 * walked in order when an exchange ends, with the one clock reading the end already made: no
 * allocation, no monotonic clock read of its own (the journal's reads the wall clock, for its
 * entries' Unix time), no single slot that the next observer would have to replace.
 * exchange_ended, the worker's drain bookkeeping, is told after all of them, because it may free
 * the server. */
#ifndef HP_HTTP_CONTEXT_H
#define HP_HTTP_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HP__REQUEST_ID_LEN 20
#define HP__BUF_CLASSES 10 /* 4 KiB << 0..9: 4 KiB to 2 MiB */
#define HP__FREELIST_MAX 128

typedef struct hp__free_block {
    struct hp__free_block *next;
} hp__free_block;

struct hp_server;
struct hp__exchange;

/* Told that `x` ended: answered (its status and bytes are final; `end_ns` is the
 * CLOCK_MONOTONIC time of its end) or not (the connection was lost first; `end_ns` is 0).
 * Called on the worker's thread; `x` is borrowed for the call. */
typedef void (*hp__exchange_end_cb)(void *data, const struct hp__exchange *x, bool answered,
                                    uint64_t end_ns);

typedef struct hp__exchange_observer {
    hp__exchange_end_cb ended;
    void *data;
} hp__exchange_observer;

#define HP__OBSERVERS_MAX 8

/* The wall clock's second as the access log's combined and JSON lines write it (access_log.c),
 * formatted once a second. */
typedef struct hp__access_log_time {
    time_t second;
    char local[32]; /* "06/Dec/2026:06:42:10 +0000" */
    char utc[24];   /* "2026-12-06T06:42:10" */
} hp__access_log_time;

struct hp__log_writer;

typedef struct hp__http_context {
    unsigned worker; /* index of the worker loop */
    /* Set by the worker while one of its servers drains: told when an exchange ends (with the
     * server it ran on, NULL if it was answered before routing). NULL otherwise. */
    void (*exchange_ended)(struct hp__http_context *ctx, const struct hp_server *server);
    hp__exchange_observer observers[HP__OBSERVERS_MAX]; /* the first observer_count are set */
    unsigned observer_count;
    const struct hp_hooks *hooks; /* the engine's (hooks.h), or NULL */
    bool journal_observed;        /* the journal's observer is one (server_journal.h) */
    /* The engine's count of open connections by client address (core/client_count.h),
     * shared by its workers, for limits.max_connections_per_client. */
    struct hp__client_count *clients;
    uint64_t connections_open;
    /* The worker's buffered writes to log files (io/log_writer.h), where access log lines to a
     * file go; NULL without a worker (a session driven by a test). */
    struct hp__log_writer *log_writer;
    hp__access_log_time log_time;
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

/* Sets up `ctx` with the engine's observers: the metrics' counters, then the access log. */
void hp__http_context_init(hp__http_context *ctx, unsigned worker);
void hp__http_context_close(hp__http_context *ctx);
/* Adds an observer of every exchange's end, after those already there (HP__OBSERVERS_MAX in
 * all: a program error beyond, which aborts). `data` is borrowed until the context closes. */
void hp__http_context_observe(hp__http_context *ctx, hp__exchange_end_cb ended, void *data);
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
