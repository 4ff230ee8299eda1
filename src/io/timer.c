/* The handlers' timers (include/hostpool/worker.h) on their worker's scheduler.
 *
 * An hp_timer is the caller's memory: the scheduler's slot points to it, and the scheduler's
 * callback (on_due) forgets the id before calling the user's, which may start the timer again.
 * Worker thread only. */
#include "hostpool/worker.h"

#include "io/worker_context.h"

static void on_due(hp__sched *s, uint64_t now, void *data)
{
    hp_timer *t = data;
    t->id = 0;
    t->cb(t);
}

void hp_timer_start(hp_worker *worker, hp_timer *t, uint64_t delay_ms, hp_timer_cb cb)
{
    hp_timer_stop(t);
    hp__sched *s = &worker->timers.sched;
    t->cb = cb;
    t->worker = worker;
    t->id = hp__sched_add(s, hp__sched_now(s) + delay_ms, on_due, t);
}

void hp_timer_stop(hp_timer *t)
{
    if (!t->id) return;
    hp__sched_cancel(&t->worker->timers.sched, t->id);
    t->id = 0;
}

bool hp_timer_pending(const hp_timer *t)
{
    return t->id != 0;
}
