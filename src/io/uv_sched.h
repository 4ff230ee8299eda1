/* The core scheduler (src/core/sched.h) driven by one libuv timer.
 *
 * The timer is armed for the scheduler's earliest timer: re-armed after each run_due and from
 * the scheduler's wakeup hook when a new timer is earlier than the one it is armed for. The
 * loop's cached time (uv_now) is the scheduler's clock, updated before each run. The timer is
 * unreferenced: pending timers alone do not keep the loop alive.
 *
 * Users: the control loop's health checks (src/pool), and every worker loop, whose handlers
 * get their timers from it (include/hostpool/worker.h). Threading: the loop's thread only. */
#ifndef HP_IO_UV_SCHED_H
#define HP_IO_UV_SCHED_H

#include "core/sched.h"

#include <uv.h>

typedef struct hp__uv_sched {
    hp__sched sched;
    uv_timer_t timer;
} hp__uv_sched;

void hp__uv_sched_init(hp__uv_sched *s, uv_loop_t *loop);
/* Drops the pending timers without running them and closes the libuv timer; `s` must stay
 * valid until the loop ran `on_closed` (free it there or after). */
void hp__uv_sched_close(hp__uv_sched *s, uv_close_cb on_closed);

#endif
