/* The request journal: a bounded, in-memory record of a server's last requests, for
 * `GET /servers/{name}/journal` and `hostpool journal NAME`.
 *
 * An entry. Its sequence number (seq: 1, 2, 3, ... for the whole journal, never reused, also
 * across overflow), the time (Unix ms), the duration (us), the bytes in and out, the status,
 * and seven texts copied into it, each cut at its bound:
 *   client 64 B, method 16 B, path 512 B, query 512 B, request_id 64 B, upstream 64 B,
 *   error 64 B.
 * A text is a length and bytes, never a C string; its bytes are kept as given (a cut may fall
 * inside a UTF-8 sequence); whoever writes an entry out (JSON, SSE, the CLI) escapes it. The
 * texts are packed one after the other, so a write copies only the bytes used (a typical
 * request: under 200 B), but every entry takes its full room: HP__JOURNAL_ENTRY_BYTES = 1,352
 * bytes (56 of numbers and lengths, 1,296 of text).
 *
 * Capacity: for the whole server, split between the workers. Each worker has its own ring of
 * capacity / workers entries (the first capacity % workers workers one more), and at least
 * one: the journal keeps at most max(capacity, workers) entries. With one worker, "capacity
 * 3" keeps exactly the last 3 requests. With several, each worker keeps the newest requests
 * it answered within its share: with 2 workers, capacity 3 keeps worker 0's last 2 and worker
 * 1's last 1, so an entry can be dropped while the journal holds fewer than capacity (its
 * worker's share was full), and the oldest entry kept can be older than the last capacity
 * requests (the kernel spreads connections, so the shares fill alike under real traffic).
 * Why split rather than one shared ring: a shared ring's slot is written by whichever worker
 * got its seq, so a writer preempted mid-copy would have to be waited for (a lock in all but
 * name) or be torn by the next writer of the slot; a worker's own ring has one writer, and
 * its entries stay in its CPU's cache. Memory: hp__journal_bytes(capacity, workers), exactly
 * what create allocates, in one block; the rings are not written ahead of the entries, so
 * their fresh pages become resident only as requests fill them.
 *
 * Overflow, per worker ring: HP__JOURNAL_DROP_OLDEST (the ring's oldest entry is overwritten
 * and counted as dropped) or HP__JOURNAL_REJECT (a full ring stores nothing more: the entry is
 * counted as rejected and gets no seq, so the seqs kept have no gap for it).
 *
 * Writers (the worker that answered; append): one writer per ring, no lock. The seq comes
 * from one counter for the journal, taken with an atomic fetch_add: a read-modify-write on a
 * cache line the workers share (on x86-64 one `lock xadd`), not a lock: nobody waits for
 * anybody, whatever thread is preempted where. Per-worker sequences would avoid it but give
 * no total order: a reader could not say "oldest first" nor resume after SEQ across workers.
 * A worker's seqs increase along its ring (its fetch_adds are ordered), so each ring is sorted.
 * Each ring slot is a seqlock keyed by the seq: the writer sets the slot's seq word to 0,
 * writes the rest (relaxed atomic words: no data race, plain moves on x86-64 and arm64), then
 * stores the seq (release). The counters (stored, dropped, rejected) are single-writer atomics.
 *
 * The reader (the control thread; read, take_dropped) copies a consistent snapshot into the
 * caller's buffer: it merges the rings by seq (each is sorted), copying an entry and keeping
 * it only if its slot's seq word was the same before and after the copy (else the writer
 * overwrote it meanwhile: it was dropped). Since seqs are never reused, a slot rewritten
 * between the two checks cannot show the same seq (no ABA).
 *
 * The horizon, so that a reader that resumes after the last seq it saw misses nothing. A
 * writer takes its seq before it stores the entry, so entry 11 of one worker may be stored
 * while entry 10 of another is not yet. A read therefore returns only entries below a horizon
 * H, chosen so that every seq below H is stored already, or dropped, or never will be: before
 * taking a seq, a writer publishes in its ring's `pending` a lower bound of it (the counter's
 * value just read: fetch_add returns that or more), and clears it once the entry is stored.
 * The reader reads the counter C, then every ring's pending (all seq_cst), and takes H = the
 * least of them. A seq s < H was taken before C was read; its writer published its pending
 * (≤ s) before taking it, hence before the reader looked: the reader saw that pending (then
 * H ≤ s: impossible) or a later value, written after entry s was stored, which it then sees.
 * The result's `cursor` is the `since` to pass next time: H - 1 (or `since` if greater), or
 * the last seq returned when the limit cut the result. Cost per request: one relaxed load and
 * one fetch_add on the shared counter, one seq_cst store and three release stores on the
 * worker's own lines, and the copy of the bytes used.
 *
 * Reads cost O(capacity) loads of seq words (one per slot, to find the entries after `since`)
 * plus a copy of each entry returned; nothing is allocated. */
#ifndef HP_CORE_JOURNAL_H
#define HP_CORE_JOURNAL_H

#include "hostpool/request.h"

#include <stddef.h>
#include <stdint.h>

typedef enum hp__journal_field {
    HP__JOURNAL_CLIENT,
    HP__JOURNAL_METHOD,
    HP__JOURNAL_PATH,
    HP__JOURNAL_QUERY,
    HP__JOURNAL_REQUEST_ID,
    HP__JOURNAL_UPSTREAM,
    HP__JOURNAL_ERROR,
    HP__JOURNAL_FIELDS /* how many there are */
} hp__journal_field;

/* The bounds of the texts, in bytes. */
#define HP__JOURNAL_CLIENT_MAX 64 /* an IPv6 address with a zone: 45 + 1 + 15 */
#define HP__JOURNAL_METHOD_MAX 16
#define HP__JOURNAL_PATH_MAX 512
#define HP__JOURNAL_QUERY_MAX 512
#define HP__JOURNAL_REQUEST_ID_MAX 64 /* a client's X-Request-Id is at most 64 */
#define HP__JOURNAL_UPSTREAM_MAX 64
#define HP__JOURNAL_ERROR_MAX 64
#define HP__JOURNAL_TEXT_BYTES 1296 /* their sum */
#define HP__JOURNAL_ENTRY_BYTES 1352

/* One entry, as the reader returns it (and, word for word, as a ring slot holds it). */
typedef struct hp__journal_entry {
    uint64_t seq;
    uint64_t time_ms; /* Unix time */
    uint64_t duration_us;
    uint64_t bytes_in, bytes_out;
    uint16_t status;
    uint16_t len[HP__JOURNAL_FIELDS];  /* each within its bound */
    char text[HP__JOURNAL_TEXT_BYTES]; /* the texts, packed in field order */
} hp__journal_entry;

_Static_assert(sizeof(hp__journal_entry) == HP__JOURNAL_ENTRY_BYTES, "the stated entry size");

/* Text `field` of `entry`: borrowed from the entry, not NUL-terminated; its length in *len. */
const char *hp__journal_entry_text(const hp__journal_entry *entry, hp__journal_field field,
                                   size_t *len);

typedef enum hp__journal_overflow {
    HP__JOURNAL_DROP_OLDEST,
    HP__JOURNAL_REJECT,
} hp__journal_overflow;

typedef struct hp__journal hp__journal;

/* What create allocates for `capacity` entries split between `workers`, in one block:
 * HP__JOURNAL_ENTRY_BYTES × max(capacity, workers), plus 152 bytes per worker and 168. */
size_t hp__journal_bytes(uint32_t capacity, unsigned workers);

/* ---- the control thread ---- */

/* An empty journal (seqs from 1). capacity ≥ 1, workers ≥ 1. */
hp__journal *hp__journal_create(uint32_t capacity, hp__journal_overflow overflow, unsigned workers);
/* Once no worker appends any more. NULL is a no-op. */
void hp__journal_destroy(hp__journal *journal);

/* Which entries a read returns: those after `since` that pass every filter set. */
typedef struct hp__journal_filter {
    uint64_t since;     /* seq > since; 0: from the oldest kept */
    size_t limit;       /* at most the oldest `limit` of them; 0: as many as the buffer holds */
    int status;         /* exactly this status; 0: any */
    int status_class;   /* status / 100 is this (5: 5xx); 0: any */
    hp_str path_prefix; /* the path starts with these bytes; len 0: any */
} hp__journal_filter;

typedef struct hp__journal_result {
    size_t count;      /* entries written to the buffer, oldest first */
    uint64_t cursor;   /* the `since` of the next read: it misses nothing that was kept */
    uint64_t dropped;  /* so far, by drop_oldest */
    uint64_t rejected; /* so far, by reject */
} hp__journal_result;

/* Copies the entries `filter` selects into `buf` (at most `buf_len`: when more match, the
 * oldest are kept, and the cursor is the last one's seq), and the counts into *result. */
void hp__journal_read(hp__journal *journal, const hp__journal_filter *filter,
                      hp__journal_entry *buf, size_t buf_len, hp__journal_result *result);

/* Entries dropped since the previous call (for the `journal.dropped` event). */
uint64_t hp__journal_take_dropped(hp__journal *journal);

/* ---- the workers ---- */

/* What a worker records of a request it answered. The texts are borrowed for the call. */
typedef struct hp__journal_record {
    uint64_t time_ms; /* Unix time */
    uint64_t duration_us;
    uint64_t bytes_in, bytes_out;
    int status;
    hp_str text[HP__JOURNAL_FIELDS]; /* by hp__journal_field; cut at their bounds */
} hp__journal_record;

/* Stores `record` in worker `worker`'s ring (only that worker's thread may call it). */
void hp__journal_append(hp__journal *journal, unsigned worker, const hp__journal_record *record);

#endif
