/* See restart.h for the caller's contract, the rules and the design choices. */
#include "core/restart.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

#define PPM 1000000u
#define MILLI 1000u

void hp__restart_config_default(hp__restart_config *config)
{
    *config = (hp__restart_config){
        .policy = HP__RESTART_PERMANENT,
        .initial_ms = HP__RESTART_DEFAULT_INITIAL_MS,
        .max_ms = HP__RESTART_DEFAULT_MAX_MS,
        .factor_milli = HP__RESTART_DEFAULT_FACTOR_MILLI,
        .jitter_ppm = HP__RESTART_DEFAULT_JITTER_PPM,
        .max_restarts = HP__RESTART_DEFAULT_MAX_RESTARTS,
        .within_ms = HP__RESTART_DEFAULT_WITHIN_MS,
    };
}

int hp__restart_config_check(const hp__restart_config *config)
{
    switch (config->policy) {
    case HP__RESTART_PERMANENT:
    case HP__RESTART_TRANSIENT:
    case HP__RESTART_TEMPORARY:
        break;
    default:
        return HP_EINVAL;
    }
    if (!config->initial_ms || config->max_ms < config->initial_ms) return HP_EINVAL;
    if (config->factor_milli < MILLI || config->factor_milli > HP__RESTART_MAX_FACTOR_MILLI)
        return HP_EINVAL;
    if (config->jitter_ppm >= PPM) return HP_EINVAL;
    if (config->max_restarts > HP__RESTART_MAX_MAX_RESTARTS) return HP_EINVAL;
    if (!config->within_ms) return HP_EINVAL;
    return 0;
}

static const char *const policy_names[] = {
    [HP__RESTART_PERMANENT] = "permanent",
    [HP__RESTART_TRANSIENT] = "transient",
    [HP__RESTART_TEMPORARY] = "temporary",
};

#define NPOLICIES (sizeof policy_names / sizeof policy_names[0])

const char *hp__restart_policy_name(hp__restart_policy policy)
{
    if ((unsigned)policy >= NPOLICIES) return "?";
    return policy_names[policy];
}

int hp__restart_policy_parse(const char *name, hp__restart_policy *policy)
{
    for (unsigned p = 0; p < NPOLICIES; p++) {
        if (strcmp(name, policy_names[p]) == 0) {
            *policy = (hp__restart_policy)p;
            return 0;
        }
    }
    return HP_EINVAL;
}

int hp__restart_init(hp__restart *r, hp__clock clock, const hp__restart_config *config,
                     uint64_t seed)
{
    int err = hp__restart_config_check(config);
    if (err) return err;
    *r = (hp__restart){
        .config = *config,
        .clock = clock,
        .times = config->max_restarts ? hp__calloc(config->max_restarts, sizeof(uint64_t)) : NULL,
        .prng = seed,
    };
    return 0;
}

void hp__restart_close(hp__restart *r)
{
    free(r->times);
    r->times = NULL;
}

void hp__restart_reset(hp__restart *r)
{
    r->count = 0; /* where the ring starts does not matter when it is empty */
    r->gave_up = false;
}

/* splitmix64: one step of a Weyl sequence, then a mixing function. */
static uint64_t next_random(hp__restart *r)
{
    uint64_t z = (r->prng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static bool policy_restarts(hp__restart_policy policy, bool abnormal)
{
    if (policy == HP__RESTART_PERMANENT) return true;
    return policy == HP__RESTART_TRANSIENT && abnormal;
}

/* Drops the restart times that left the window; `now` never goes back. */
static void slide(hp__restart *r, uint64_t now)
{
    while (r->count && r->times[r->oldest] + r->config.within_ms <= now) {
        r->oldest = (r->oldest + 1) % r->config.max_restarts;
        r->count--;
    }
}

static void count_restart(hp__restart *r, uint64_t now)
{
    r->times[(r->oldest + r->count) % r->config.max_restarts] = now;
    r->count++;
    r->restarts++;
}

/* initial · factor^(attempt−1) capped at max, in thousandths of a millisecond. */
static uint64_t backoff_micro(const hp__restart_config *c, uint32_t attempt)
{
    uint64_t cap = (uint64_t)c->max_ms * MILLI;
    uint64_t delay = (uint64_t)c->initial_ms * MILLI;
    if (c->factor_milli > MILLI)
        for (uint32_t k = 1; k < attempt && delay < cap; k++)
            delay = delay * c->factor_milli / MILLI;
    return delay < cap ? delay : cap;
}

/* A factor in [1 − jitter, 1 + jitter], in millionths. */
static uint64_t jitter_ppm(hp__restart *r)
{
    uint32_t j = r->config.jitter_ppm;
    if (!j) return PPM;
    return PPM - j + next_random(r) % (2 * (uint64_t)j + 1);
}

hp__restart_decision hp__restart_exited(hp__restart *r, bool abnormal)
{
    if (r->gave_up) return (hp__restart_decision){.action = HP__RESTART_GIVE_UP};
    if (!policy_restarts(r->config.policy, abnormal))
        return (hp__restart_decision){.action = HP__RESTART_STAY_DOWN};
    uint64_t now = hp__clock_now(&r->clock);
    slide(r, now);
    if (r->count >= r->config.max_restarts) {
        r->gave_up = true;
        r->give_ups++;
        return (hp__restart_decision){.action = HP__RESTART_GIVE_UP};
    }
    count_restart(r, now);
    uint64_t micro = backoff_micro(&r->config, r->count);
    return (hp__restart_decision){
        .action = HP__RESTART_RESTART,
        .attempt = r->count,
        .delay_ms = micro * jitter_ppm(r) / ((uint64_t)PPM * MILLI),
    };
}
