/* See line_ring.h for what is kept, the bounds and who may call what.
 *
 * The arena is addressed by positions that never wrap (uint64_t): a line's text is at
 * arena[pos % max_bytes], and the kept lines' texts all lie within the last max_bytes
 * positions before write_pos. Recording a line of len bytes:
 *   1. if the entries are full, the oldest line goes;
 *   2. its position is write_pos, or the next multiple of max_bytes if its text would cross the
 *      arena's end there (the skipped bytes stay unused);
 *   3. the oldest lines go while the first of them starts more than max_bytes before the end
 *      of the new text (pos + len - oldest.pos > max_bytes), which frees its bytes;
 *   4. the text is copied to the arena and the entry filled in.
 * Since len ≤ max_line_bytes ≤ max_bytes, step 3 always makes room. */
#include "core/line_ring.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

void hp__line_ring_config_default(hp__line_ring_config *config)
{
    *config = (hp__line_ring_config){
        .max_lines = HP__LINE_RING_DEFAULT_MAX_LINES,
        .max_line_bytes = HP__LINE_RING_DEFAULT_MAX_LINE_BYTES,
        .max_bytes = HP__LINE_RING_DEFAULT_MAX_BYTES,
    };
}

int hp__line_ring_config_check(const hp__line_ring_config *config)
{
    bool valid = config->max_lines >= 1 && config->max_line_bytes >= 1 &&
                 config->max_bytes >= config->max_line_bytes;
    return valid ? 0 : HP_EINVAL;
}

int hp__line_ring_init(hp__line_ring *ring, const hp__line_ring_config *config)
{
    int err = hp__line_ring_config_check(config);
    if (err) return err;
    size_t entries_size = (size_t)config->max_lines * sizeof(hp__line_ring_entry);
    size_t partials_size = (size_t)HP__LINE_RING_STREAMS * config->max_line_bytes;
    char *block = hp__malloc(entries_size + partials_size + config->max_bytes);
    *ring = (hp__line_ring){
        .config = *config,
        .entries = (hp__line_ring_entry *)block,
        .arena = block + entries_size + partials_size,
        .first_seq = 1,
        .next_seq = 1,
    };
    for (int s = 0; s < HP__LINE_RING_STREAMS; s++)
        ring->partial[s].buf = block + entries_size + (size_t)s * config->max_line_bytes;
    return 0;
}

void hp__line_ring_close(hp__line_ring *ring)
{
    free(ring->entries); /* the start of the one block */
    ring->entries = NULL;
    ring->arena = NULL;
}

/* The index of the entry of line `seq`, kept or the next one. */
static uint32_t entry_index(const hp__line_ring *ring, uint64_t seq)
{
    return (uint32_t)((ring->oldest + (seq - ring->first_seq)) % ring->config.max_lines);
}

static void drop_oldest(hp__line_ring *ring)
{
    ring->oldest = (ring->oldest + 1) % ring->config.max_lines;
    ring->count--;
    ring->first_seq++;
}

/* Where a text of `len` bytes starts: write_pos, unless it would cross the arena's end. */
static uint64_t text_pos(const hp__line_ring *ring, uint32_t len)
{
    uint64_t pos = ring->write_pos;
    uint64_t offset = pos % ring->config.max_bytes;
    if (offset + len > ring->config.max_bytes) pos += ring->config.max_bytes - offset;
    return pos;
}

static void record(hp__line_ring *ring, hp__line_ring_stream stream, const char *text, uint32_t len,
                   bool truncated, uint64_t time)
{
    if (ring->count == ring->config.max_lines) drop_oldest(ring);
    uint64_t pos = text_pos(ring, len);
    while (ring->count && pos + len - ring->entries[ring->oldest].pos > ring->config.max_bytes)
        drop_oldest(ring);
    if (len) memcpy(ring->arena + pos % ring->config.max_bytes, text, len);
    ring->entries[entry_index(ring, ring->next_seq)] = (hp__line_ring_entry){
        .pos = pos,
        .time = time,
        .len = len,
        .stream = (uint8_t)stream,
        .truncated = truncated,
    };
    ring->count++;
    ring->next_seq++;
    ring->write_pos = pos + len;
}

/* The line went past max_line_bytes: it is recorded cut, and its rest will be dropped. */
static void cut(hp__line_ring *ring, hp__line_ring_stream stream, uint64_t time)
{
    hp__line_ring_partial *p = &ring->partial[stream];
    record(ring, stream, p->buf, p->len, true, time);
    *p = (hp__line_ring_partial){.buf = p->buf, .discarding = true};
}

/* Bytes of the current line, none of them "\n". */
static void append(hp__line_ring *ring, hp__line_ring_stream stream, const char *bytes, size_t len,
                   uint64_t time)
{
    hp__line_ring_partial *p = &ring->partial[stream];
    if (p->discarding || !len) return;
    if (p->held_cr) { /* a byte after the held "\r" other than "\n" */
        cut(ring, stream, time);
        return;
    }
    size_t room = ring->config.max_line_bytes - p->len;
    size_t take = len < room ? len : room;
    memcpy(p->buf + p->len, bytes, take);
    p->len += (uint32_t)take;
    if (take == len) return;
    if (len - take == 1 && bytes[take] == '\r')
        p->held_cr = true;
    else
        cut(ring, stream, time);
}

/* A "\n" came. */
static void end_line(hp__line_ring *ring, hp__line_ring_stream stream, uint64_t time)
{
    hp__line_ring_partial *p = &ring->partial[stream];
    if (!p->discarding) {
        uint32_t len = p->len;
        if (!p->held_cr && len && p->buf[len - 1] == '\r') len--;
        record(ring, stream, p->buf, len, false, time);
    }
    *p = (hp__line_ring_partial){.buf = p->buf};
}

void hp__line_ring_feed(hp__line_ring *ring, hp__line_ring_stream stream, const void *bytes,
                        size_t len, uint64_t time)
{
    const char *next = bytes, *end = next + len;
    while (next < end) {
        const char *newline = memchr(next, '\n', (size_t)(end - next));
        append(ring, stream, next, (size_t)((newline ? newline : end) - next), time);
        if (!newline) break;
        end_line(ring, stream, time);
        next = newline + 1;
    }
}

void hp__line_ring_flush(hp__line_ring *ring, hp__line_ring_stream stream, uint64_t time)
{
    hp__line_ring_partial *p = &ring->partial[stream];
    if (p->held_cr)
        cut(ring, stream, time); /* the "\r" was text past the cut */
    else if (p->len)
        record(ring, stream, p->buf, p->len, false, time);
    *p = (hp__line_ring_partial){.buf = p->buf};
}

bool hp__line_ring_read(const hp__line_ring *ring, uint64_t seq, hp__line_ring_line *line)
{
    if (seq < ring->first_seq || seq >= ring->next_seq) return false;
    const hp__line_ring_entry *entry = &ring->entries[entry_index(ring, seq)];
    *line = (hp__line_ring_line){
        .seq = seq,
        .time = entry->time,
        .text = ring->arena + entry->pos % ring->config.max_bytes,
        .len = entry->len,
        .stream = (hp__line_ring_stream)entry->stream,
        .truncated = entry->truncated,
    };
    return true;
}

uint64_t hp__line_ring_first_seq_after(const hp__line_ring *ring, uint64_t after)
{
    if (after >= ring->next_seq) return ring->next_seq;
    return after + 1 > ring->first_seq ? after + 1 : ring->first_seq;
}

uint64_t hp__line_ring_missed_after(const hp__line_ring *ring, uint64_t after)
{
    return after + 1 < ring->first_seq ? ring->first_seq - (after + 1) : 0;
}
