/* See rate_limit.h for the algorithm, its units and the header fields. */
#include "core/rate_limit.h"

#include "hostpool/errors.h"

#include <stdio.h>

int hp__rate_config_check(const hp__rate_config *config)
{
    if (config->requests == 0 || config->requests > HP__RATE_MAX_REQUESTS) return HP_EINVAL;
    if (config->burst > HP__RATE_MAX_BURST) return HP_EINVAL;
    if (config->per_ms == 0 || config->per_ms > HP__RATE_MAX_PERIOD_MS) return HP_EINVAL;
    if (config->block_for_ms > HP__RATE_MAX_PERIOD_MS) return HP_EINVAL;
    return 0;
}

uint32_t hp__rate_capacity(const hp__rate_config *config)
{
    return config->requests + config->burst;
}

/* tau + T: the TAT may run at most this far ahead of now after a request passes. */
static uint64_t allowance(const hp__rate_config *config)
{
    return (uint64_t)hp__rate_capacity(config) * config->per_ms;
}

/* A span in 1/requests ms into whole ms, rounded up. */
static uint64_t ms_up(uint64_t units, const hp__rate_config *config)
{
    return (units + config->requests - 1) / config->requests;
}

/* Until the bucket is full again, in ms. */
static uint64_t refill_ms(const hp__rate_state *state, uint64_t now_ms,
                          const hp__rate_config *config)
{
    uint64_t t = now_ms * config->requests;
    return state->tat > t ? ms_up(state->tat - t, config) : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static void refuse(hp__rate_state *state, uint64_t now_ms, const hp__rate_config *config,
                   uint64_t retry_after_ms, hp__rate_decision *decision)
{
    hp__rate_verdict verdict = HP__RATE_LIMITED;
    if (now_ms < state->blocked_until) {
        verdict = HP__RATE_BLOCKED;
        retry_after_ms = state->blocked_until - now_ms;
    } else if (config->block_for_ms) {
        state->blocked_until = now_ms + config->block_for_ms;
        retry_after_ms = max_u64(retry_after_ms, config->block_for_ms);
    }
    *decision = (hp__rate_decision){
        .verdict = verdict,
        .remaining = 0,
        .retry_after_ms = retry_after_ms,
        .reset_ms = max_u64(refill_ms(state, now_ms, config), retry_after_ms),
    };
}

void hp__rate_decide(hp__rate_state *state, uint64_t now_ms, const hp__rate_config *config,
                     uint32_t cost, hp__rate_decision *decision)
{
    if (now_ms < state->blocked_until) {
        refuse(state, now_ms, config, 0, decision);
        return;
    }
    uint64_t t = now_ms * config->requests;
    uint64_t limit = t + allowance(config);
    uint64_t tat = max_u64(state->tat, t) + (uint64_t)cost * config->per_ms;
    if (tat > limit) {
        refuse(state, now_ms, config, ms_up(tat - limit, config), decision);
        return;
    }
    state->tat = tat;
    *decision = (hp__rate_decision){
        .verdict = HP__RATE_ALLOWED,
        .remaining = (uint32_t)((limit - tat) / config->per_ms),
        .retry_after_ms = 0,
        .reset_ms = refill_ms(state, now_ms, config),
    };
}

uint64_t hp__rate_state_idle_at(const hp__rate_state *state, const hp__rate_config *config)
{
    return max_u64(ms_up(state->tat, config), state->blocked_until);
}

bool hp__rate_state_idle(const hp__rate_state *state, uint64_t now_ms,
                         const hp__rate_config *config)
{
    return hp__rate_state_idle_at(state, config) <= now_ms;
}

static uint64_t seconds_up(uint64_t ms)
{
    return ms / 1000 + (ms % 1000 != 0);
}

uint64_t hp__rate_retry_after_seconds(uint64_t retry_after_ms)
{
    return max_u64(seconds_up(retry_after_ms), 1);
}

/* Writes `"name"` (a structured-field string) at buf; returns its length, or HP_EINVAL /
 * HP_ELIMIT. */
static int put_name(char *buf, size_t size, const char *name)
{
    size_t n = 0;
    if (size < 1) return HP_ELIMIT;
    buf[n++] = '"';
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e) return HP_EINVAL;
        if (c == '"' || c == '\\') {
            if (n + 1 >= size) return HP_ELIMIT;
            buf[n++] = '\\';
        }
        if (n + 1 >= size) return HP_ELIMIT;
        buf[n++] = (char)c;
    }
    if (n + 1 >= size) return HP_ELIMIT;
    buf[n++] = '"';
    buf[n] = '\0';
    return (int)n;
}

/* The name, then the parameters printf writes. */
static int put_field(char *buf, size_t size, const char *name, const char *params, uint64_t a,
                     uint64_t b)
{
    int n = put_name(buf, size, name);
    if (n < 0) {
        if (size) buf[0] = '\0';
        return n;
    }
    int more =
        snprintf(buf + n, size - (size_t)n, params, (unsigned long long)a, (unsigned long long)b);
    if (more < 0 || (size_t)more >= size - (size_t)n) {
        buf[0] = '\0';
        return HP_ELIMIT;
    }
    return n + more;
}

int hp__rate_policy_field(char *buf, size_t size, const char *name, const hp__rate_config *config)
{
    uint64_t window_s = max_u64(seconds_up(config->per_ms), 1);
    return put_field(buf, size, name, ";q=%llu;w=%llu", config->requests, window_s);
}

int hp__rate_limit_field(char *buf, size_t size, const char *name,
                         const hp__rate_decision *decision)
{
    return put_field(buf, size, name, ";r=%llu;t=%llu", decision->remaining,
                     seconds_up(decision->reset_ms));
}
