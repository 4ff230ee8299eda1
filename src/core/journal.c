/* The request journal (design, invariants and threads in journal.h).
 *
 * Layout: one block, [the journal][a ring header per worker][the slots of every ring]. A
 * ring header is padded to 128 bytes so that two workers' counters never share a cache line
 * (whatever the block's alignment), and the shared seq counter has lines of its own.
 *
 * A slot is HP__JOURNAL_ENTRY_WORDS atomic words holding an hp__journal_entry word for word;
 * word 0 is the seq, 0 while the slot is being written (seqs start at 1). */
#include "core/journal.h"

#include "common/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_WORDS (HP__JOURNAL_ENTRY_BYTES / 8)
#define HEAD_BYTES offsetof(hp__journal_entry, text)
#define IDLE UINT64_MAX /* a ring's pending when no entry is being stored */

_Static_assert(HP__JOURNAL_ENTRY_BYTES % 8 == 0, "slots are whole words");
_Static_assert(HP__JOURNAL_TEXT_BYTES == HP__JOURNAL_CLIENT_MAX + HP__JOURNAL_METHOD_MAX +
                                             HP__JOURNAL_PATH_MAX + HP__JOURNAL_QUERY_MAX +
                                             HP__JOURNAL_REQUEST_ID_MAX + HP__JOURNAL_UPSTREAM_MAX +
                                             HP__JOURNAL_ERROR_MAX,
               "the text room is the sum of the bounds");

static const uint16_t text_max[HP__JOURNAL_FIELDS] = {
    [HP__JOURNAL_CLIENT] = HP__JOURNAL_CLIENT_MAX,
    [HP__JOURNAL_METHOD] = HP__JOURNAL_METHOD_MAX,
    [HP__JOURNAL_PATH] = HP__JOURNAL_PATH_MAX,
    [HP__JOURNAL_QUERY] = HP__JOURNAL_QUERY_MAX,
    [HP__JOURNAL_REQUEST_ID] = HP__JOURNAL_REQUEST_ID_MAX,
    [HP__JOURNAL_UPSTREAM] = HP__JOURNAL_UPSTREAM_MAX,
    [HP__JOURNAL_ERROR] = HP__JOURNAL_ERROR_MAX,
};

typedef struct slot {
    _Atomic uint64_t words[ENTRY_WORDS];
} slot;

/* One worker's ring. The worker writes everything but `slots` and `share`; the control thread
 * reads. */
typedef struct ring {
    _Atomic uint64_t stored;  /* entries ever stored: the next goes to slots[stored % share] */
    _Atomic uint64_t pending; /* IDLE, or ≤ the seq of the entry being stored */
    _Atomic uint64_t dropped, rejected;
    slot *slots;
    uint32_t share; /* ≥ 1 */
    char pad[128 - 4 * sizeof(uint64_t) - sizeof(slot *) - sizeof(uint32_t)];
} ring;

_Static_assert(sizeof(ring) == 128, "a ring header spans its own cache lines");

/* The reader's place in one ring during a read (control thread only). */
typedef struct ring_cursor {
    uint64_t next, end; /* the next slot to look at, counted like `stored`; its end */
    uint64_t seq;       /* the seq of the slot at next - 1, to be merged; 0: none left */
} ring_cursor;

struct hp__journal {
    hp__journal_overflow overflow;
    unsigned workers;
    ring *rings;
    ring_cursor *cursors;
    uint64_t dropped_reported; /* control thread only */
    char pad_before[64];
    _Atomic uint64_t next_seq;
    char pad_after[64];
};

static uint32_t share_of(uint32_t capacity, unsigned workers, unsigned worker)
{
    uint32_t share = capacity / workers + (worker < capacity % workers ? 1 : 0);
    return share ? share : 1;
}

static uint64_t slot_count(uint32_t capacity, unsigned workers)
{
    return capacity > workers ? capacity : workers;
}

size_t hp__journal_bytes(uint32_t capacity, unsigned workers)
{
    return sizeof(hp__journal) + workers * (sizeof(ring) + sizeof(ring_cursor)) +
           slot_count(capacity, workers) * sizeof(slot);
}

const char *hp__journal_entry_text(const hp__journal_entry *entry, hp__journal_field field,
                                   size_t *len)
{
    size_t offset = 0;
    for (int f = 0; f < (int)field; f++) offset += entry->len[f];
    *len = entry->len[field];
    return entry->text + offset;
}

/* ---- the control thread ---- */

hp__journal *hp__journal_create(uint32_t capacity, hp__journal_overflow overflow, unsigned workers)
{
    char *block = hp__malloc(hp__journal_bytes(capacity, workers));
    hp__journal *j = (hp__journal *)block;
    *j = (hp__journal){
        .overflow = overflow,
        .workers = workers,
        .rings = (ring *)(block + sizeof *j),
        .cursors = (ring_cursor *)(block + sizeof *j + workers * sizeof(ring)),
    };
    atomic_init(&j->next_seq, 1);
    slot *slots = (slot *)(block + sizeof *j + workers * (sizeof(ring) + sizeof(ring_cursor)));
    for (unsigned w = 0; w < workers; w++) {
        j->rings[w] = (ring){.slots = slots, .share = share_of(capacity, workers, w)};
        atomic_init(&j->rings[w].pending, IDLE);
        slots += j->rings[w].share;
    }
    return j;
}

void hp__journal_destroy(hp__journal *journal)
{
    free(journal); /* the start of the one block */
}

/* The least seq that may still be stored: every seq below it is stored, dropped or rejected
 * (journal.h, "The horizon"). */
static uint64_t horizon(hp__journal *j)
{
    uint64_t h = atomic_load(&j->next_seq);
    for (unsigned w = 0; w < j->workers; w++) {
        uint64_t pending = atomic_load(&j->rings[w].pending);
        if (pending < h) h = pending;
    }
    return h;
}

/* Moves `c` to the next slot of `r` holding a seq in (since, below), or to its end (seq 0). */
static void cursor_advance(const ring *r, ring_cursor *c, uint64_t since, uint64_t below)
{
    c->seq = 0;
    while (c->next < c->end) {
        const slot *s = &r->slots[c->next++ % r->share];
        uint64_t seq = atomic_load_explicit(&s->words[0], memory_order_acquire);
        if (seq > since && seq < below) {
            c->seq = seq;
            return;
        }
    }
}

static void cursors_start(hp__journal *j, uint64_t since, uint64_t below)
{
    for (unsigned w = 0; w < j->workers; w++) {
        const ring *r = &j->rings[w];
        uint64_t stored = atomic_load_explicit(&r->stored, memory_order_acquire);
        j->cursors[w] = (ring_cursor){
            .next = stored > r->share ? stored - r->share : 0,
            .end = stored,
        };
        cursor_advance(r, &j->cursors[w], since, below);
    }
}

/* The ring whose next entry has the least seq; -1 when all are done. */
static int cursor_least(const hp__journal *j)
{
    int least = -1;
    for (unsigned w = 0; w < j->workers; w++) {
        uint64_t seq = j->cursors[w].seq;
        if (seq && (least < 0 || seq < j->cursors[least].seq)) least = (int)w;
    }
    return least;
}

static void copy_words(const slot *s, hp__journal_entry *out, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        uint64_t word = atomic_load_explicit(&s->words[i], memory_order_relaxed);
        memcpy((char *)out + i * 8, &word, 8);
    }
}

/* Copies the entry numbered `seq` out of `s`: false if the writer overwrote it meanwhile. */
static bool slot_copy(const slot *s, uint64_t seq, hp__journal_entry *out)
{
    copy_words(s, out, 0, HEAD_BYTES / 8);
    size_t text = 0;
    for (int f = 0; f < HP__JOURNAL_FIELDS; f++) {
        if (out->len[f] > text_max[f]) out->len[f] = text_max[f]; /* torn: fails below */
        text += out->len[f];
    }
    copy_words(s, out, HEAD_BYTES / 8, (HEAD_BYTES + text + 7) / 8);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->words[0], memory_order_relaxed) == seq && out->seq == seq;
}

static bool selected(const hp__journal_entry *e, const hp__journal_filter *f)
{
    if (f->status && e->status != f->status) return false;
    if (f->status_class && e->status / 100 != f->status_class) return false;
    if (!f->path_prefix.len) return true;
    size_t len;
    const char *path = hp__journal_entry_text(e, HP__JOURNAL_PATH, &len);
    return len >= f->path_prefix.len && !memcmp(path, f->path_prefix.base, f->path_prefix.len);
}

static void counts_read(const hp__journal *j, hp__journal_result *result)
{
    result->dropped = result->rejected = 0;
    for (unsigned w = 0; w < j->workers; w++) {
        result->dropped += atomic_load_explicit(&j->rings[w].dropped, memory_order_relaxed);
        result->rejected += atomic_load_explicit(&j->rings[w].rejected, memory_order_relaxed);
    }
}

void hp__journal_read(hp__journal *journal, const hp__journal_filter *filter,
                      hp__journal_entry *buf, size_t buf_len, hp__journal_result *result)
{
    size_t limit = filter->limit && filter->limit < buf_len ? filter->limit : buf_len;
    uint64_t below = horizon(journal);
    /* Every seq up to it was looked at (or is not after `since`); none will be stored. */
    uint64_t seen = below - 1 > filter->since ? below - 1 : filter->since;
    *result = (hp__journal_result){.cursor = limit ? seen : filter->since};
    cursors_start(journal, filter->since, below);
    for (int w; limit && (w = cursor_least(journal)) >= 0;) {
        ring *r = &journal->rings[w];
        ring_cursor *c = &journal->cursors[w];
        hp__journal_entry *out = &buf[result->count];
        if (slot_copy(&r->slots[(c->next - 1) % r->share], c->seq, out) && selected(out, filter) &&
            ++result->count == limit) {
            result->cursor = out->seq;
            break;
        }
        cursor_advance(r, c, filter->since, below);
    }
    counts_read(journal, result);
}

uint64_t hp__journal_take_dropped(hp__journal *journal)
{
    hp__journal_result counts;
    counts_read(journal, &counts);
    uint64_t news = counts.dropped - journal->dropped_reported;
    journal->dropped_reported = counts.dropped;
    return news;
}

/* ---- the workers ---- */

/* The single-writer update of a counter only this thread writes. */
static void counter_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* `record` as an entry numbered `seq`; returns the bytes it uses (head and texts). */
static size_t entry_fill(hp__journal_entry *e, uint64_t seq, const hp__journal_record *record)
{
    e->seq = seq;
    e->time_ms = record->time_ms;
    e->duration_us = record->duration_us;
    e->bytes_in = record->bytes_in;
    e->bytes_out = record->bytes_out;
    e->status = (uint16_t)record->status;
    size_t used = 0;
    for (int f = 0; f < HP__JOURNAL_FIELDS; f++) {
        size_t len = record->text[f].len < text_max[f] ? record->text[f].len : text_max[f];
        if (len) memcpy(e->text + used, record->text[f].base, len);
        e->len[f] = (uint16_t)len;
        used += len;
    }
    size_t end = HEAD_BYTES + used;
    memset((char *)e + end, 0, (8 - end % 8) % 8); /* the last word's tail */
    return end;
}

static void slot_write(slot *s, uint64_t seq, const hp__journal_record *record)
{
    hp__journal_entry e;
    size_t words = (entry_fill(&e, seq, record) + 7) / 8;
    atomic_store_explicit(&s->words[0], 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 1; i < words; i++) {
        uint64_t word;
        memcpy(&word, (const char *)&e + i * 8, 8);
        atomic_store_explicit(&s->words[i], word, memory_order_relaxed);
    }
    atomic_store_explicit(&s->words[0], seq, memory_order_release);
}

void hp__journal_append(hp__journal *journal, unsigned worker, const hp__journal_record *record)
{
    ring *r = &journal->rings[worker];
    uint64_t stored = atomic_load_explicit(&r->stored, memory_order_relaxed);
    bool full = stored >= r->share;
    if (full && journal->overflow == HP__JOURNAL_REJECT) {
        counter_add(&r->rejected, 1);
        return;
    }
    atomic_store(&r->pending, atomic_load_explicit(&journal->next_seq, memory_order_relaxed));
    uint64_t seq = atomic_fetch_add(&journal->next_seq, 1);
    slot_write(&r->slots[stored % r->share], seq, record);
    atomic_store_explicit(&r->stored, stored + 1, memory_order_release);
    if (full) counter_add(&r->dropped, 1);
    atomic_store_explicit(&r->pending, IDLE, memory_order_release);
}
