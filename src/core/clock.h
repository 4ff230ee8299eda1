/* Where src/core gets the time: a clock interface, a real clock and a virtual one.
 *
 * Core logic never reads the system time itself. It is handed an hp__clock, a function
 * pointer with its `self`, and asks it for "now" in milliseconds on a monotonic scale (the
 * origin is arbitrary; only differences mean anything). In the daemon the clock is the real
 * one (CLOCK_MONOTONIC); in sim tests it is an hp__vclock that moves only when the test
 * advances it, so time-dependent behaviour is deterministic and runs instantly.
 *
 * To run timers on top of a clock, see hp__sched (src/core/sched.h).
 *
 * Threading: an hp__vclock is plain memory, for one thread. The real clock may be read from
 * any thread. */
#ifndef HP_CORE_CLOCK_H
#define HP_CORE_CLOCK_H

#include <stdint.h>

typedef struct hp__clock {
    uint64_t (*now_ms)(void *self);
    void *self;
} hp__clock;

static inline uint64_t hp__clock_now(const hp__clock *clock)
{
    return clock->now_ms(clock->self);
}

/* The real clock: milliseconds of CLOCK_MONOTONIC (never goes back, ignores wall-clock
 * changes). Its `self` is unused. */
hp__clock hp__clock_monotonic(void);

/* A virtual clock for tests: time stands still until hp__vclock_advance() moves it. The
 * hp__clock returned by hp__vclock_clock() borrows `vc`, which must outlive it. */
typedef struct hp__vclock {
    uint64_t now;
} hp__vclock;

void hp__vclock_init(hp__vclock *vc, uint64_t start_ms);
hp__clock hp__vclock_clock(hp__vclock *vc);
void hp__vclock_advance(hp__vclock *vc, uint64_t ms);

#endif
