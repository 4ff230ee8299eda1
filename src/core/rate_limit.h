/* A rate limit for one key (a client): GCRA, the generic cell rate algorithm, on a ms clock.
 *
 * The limit is `requests` per `per` with `burst`, and `block_for`. Its promise: a key may
 * send `requests + burst` requests at once (the capacity), after which its allowance comes
 * back at `requests` per `per`, evenly (one request every T = per / requests). So with
 * 10 per 1 s and no burst: 10 at once, the 11th refused until 100 ms later, and an idle
 * key is full again after 1 s. burst 0 does NOT mean one request at a time (nginx's
 * limit_req meaning): it means a period's worth at once; one at a time is requests 1.
 * Why: a limit written "5 per 1m" (a login) should let 5 tries through, not one every 12 s.
 *
 * GCRA keeps one number per key, the theoretical arrival time TAT: when the key's bucket is
 * full again. In the units below (exact integers), for a request of cost c (default 1)
 * at time t:
 *   T   = per / requests                 (the emission interval)
 *   tau = (requests + burst - 1) * T     (the tolerance)
 *   passes iff max(TAT, t) + (c - 1) * T - t <= tau; for c = 1: TAT - t <= tau
 *   then TAT = max(TAT, t) + c * T       (a refused request changes nothing)
 *   remaining = floor((t + tau + T - TAT) / T): the requests of cost 1 that would pass now
 *   reset     = TAT - t, rounded up to ms: when the bucket is full again
 *   retry_after (a refusal) = max(TAT, t) + (c - 1) * T - tau - t, rounded up to ms (> 0)
 * Units: T is not a whole number of ms in general (7 per 1 s), so times inside the state are
 * in 1/requests ms: t is now_ms * requests and T is exactly per_ms. Nothing is rounded but
 * the ms and seconds handed out. The bounds in hp__rate_config_check keep every product
 * within 64 bits for a clock below 10^13 ms (317 years).
 *
 * block_for (0: off): a refused key is refused until t + block_for whatever its TAT says
 * (verdict BLOCKED, Retry-After the rest of the block); requests refused while blocked do
 * not extend the block nor move the TAT. After the block the TAT decides again.
 *
 * A key whose TAT <= now and that is not blocked is exactly a key never seen (max(TAT, t) is
 * t): it holds no information and may be forgotten without changing any decision
 * (hp__rate_state_idle). A fresh state is all zeros.
 *
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) of a decision:
 *   RateLimit-Policy: "NAME";q=REQUESTS;w=SECONDS      (w: per in seconds, rounded up, >= 1)
 *   RateLimit: "NAME";r=REMAINING;t=RESET_SECONDS     (t: reset in seconds, rounded up)
 * and Retry-After: retry_after in seconds, rounded up, at least 1.
 *
 * Threading: pure functions; a state belongs to whoever holds it (src/core/rate_table.h
 * keeps them for every worker under per-shard locks). */
#ifndef HP_CORE_RATE_LIMIT_H
#define HP_CORE_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__RATE_MAX_REQUESTS 1000000u
#define HP__RATE_MAX_BURST 1000000u
#define HP__RATE_MAX_PERIOD_MS (366ull * 24 * 3600 * 1000) /* per and block_for */

typedef struct hp__rate_config {
    uint32_t requests;     /* 1..HP__RATE_MAX_REQUESTS */
    uint32_t burst;        /* 0..HP__RATE_MAX_BURST, extra requests at once */
    uint64_t per_ms;       /* 1..HP__RATE_MAX_PERIOD_MS */
    uint64_t block_for_ms; /* 0 (off)..HP__RATE_MAX_PERIOD_MS */
} hp__rate_config;

/* HP_EINVAL when a field is out of its range above. */
int hp__rate_config_check(const hp__rate_config *config);
/* requests + burst: the most requests of cost 1 at once, and the highest cost that can ever
 * pass. */
uint32_t hp__rate_capacity(const hp__rate_config *config);

/* One key's state: 16 bytes. */
typedef struct hp__rate_state {
    uint64_t tat;           /* in 1/requests ms; 0: never seen */
    uint64_t blocked_until; /* ms; <= now: not blocked */
} hp__rate_state;

typedef enum {
    HP__RATE_ALLOWED,
    HP__RATE_LIMITED,    /* over the rate (and, with block_for, blocked from now on) */
    HP__RATE_BLOCKED,    /* within block_for of an earlier refusal */
    HP__RATE_TABLE_FULL, /* no room for a new key (rate_table.h); nothing was counted */
} hp__rate_verdict;

typedef struct hp__rate_decision {
    hp__rate_verdict verdict;
    uint32_t remaining;      /* requests of cost 1 that would pass now, after this one */
    uint64_t retry_after_ms; /* 0 when allowed; else > 0: when this request would pass */
    uint64_t reset_ms;       /* until the key is full again and not blocked */
} hp__rate_decision;

static inline bool hp__rate_allowed(const hp__rate_decision *d)
{
    return d->verdict == HP__RATE_ALLOWED;
}

/* Decides a request of `cost` (1..capacity) at now_ms and updates the state. The config
 * must pass the check; a state must always be decided with the same requests, per and
 * burst (its TAT is in their units). */
void hp__rate_decide(hp__rate_state *state, uint64_t now_ms, const hp__rate_config *config,
                     uint32_t cost, hp__rate_decision *decision);

/* True when the state holds no information at now_ms (see above): forgetting it changes no
 * decision. */
bool hp__rate_state_idle(const hp__rate_state *state, uint64_t now_ms,
                         const hp__rate_config *config);
/* The first ms at which the state is idle. */
uint64_t hp__rate_state_idle_at(const hp__rate_state *state, const hp__rate_config *config);

/* ms into whole seconds for Retry-After: rounded up, at least 1. */
uint64_t hp__rate_retry_after_seconds(uint64_t retry_after_ms);

/* The field values above, without the field name, NUL-terminated into buf. The name is
 * written as a structured-field string: printable ASCII, `"` and `\` escaped. Return the
 * length written, or HP_EINVAL when the name has another byte, or HP_ELIMIT when buf is too
 * small (then buf holds ""). */
int hp__rate_policy_field(char *buf, size_t size, const char *name, const hp__rate_config *config);
int hp__rate_limit_field(char *buf, size_t size, const char *name,
                         const hp__rate_decision *decision);

#endif
