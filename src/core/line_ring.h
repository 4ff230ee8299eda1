/* A process's output kept as a bounded ring of lines: the last lines its stdout and stderr
 * wrote, for `GET /servers/{name}/logs` (and `?follow=1`, Server-Sent Events) and
 * `hostpool logs NAME [-f]`.
 *
 * Feeding. The caller hands over raw bytes as it reads them from a pipe, in pieces of any size
 * (a line in many pieces, many lines in one piece), naming the stream they came from. Each
 * stream has its own partial line, so interleaved reads of stdout and stderr never mix. A line
 * ends at "\n"; a "\r" just before the "\n" is part of the end ("\r\n"), not of the text; a
 * "\r" anywhere else is text. At EOF the caller flushes the stream: a partial line left then
 * is recorded as a line (a "\r" it ends with is text, since no "\n" followed it).
 *
 * Every other byte is kept as it came: bytes that are not UTF-8, control characters and NUL
 * (a line is a length and bytes, never a C string). Whoever writes a line out (JSON, SSE)
 * escapes it.
 *
 * Long lines. A line's text is at most max_line_bytes: a longer one keeps its first
 * max_line_bytes bytes (the cut may fall inside a UTF-8 sequence), is marked truncated and is
 * recorded as soon as its first byte beyond the cut arrives, so a follower sees it before the
 * process ends it; the rest of it, up to and including its "\n", is dropped. A line of exactly
 * max_line_bytes followed by "\r\n" is not truncated (the "\r" is held until the byte after
 * it says which it is).
 *
 * Recorded lines. Each gets the stream it came from, the time the caller gave with the bytes
 * that completed it (any unit; 0 if the caller has none) and a sequence number: 1, 2, 3, ...
 * in the order lines complete, never reused. The ring keeps the newest lines within two limits
 * and drops the oldest first:
 *   - at most max_lines lines;
 *   - their text within max_bytes, the arena's size. A line's text is contiguous in the
 *     arena; one that would cross the arena's end starts at its beginning instead, so up to
 *     max_line_bytes - 1 bytes at the end may lie unused. Hence the newest lines whose text
 *     adds up to max_bytes - max_line_bytes + 1 bytes or less are always kept (unless
 *     max_lines is the limit); with the defaults, a process whose lines average up to about
 *     1 KiB keeps its last 1,000 lines, one whose every line is cut at 4 KiB its last 256.
 * Sequence numbers are contiguous, so the lines dropped so far are first_seq - 1.
 *
 * Memory: one allocation at init, never more: the arena (max_bytes), one partial-line buffer
 * per stream (max_line_bytes each) and one 24-byte record per line (max_lines). With the
 * defaults about 1.03 MiB; nothing writes the arena ahead of the output, so its fresh pages
 * become resident only as output fills them.
 * Nothing is allocated per line or per feed; a recorded line is copied once, from its
 * stream's buffer into the arena.
 *
 * Reading: by sequence number, O(1). A reader that has seen up to S (an SSE follower's
 * Last-Event-ID) reads first_seq_after(S), +1, ... until read says no more, and learns from
 * missed_after(S) how many lines after S were dropped before it could read them.
 *
 * Threading: none of its own; one thread feeds and reads (the control thread, where the
 * process's pipes are read). A line's text is borrowed from the arena: valid until the next
 * feed or flush of the ring, which may drop it. */
#ifndef HP_CORE_LINE_RING_H
#define HP_CORE_LINE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__LINE_RING_DEFAULT_MAX_LINES 1000
#define HP__LINE_RING_DEFAULT_MAX_LINE_BYTES 4096
#define HP__LINE_RING_DEFAULT_MAX_BYTES (1024 * 1024)

typedef enum hp__line_ring_stream {
    HP__LINE_RING_STDOUT,
    HP__LINE_RING_STDERR,
    HP__LINE_RING_STREAMS /* how many there are */
} hp__line_ring_stream;

typedef struct hp__line_ring_config {
    uint32_t max_lines;      /* ≥ 1 */
    uint32_t max_line_bytes; /* ≥ 1 */
    size_t max_bytes;        /* the arena: ≥ max_line_bytes */
} hp__line_ring_config;

void hp__line_ring_config_default(hp__line_ring_config *config);
/* HP_EINVAL unless every field is within the bounds above. */
int hp__line_ring_config_check(const hp__line_ring_config *config);

/* One recorded line, as a reader sees it. */
typedef struct hp__line_ring_line {
    uint64_t seq;
    uint64_t time;
    const char *text; /* borrowed: see the threading note above; not NUL-terminated */
    uint32_t len;
    hp__line_ring_stream stream;
    bool truncated; /* it was longer than max_line_bytes */
} hp__line_ring_line;

/* Where a stream's partial line stands. */
typedef struct hp__line_ring_partial {
    char *buf; /* max_line_bytes */
    uint32_t len;
    bool held_cr;    /* buf is full and a "\r" came after it: "\r\n" or a cut, not known yet */
    bool discarding; /* the line was cut and recorded; its rest is dropped up to its "\n" */
} hp__line_ring_partial;

/* A kept line's record: its text at arena[pos % max_bytes]. */
typedef struct hp__line_ring_entry {
    uint64_t pos; /* the arena position, counted without wrapping */
    uint64_t time;
    uint32_t len;
    uint8_t stream;
    bool truncated;
} hp__line_ring_entry;

typedef struct hp__line_ring {
    hp__line_ring_config config;
    hp__line_ring_entry *entries; /* max_lines, a circle from `oldest` */
    char *arena;                  /* max_bytes */
    hp__line_ring_partial partial[HP__LINE_RING_STREAMS];
    uint32_t oldest;    /* the index of the oldest kept line's entry */
    uint32_t count;     /* lines kept */
    uint64_t first_seq; /* the oldest kept line's; next_seq when none is kept */
    uint64_t next_seq;  /* the next line's */
    uint64_t write_pos; /* where the newest line's text ends, counted without wrapping */
} hp__line_ring;

/* Empty, sequence numbers from 1. The config is copied; HP_EINVAL (nothing allocated) if it
 * fails the check. */
int hp__line_ring_init(hp__line_ring *ring, const hp__line_ring_config *config);
/* Frees everything; the partial lines are dropped, not flushed. */
void hp__line_ring_close(hp__line_ring *ring);

/* Bytes read from `stream`; lines they complete are recorded with `time`. */
void hp__line_ring_feed(hp__line_ring *ring, hp__line_ring_stream stream, const void *bytes,
                        size_t len, uint64_t time);
/* `stream` reached EOF: its partial line, if any, is recorded with `time`. The stream may be
 * fed again afterwards (a restarted process), starting a new line. */
void hp__line_ring_flush(hp__line_ring *ring, hp__line_ring_stream stream, uint64_t time);

/* The line numbered `seq` if it is kept (filled into *line), else false. */
bool hp__line_ring_read(const hp__line_ring *ring, uint64_t seq, hp__line_ring_line *line);
/* The first line to read for a reader that has seen up to `after` (0: none): after + 1, or the
 * oldest kept line if that was dropped. Equal to next_seq when there is nothing new. */
uint64_t hp__line_ring_first_seq_after(const hp__line_ring *ring, uint64_t after);
/* How many lines after `after` were dropped (the reader missed them). */
uint64_t hp__line_ring_missed_after(const hp__line_ring *ring, uint64_t after);

static inline uint64_t hp__line_ring_first_seq(const hp__line_ring *ring)
{
    return ring->first_seq;
}

/* The sequence number the next line will get; the newest kept line's is one less. */
static inline uint64_t hp__line_ring_next_seq(const hp__line_ring *ring)
{
    return ring->next_seq;
}

/* Lines dropped so far (all of them the oldest). */
static inline uint64_t hp__line_ring_dropped(const hp__line_ring *ring)
{
    return ring->first_seq - 1;
}

static inline uint32_t hp__line_ring_count(const hp__line_ring *ring)
{
    return ring->count;
}

#endif
