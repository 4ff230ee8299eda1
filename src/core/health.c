/* See health.h for the states, the transitions and the invariants. */
#include "core/health.h"

#include "hostpool/errors.h"

void hp__health_config_default(hp__health_config *config)
{
    *config = (hp__health_config){
        .interval_ms = HP__HEALTH_DEFAULT_INTERVAL_MS,
        .timeout_ms = HP__HEALTH_DEFAULT_TIMEOUT_MS,
        .rise = HP__HEALTH_DEFAULT_RISE,
        .fall = HP__HEALTH_DEFAULT_FALL,
    };
}

int hp__health_config_check(const hp__health_config *config)
{
    if (!config->interval_ms || !config->timeout_ms || !config->rise || !config->fall)
        return HP_EINVAL;
    if (config->fast_for_ms &&
        (!config->fast_interval_ms || config->fast_interval_ms > config->interval_ms))
        return HP_EINVAL;
    return 0;
}

void hp__health_init(hp__health *h, uint32_t rise, uint32_t fall, hp__health_change_cb on_change,
                     void *data)
{
    *h = (hp__health){
        .rise = rise,
        .fall = fall,
        .state = HP__HEALTH_UNKNOWN,
        .on_change = on_change,
        .data = data,
    };
}

static void set_state(hp__health *h, hp__health_state to)
{
    hp__health_state from = (hp__health_state)h->state;
    if (from == to) return;
    h->state = (uint8_t)to;
    if (h->on_change) h->on_change(h, from, to, h->data);
}

static hp__health_state after_success(const hp__health *h)
{
    switch ((hp__health_state)h->state) {
    case HP__HEALTH_WARN:
        return HP__HEALTH_OK;
    case HP__HEALTH_UNKNOWN:
    case HP__HEALTH_KO:
        return h->successes >= h->rise ? HP__HEALTH_OK : (hp__health_state)h->state;
    default:
        return (hp__health_state)h->state;
    }
}

static hp__health_state after_failure(const hp__health *h)
{
    if (h->failures >= h->fall) return HP__HEALTH_KO;
    return h->state == HP__HEALTH_OK ? HP__HEALTH_WARN : (hp__health_state)h->state;
}

hp__health_state hp__health_record(hp__health *h, bool ok)
{
    h->checks++;
    if (ok) {
        h->failures = 0;
        if (h->successes < UINT32_MAX) h->successes++;
        set_state(h, after_success(h));
    } else {
        h->successes = 0;
        if (h->failures < UINT32_MAX) h->failures++;
        set_state(h, after_failure(h));
    }
    return (hp__health_state)h->state;
}

void hp__health_reset(hp__health *h)
{
    h->successes = 0;
    h->failures = 0;
    set_state(h, HP__HEALTH_UNKNOWN);
}

const char *hp__health_state_name(hp__health_state state)
{
    switch (state) {
    case HP__HEALTH_UNKNOWN:
        return "unknown";
    case HP__HEALTH_OK:
        return "ok";
    case HP__HEALTH_WARN:
        return "warn";
    case HP__HEALTH_KO:
        return "ko";
    }
    return "?";
}

hp__health_state hp__health_aggregate(const hp__health_state *states, size_t n)
{
    size_t known = 0, ok = 0, ko = 0;
    for (size_t i = 0; i < n; i++) {
        if (states[i] == HP__HEALTH_UNKNOWN) continue;
        known++;
        if (states[i] == HP__HEALTH_OK) ok++;
        if (states[i] == HP__HEALTH_KO) ko++;
    }
    if (n == 0) return HP__HEALTH_OK;
    if (known == 0) return HP__HEALTH_UNKNOWN;
    if (ok == known) return HP__HEALTH_OK;
    if (ko == known) return HP__HEALTH_KO;
    return HP__HEALTH_WARN;
}
