/* Timers for core logic, on top of a clock, with no event loop of their own.
 *
 * An hp__sched holds one-shot timers: hp__sched_add(at, cb, data) says "call cb at absolute
 * time `at`" (milliseconds on the scheduler's clock) and returns an id for
 * hp__sched_cancel(). Nothing runs by itself: a driver calls hp__sched_run_due(now), which
 * runs every timer due by `now`, and asks hp__sched_next_due() when to call it again.
 * - On a libuv loop the driver is one libuv timer (src/io/uv_sched.c), re-armed after each
 *   run_due and from the wakeup hook (hp__sched_set_wakeup) when a new timer is earlier than
 *   the one it is armed for.
 * - In sim tests the driver is hp__sched_advance() over an hp__vclock: every timer runs with
 *   `now` equal to its own due time, instantly and deterministically.
 *
 * Order: timers run earliest due time first; timers due at the same time run in the order
 * they were added. A timer added from a callback that is already due by `now` runs in the
 * same run_due call, at its place in that order (so a callback must not keep re-adding
 * itself due at or before `now`, or run_due never returns).
 *
 * Design: a binary min-heap on (due time, insertion number) of indices into a slot array.
 * Each slot knows its heap position, so cancel is O(log n) and needs no search; freed slots
 * are reused through a free list, so a steady state of add/run/cancel allocates nothing. An
 * id is (slot generation << 32 | slot index + 1): the generation changes when a slot is
 * freed, so the id of a timer that ran or was cancelled never matches a later timer in the
 * same slot, and cancelling it is a harmless no-op. Id 0 is never handed out.
 *
 * Invariants: heap[slots[i].pos] == i for every slot i in use; a slot in use is in the heap
 * (a timer leaves the heap, and its slot is freed, just before its callback runs); the heap
 * property holds for (at, seq) between every run of user code.
 *
 * Threading: one thread (the loop that drives it). Callbacks may add and cancel timers
 * (their own id is already stale) but must not close the scheduler. */
#ifndef HP_CORE_SCHED_H
#define HP_CORE_SCHED_H

#include "core/clock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__SCHED_NEVER UINT64_MAX

typedef struct hp__sched hp__sched;

/* `now` is the value given to hp__sched_run_due (>= the timer's due time). */
typedef void (*hp__sched_cb)(hp__sched *s, uint64_t now, void *data);
/* The earliest due time became `due`, earlier than before, outside run_due. */
typedef void (*hp__sched_wakeup_cb)(hp__sched *s, uint64_t due, void *data);

typedef struct hp__sched_slot {
    uint64_t at;
    uint64_t seq; /* insertion number: breaks ties between equal due times */
    hp__sched_cb cb;
    void *data;
    uint32_t gen;       /* bumped when the slot is freed */
    uint32_t pos;       /* index in heap while in use */
    uint32_t next_free; /* free-list link while free */
} hp__sched_slot;

struct hp__sched {
    hp__clock clock;
    hp__sched_slot *slots;
    uint32_t nslots, slots_cap;
    uint32_t free_head; /* first free slot, or UINT32_MAX */
    uint32_t *heap;     /* slot indices; as many as slots_cap */
    uint32_t nheap;
    uint64_t seq;
    unsigned running; /* run_due depth */
    hp__sched_wakeup_cb wakeup;
    void *wakeup_data;
};

/* Caller-owned; the clock is copied (a virtual clock's hp__vclock must outlive `s`). */
void hp__sched_init(hp__sched *s, hp__clock clock);
/* Drops every pending timer without running it and frees the memory. Not from a callback. */
void hp__sched_close(hp__sched *s);
void hp__sched_set_wakeup(hp__sched *s, hp__sched_wakeup_cb cb, void *data);

/* The scheduler's clock, read now. */
uint64_t hp__sched_now(const hp__sched *s);

/* Calls cb(s, now, data) (cb not NULL) from the first run_due with now >= at. Returns the id
 * (never 0). `at` may be in the past: the timer is simply due. */
uint64_t hp__sched_add(hp__sched *s, uint64_t at, hp__sched_cb cb, void *data);
/* true if the timer was pending and will not run; false for 0, an id that already ran or
 * was cancelled, or one never handed out. */
bool hp__sched_cancel(hp__sched *s, uint64_t id);

/* Runs every timer due by `now`, as described above; returns how many ran. */
size_t hp__sched_run_due(hp__sched *s, uint64_t now);
/* The earliest due time among pending timers, or HP__SCHED_NEVER when there is none. */
uint64_t hp__sched_next_due(const hp__sched *s);
size_t hp__sched_pending(const hp__sched *s);

/* Sim-test driver: moves `vc` (which should be the scheduler's clock) forward by `ms`,
 * stopping at each due time on the way to run what is due then, so every timer runs with
 * now == its due time (or vc's time when added in the past); ends with vc at start + ms. */
void hp__sched_advance(hp__sched *s, hp__vclock *vc, uint64_t ms);

#endif
