#include "io/uv_sched.h"

static uint64_t loop_now(void *self)
{
    return uv_now(self);
}

static void on_timer(uv_timer_t *t);

static void arm(hp__uv_sched *s)
{
    uint64_t due = hp__sched_next_due(&s->sched);
    if (due == HP__SCHED_NEVER) {
        uv_timer_stop(&s->timer);
        return;
    }
    uint64_t now = hp__sched_now(&s->sched);
    uv_timer_start(&s->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    hp__uv_sched *s = t->data;
    uv_update_time(t->loop);
    hp__sched_run_due(&s->sched, hp__sched_now(&s->sched));
    arm(s);
}

static void on_wakeup(hp__sched *sched, uint64_t due, void *data)
{
    hp__uv_sched *s = data;
    uint64_t now = hp__sched_now(sched);
    uv_timer_start(&s->timer, on_timer, due > now ? due - now : 0, 0);
}

void hp__uv_sched_init(hp__uv_sched *s, uv_loop_t *loop)
{
    hp__sched_init(&s->sched, (hp__clock){loop_now, loop});
    hp__sched_set_wakeup(&s->sched, on_wakeup, s);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_unref((uv_handle_t *)&s->timer);
}

void hp__uv_sched_close(hp__uv_sched *s, uv_close_cb on_closed)
{
    hp__sched_close(&s->sched);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}
