/* See breaker.h for the states, the caller's contract and the window. */
#include "core/breaker.h"

#include "hostpool/errors.h"

#include <string.h>

void hp__breaker_config_default(hp__breaker_config *config)
{
    *config = (hp__breaker_config){
        .failures = HP__BREAKER_DEFAULT_FAILURES,
        .error_ratio_ppm = HP__BREAKER_DEFAULT_ERROR_RATIO_PPM,
        .min_requests = HP__BREAKER_DEFAULT_MIN_REQUESTS,
        .window_ms = HP__BREAKER_DEFAULT_WINDOW_MS,
        .open_for_ms = HP__BREAKER_DEFAULT_OPEN_FOR_MS,
        .trials = HP__BREAKER_DEFAULT_TRIALS,
    };
}

int hp__breaker_config_check(const hp__breaker_config *config)
{
    if (config->error_ratio_ppm > 1000000) return HP_EINVAL;
    if (!config->window_ms || config->window_ms % HP__BREAKER_BUCKETS) return HP_EINVAL;
    if (!config->open_for_ms || !config->trials) return HP_EINVAL;
    return 0;
}

static uint64_t epoch_of(const hp__breaker *b, uint64_t now)
{
    return now / (b->config.window_ms / HP__BREAKER_BUCKETS);
}

static void clear_counts(hp__breaker *b)
{
    memset(b->buckets, 0, sizeof b->buckets);
    b->outcomes = b->failures = 0;
    b->in_a_row = 0;
    b->bucket_epoch = epoch_of(b, hp__sched_now(b->sched));
}

void hp__breaker_init(hp__breaker *b, hp__sched *sched, const hp__breaker_config *config,
                      hp__breaker_change_cb on_change, void *data)
{
    *b = (hp__breaker){
        .config = *config,
        .sched = sched,
        .state = HP__BREAKER_CLOSED,
        .period = 1,
        .on_change = on_change,
        .data = data,
    };
    clear_counts(b);
}

void hp__breaker_close(hp__breaker *b)
{
    hp__sched_cancel(b->sched, b->half_open_timer);
    b->half_open_timer = 0;
}

/* Empties the buckets the clock left behind since the last outcome. */
static void slide(hp__breaker *b, uint64_t now)
{
    uint64_t epoch = epoch_of(b, now);
    uint64_t passed = epoch - b->bucket_epoch;
    if (passed == 0) return;
    if (passed > HP__BREAKER_BUCKETS) passed = HP__BREAKER_BUCKETS;
    for (uint64_t k = 1; k <= passed; k++) {
        hp__breaker_bucket *old = &b->buckets[(b->bucket_epoch + k) % HP__BREAKER_BUCKETS];
        b->outcomes -= old->outcomes;
        b->failures -= old->failures;
        *old = (hp__breaker_bucket){0};
    }
    b->bucket_epoch = epoch;
}

static void half_open(hp__sched *s, uint64_t now, void *data);

static void set_state(hp__breaker *b, hp__breaker_state to)
{
    hp__breaker_state from = (hp__breaker_state)b->state;
    b->state = (uint8_t)to;
    if (++b->period == HP__BREAKER_REFUSED) b->period++;
    b->trials_started = b->trials_passed = 0;
    if (to == HP__BREAKER_OPEN) {
        b->opened++;
        b->half_open_timer =
            hp__sched_add(b->sched, hp__sched_now(b->sched) + b->config.open_for_ms, half_open, b);
    }
    if (to == HP__BREAKER_CLOSED) clear_counts(b);
    if (b->on_change) b->on_change(b, from, to, b->data);
}

static void half_open(hp__sched *s, uint64_t now, void *data)
{
    hp__breaker *b = data;
    b->half_open_timer = 0;
    set_state(b, HP__BREAKER_HALF_OPEN);
}

static void trip(hp__breaker *b, hp__breaker_reason reason)
{
    b->reason = (uint8_t)reason;
    set_state(b, HP__BREAKER_OPEN);
}

hp__breaker_ticket hp__breaker_acquire(hp__breaker *b)
{
    if (b->state == HP__BREAKER_CLOSED) return b->period;
    if (b->state == HP__BREAKER_HALF_OPEN && b->trials_started < b->config.trials) {
        b->trials_started++;
        return b->period;
    }
    b->refused++;
    return HP__BREAKER_REFUSED;
}

static bool ratio_reached(const hp__breaker *b)
{
    const hp__breaker_config *c = &b->config;
    if (!c->error_ratio_ppm || b->outcomes == 0 || b->outcomes < c->min_requests) return false;
    return (uint64_t)b->failures * 1000000u >= (uint64_t)c->error_ratio_ppm * b->outcomes;
}

static void count_closed(hp__breaker *b, bool failed)
{
    slide(b, hp__sched_now(b->sched));
    hp__breaker_bucket *bucket = &b->buckets[b->bucket_epoch % HP__BREAKER_BUCKETS];
    bucket->outcomes++;
    b->outcomes++;
    if (failed) {
        bucket->failures++;
        b->failures++;
        b->in_a_row++;
    } else {
        b->in_a_row = 0;
    }
    if (b->config.failures && b->in_a_row >= b->config.failures)
        trip(b, HP__BREAKER_OPENED_BY_FAILURES);
    else if (ratio_reached(b))
        trip(b, HP__BREAKER_OPENED_BY_RATIO);
}

static void count_trial(hp__breaker *b, hp__breaker_outcome outcome)
{
    if (outcome == HP__BREAKER_ABANDONED) {
        b->trials_started--;
        return;
    }
    if (outcome == HP__BREAKER_FAILURE) {
        trip(b, HP__BREAKER_OPENED_BY_TRIAL);
        return;
    }
    if (++b->trials_passed == b->config.trials) set_state(b, HP__BREAKER_CLOSED);
}

void hp__breaker_report(hp__breaker *b, hp__breaker_ticket ticket, hp__breaker_outcome outcome)
{
    if (ticket == HP__BREAKER_REFUSED) return;
    if (ticket != b->period) {
        b->stale++;
        return;
    }
    if (b->state == HP__BREAKER_HALF_OPEN)
        count_trial(b, outcome);
    else if (outcome != HP__BREAKER_ABANDONED)
        count_closed(b, outcome == HP__BREAKER_FAILURE);
}

bool hp__breaker_admits(const hp__breaker *b)
{
    if (b->state == HP__BREAKER_CLOSED) return true;
    return b->state == HP__BREAKER_HALF_OPEN && b->trials_started < b->config.trials;
}

const char *hp__breaker_state_name(hp__breaker_state state)
{
    switch (state) {
    case HP__BREAKER_CLOSED:
        return "closed";
    case HP__BREAKER_OPEN:
        return "open";
    case HP__BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "?";
}

const char *hp__breaker_reason_name(hp__breaker_reason reason)
{
    switch (reason) {
    case HP__BREAKER_OPENED_BY_FAILURES:
        return "failures";
    case HP__BREAKER_OPENED_BY_RATIO:
        return "error_ratio";
    case HP__BREAKER_OPENED_BY_TRIAL:
        return "trial";
    }
    return "?";
}
