/* See health_checker.h for the cadence, timeout, overlap and stop rules. */
#include "core/health_checker.h"

#include "hostpool/errors.h"

#include <string.h>

int hp__health_checker_init(hp__health_checker *c, hp__sched *sched,
                            const hp__health_config *config, const hp__health_probe_ops *ops,
                            void *target, hp__health_change_cb on_change, void *data)
{
    if (hp__health_config_check(config) != 0 || !ops || !ops->probe) return HP_EINVAL;
    memset(c, 0, sizeof *c);
    hp__health_init(&c->health, config->rise, config->fall, on_change, data);
    c->config = *config;
    c->sched = sched;
    c->ops = ops;
    c->target = target;
    return 0;
}

/* Gives up on the probe in flight, if any: no answer for it counts from now on. */
static void abandon_probe(hp__health_checker *c)
{
    if (!c->in_flight) return;
    c->in_flight = false;
    hp__sched_cancel(c->sched, c->timeout_timer);
    c->timeout_timer = 0;
    if (c->ops->cancel) c->ops->cancel(c, c->seq, c->target);
}

static void on_timeout(hp__sched *s, uint64_t now, void *data)
{
    hp__health_checker *c = data;
    c->timeout_timer = 0;
    c->timeouts++;
    abandon_probe(c);
    hp__health_record(&c->health, false); /* last: the change callback may stop us */
}

static void on_tick(hp__sched *s, uint64_t now, void *data)
{
    hp__health_checker *c = data;
    bool start = !c->in_flight;
    if (start) {
        c->seq++;
        c->probes++;
        c->in_flight = true;
        /* Added before the next tick, so a timeout due at the same time as that tick is
         * recorded first and the tick can start the next probe. */
        c->timeout_timer = hp__sched_add(s, now + c->config.timeout_ms, on_timeout, c);
    } else {
        c->skipped++;
    }
    /* The next tick of the cadence after now: one interval on, unless the loop was late. */
    uint64_t due = c->next_tick;
    uint64_t interval = due < c->fast_until ? c->config.fast_interval_ms : c->config.interval_ms;
    c->next_tick = due + interval * ((now - due) / interval + 1);
    c->tick_timer = hp__sched_add(s, c->next_tick, on_tick, c);
    /* Last: the probe may answer at once, and the answer may stop the checker. */
    if (start) c->ops->probe(c, c->seq, c->target);
}

int hp__health_checker_start(hp__health_checker *c, uint64_t phase_ms)
{
    if (c->running) return HP_ESTATE;
    c->running = true;
    uint64_t now = hp__sched_now(c->sched);
    c->tick_timer = hp__sched_add(c->sched, now, on_tick, c);
    /* on_tick's next tick after this first one is next_tick + interval: now + phase. (The
     * subtraction may wrap below zero; on_tick's unsigned arithmetic wraps it back.) */
    uint64_t phase = phase_ms % c->config.interval_ms;
    c->next_tick = now + (phase ? phase : c->config.interval_ms) - c->config.interval_ms;
    c->fast_until = c->config.fast_for_ms ? now + c->config.fast_for_ms : 0;
    if (c->fast_until) c->next_tick = now; /* the next tick: now + fast_interval_ms */
    hp__health_reset(&c->health);          /* last: the change callback may stop us */
    return 0;
}

void hp__health_checker_stop(hp__health_checker *c)
{
    if (!c->running) return;
    c->running = false;
    hp__sched_cancel(c->sched, c->tick_timer);
    c->tick_timer = 0;
    abandon_probe(c);
}

void hp__health_checker_done(hp__health_checker *c, uint64_t seq, bool ok)
{
    if (!c->running || !c->in_flight || seq != c->seq) {
        c->stale++;
        return;
    }
    c->in_flight = false;
    hp__sched_cancel(c->sched, c->timeout_timer);
    c->timeout_timer = 0;
    hp__health_record(&c->health, ok);
}
