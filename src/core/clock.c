#include "core/clock.h"

#include <time.h>

static uint64_t monotonic_now(void *self)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

hp__clock hp__clock_monotonic(void)
{
    return (hp__clock){.now_ms = monotonic_now, .self = NULL};
}

static uint64_t virtual_now(void *self)
{
    return ((const hp__vclock *)self)->now;
}

void hp__vclock_init(hp__vclock *vc, uint64_t start_ms)
{
    vc->now = start_ms;
}

hp__clock hp__vclock_clock(hp__vclock *vc)
{
    return (hp__clock){.now_ms = virtual_now, .self = vc};
}

void hp__vclock_advance(hp__vclock *vc, uint64_t ms)
{
    vc->now += ms;
}
