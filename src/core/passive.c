/* See passive.h for nginx's rules this follows and how they are reported. */
#include "core/passive.h"

#include "hostpool/errors.h"

void hp__passive_config_default(hp__passive_config *config)
{
    config->max_fails = HP__PASSIVE_DEFAULT_MAX_FAILS;
    config->fail_timeout_ms = HP__PASSIVE_DEFAULT_FAIL_TIMEOUT_MS;
}

int hp__passive_config_check(const hp__passive_config *config)
{
    return config->max_fails && !config->fail_timeout_ms ? HP_EINVAL : 0;
}

void hp__passive_init(hp__passive *p, hp__sched *sched, const hp__passive_config *config,
                      hp__passive_change_cb on_change, void *data)
{
    *p = (hp__passive){
        .config = *config,
        .sched = sched,
        .available = true,
        .on_change = on_change,
        .data = data,
    };
}

void hp__passive_close(hp__passive *p)
{
    hp__sched_cancel(p->sched, p->back_timer);
    p->back_timer = 0;
}

static void set_available(hp__passive *p, bool available)
{
    if (p->available == available) return;
    p->available = available;
    if (!available) p->taken_out++;
    if (p->on_change) p->on_change(p, available, p->data);
}

static void back_in(hp__sched *s, uint64_t now, void *data)
{
    hp__passive *p = data;
    p->back_timer = 0;
    set_available(p, true);
}

/* Out until checked_at + fail_timeout. */
static void take_out(hp__passive *p)
{
    hp__sched_cancel(p->sched, p->back_timer);
    p->back_timer = hp__sched_add(p->sched, p->checked_at + p->config.fail_timeout_ms, back_in, p);
    set_available(p, false);
}

static bool reached_max(const hp__passive *p)
{
    return p->fails >= p->config.max_fails;
}

void hp__passive_picked(hp__passive *p)
{
    if (!p->config.max_fails) return;
    uint64_t now = hp__sched_now(p->sched);
    if (now - p->checked_at < p->config.fail_timeout_ms) return;
    p->checked_at = now;
    if (reached_max(p)) take_out(p); /* the trial: one request, then out again */
}

void hp__passive_report(hp__passive *p, bool failed)
{
    if (!p->config.max_fails) return;
    if (failed) {
        if (p->fails < UINT32_MAX) p->fails++;
        p->failed_at = p->checked_at = hp__sched_now(p->sched);
        if (reached_max(p)) take_out(p);
        return;
    }
    if (p->failed_at >= p->checked_at) return;
    p->fails = 0;
    hp__sched_cancel(p->sched, p->back_timer);
    p->back_timer = 0;
    set_available(p, true);
}
