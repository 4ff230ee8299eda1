/* See sched.h for the design: a binary heap of slot indices, slots that know their heap
 * position, generation-tagged ids. */
#include "core/sched.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

#define NO_SLOT UINT32_MAX

static bool earlier(const hp__sched *s, uint32_t a, uint32_t b)
{
    const hp__sched_slot *x = &s->slots[a], *y = &s->slots[b];
    return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

static void place(hp__sched *s, uint32_t pos, uint32_t slot)
{
    s->heap[pos] = slot;
    s->slots[slot].pos = pos;
}

static void sift_up(hp__sched *s, uint32_t pos)
{
    uint32_t slot = s->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!earlier(s, slot, s->heap[parent])) break;
        place(s, pos, s->heap[parent]);
        pos = parent;
    }
    place(s, pos, slot);
}

static void sift_down(hp__sched *s, uint32_t pos)
{
    uint32_t slot = s->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= s->nheap) break;
        if (child + 1 < s->nheap && earlier(s, s->heap[child + 1], s->heap[child])) child++;
        if (!earlier(s, s->heap[child], slot)) break;
        place(s, pos, s->heap[child]);
        pos = child;
    }
    place(s, pos, slot);
}

static void heap_remove(hp__sched *s, uint32_t pos)
{
    uint32_t last = s->heap[--s->nheap];
    if (pos == s->nheap) return;
    place(s, pos, last);
    if (pos > 0 && earlier(s, last, s->heap[(pos - 1) / 2]))
        sift_up(s, pos);
    else
        sift_down(s, pos);
}

static uint32_t slot_alloc(hp__sched *s)
{
    if (s->free_head != NO_SLOT) {
        uint32_t i = s->free_head;
        s->free_head = s->slots[i].next_free;
        return i;
    }
    if (s->nslots == s->slots_cap) {
        s->slots_cap = s->slots_cap ? 2 * s->slots_cap : 16;
        s->slots = hp__realloc(s->slots, s->slots_cap * sizeof *s->slots);
        s->heap = hp__realloc(s->heap, s->slots_cap * sizeof *s->heap);
    }
    uint32_t i = s->nslots++;
    s->slots[i].gen = 1;
    return i;
}

static void slot_free(hp__sched *s, uint32_t i)
{
    hp__sched_slot *slot = &s->slots[i];
    slot->gen++;
    slot->cb = NULL;
    slot->data = NULL;
    slot->next_free = s->free_head;
    s->free_head = i;
}

void hp__sched_init(hp__sched *s, hp__clock clock)
{
    memset(s, 0, sizeof *s);
    s->clock = clock;
    s->free_head = NO_SLOT;
}

void hp__sched_close(hp__sched *s)
{
    free(s->slots);
    free(s->heap);
    hp__sched_init(s, s->clock);
}

void hp__sched_set_wakeup(hp__sched *s, hp__sched_wakeup_cb cb, void *data)
{
    s->wakeup = cb;
    s->wakeup_data = data;
}

uint64_t hp__sched_now(const hp__sched *s)
{
    return hp__clock_now(&s->clock);
}

uint64_t hp__sched_add(hp__sched *s, uint64_t at, hp__sched_cb cb, void *data)
{
    uint32_t i = slot_alloc(s);
    hp__sched_slot *slot = &s->slots[i];
    slot->at = at;
    slot->seq = s->seq++;
    slot->cb = cb;
    slot->data = data;
    s->heap[s->nheap] = i; /* the heap has room for every slot */
    sift_up(s, s->nheap++);
    uint64_t id = (uint64_t)slot->gen << 32 | (i + 1);
    if (s->slots[i].pos == 0 && !s->running && s->wakeup) s->wakeup(s, at, s->wakeup_data);
    return id;
}

static uint32_t slot_of(const hp__sched *s, uint64_t id)
{
    uint32_t low = (uint32_t)id;
    if (low == 0 || low > s->nslots) return NO_SLOT;
    uint32_t i = low - 1;
    return s->slots[i].gen == (uint32_t)(id >> 32) && s->slots[i].cb ? i : NO_SLOT;
}

bool hp__sched_cancel(hp__sched *s, uint64_t id)
{
    uint32_t i = slot_of(s, id);
    if (i == NO_SLOT) return false;
    heap_remove(s, s->slots[i].pos);
    slot_free(s, i);
    return true;
}

size_t hp__sched_run_due(hp__sched *s, uint64_t now)
{
    size_t ran = 0;
    s->running++;
    while (s->nheap > 0 && s->slots[s->heap[0]].at <= now) {
        uint32_t i = s->heap[0];
        hp__sched_cb cb = s->slots[i].cb;
        void *data = s->slots[i].data;
        heap_remove(s, 0);
        slot_free(s, i);
        cb(s, now, data);
        ran++;
    }
    s->running--;
    return ran;
}

uint64_t hp__sched_next_due(const hp__sched *s)
{
    return s->nheap > 0 ? s->slots[s->heap[0]].at : HP__SCHED_NEVER;
}

size_t hp__sched_pending(const hp__sched *s)
{
    return s->nheap;
}

void hp__sched_advance(hp__sched *s, hp__vclock *vc, uint64_t ms)
{
    uint64_t end = vc->now + ms;
    for (;;) {
        uint64_t due = hp__sched_next_due(s);
        if (due == HP__SCHED_NEVER || due > end) break;
        if (due > vc->now) vc->now = due;
        hp__sched_run_due(s, vc->now);
    }
    vc->now = end;
}
