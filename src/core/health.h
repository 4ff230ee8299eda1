/* The health of one target (a server, later an upstream) as a state machine over check
 * results, with hysteresis: `rise` consecutive successes to be trusted, `fall` consecutive
 * failures to be given up on (HAProxy's rise/fall; golib's monitor OK/Warn/KO).
 *
 * This file is only the state machine: it is fed results (hp__health_record) and knows no
 * time. hp__health_checker (health_checker.h) runs the checks on a schedule.
 *
 * States and transitions (counters count results in a row):
 *
 *                 ┌──────── s ────────┐
 *                 ▼                   │
 *   UNKNOWN ──rise s──▶ OK ────f────▶ WARN ──f, making fall──▶ KO
 *      │                ▲  └──f, when fall == 1──────────────▶ │
 *      │                └──────────────rise s─────────────────┤
 *      └──fall f──────────────────────────────────────────────▶┘
 *
 *   state     on a success                     on a failure
 *   UNKNOWN   OK when successes reach rise     KO when failures reach fall
 *   OK        stays OK                         WARN (KO at once if fall == 1)
 *   WARN      OK, failures reset               KO when failures reach fall
 *   KO        OK when successes reach rise     stays KO, successes reset
 *
 * - UNKNOWN is the state of a new target: nothing is known yet. It becomes OK after `rise`
 *   successes in a row or KO after `fall` failures in a row, whichever comes first (a result
 *   of the other kind restarts the count). Unlike HAProxy, which starts a server UP, a
 *   server new in a pool is not assumed healthy.
 * - OK + a failure → WARN, the failure counted (→ KO at once when fall == 1).
 * - WARN + a failure → KO when that makes `fall` in a row, else stays WARN.
 *   WARN + a success → OK, the failure count reset: one success is enough, the target was
 *   not yet given up on.
 * - KO + successes: the state stays KO until `rise` successes in a row, then → OK (a failure
 *   restarts the count). The counters show the recovery in progress.
 *
 * Invariants after every result: at most one of `successes` and `failures` is non-zero;
 * OK ⇒ failures == 0; WARN ⇒ 1 ≤ failures < fall; KO ⇒ successes < rise;
 * UNKNOWN ⇒ successes < rise and failures < fall.
 *
 * Every change of state is reported once through the change callback, with the old and the
 * new state, after the fields are updated (the pool publishes it as `server.health`). A
 * result that does not change the state reports nothing.
 *
 * Threading: one thread (the control loop). */
#ifndef HP_CORE_HEALTH_H
#define HP_CORE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HP__HEALTH_UNKNOWN,
    HP__HEALTH_OK,
    HP__HEALTH_WARN,
    HP__HEALTH_KO,
} hp__health_state;

typedef struct hp__health_config {
    uint32_t interval_ms; /* time between the starts of two checks */
    uint32_t timeout_ms;  /* a check not answered by then is a failure */
    uint32_t rise;        /* successes in a row to become OK */
    uint32_t fall;        /* failures in a row to become KO */
    /* Optional: for the first `fast_for_ms` after a start, checks every `fast_interval_ms`
     * (≤ interval_ms) instead: a supervised program's readiness is seen within a few
     * milliseconds of its boot, and a slow one is not probed fast for long. 0: off. */
    uint32_t fast_interval_ms;
    uint32_t fast_for_ms;
} hp__health_config;

/* HAProxy's `inter 2s rise 2 fall 3`, with a 1 s check timeout. */
#define HP__HEALTH_DEFAULT_INTERVAL_MS 2000
#define HP__HEALTH_DEFAULT_TIMEOUT_MS 1000
#define HP__HEALTH_DEFAULT_RISE 2
#define HP__HEALTH_DEFAULT_FALL 3

void hp__health_config_default(hp__health_config *config);
/* HP_EINVAL when a field is 0. (A timeout longer than the interval is valid: checks that
 * would overlap are skipped, see health_checker.h.) */
int hp__health_config_check(const hp__health_config *config);

typedef struct hp__health hp__health;

typedef void (*hp__health_change_cb)(hp__health *h, hp__health_state from, hp__health_state to,
                                     void *data);

struct hp__health {
    uint32_t rise, fall;
    uint8_t state;                  /* hp__health_state */
    uint32_t successes;             /* consecutive, saturating */
    uint32_t failures;              /* consecutive, saturating */
    uint64_t checks;                /* results recorded */
    hp__health_change_cb on_change; /* may be NULL */
    void *data;
};

/* UNKNOWN with zero counters. rise and fall must be > 0. */
void hp__health_init(hp__health *h, uint32_t rise, uint32_t fall, hp__health_change_cb on_change,
                     void *data);
/* Feeds one check result; returns the state after it. */
hp__health_state hp__health_record(hp__health *h, bool ok);
/* Back to UNKNOWN with zero counters (checks kept); reports the change if there is one. */
void hp__health_reset(hp__health *h);

/* "unknown", "ok", "warn", "ko" (static strings; "?" for anything else). */
const char *hp__health_state_name(hp__health_state state);

/* The health of a set of targets (a pool of servers, an upstream's targets):
 * - the empty set is OK (nothing is failing);
 * - UNKNOWN members are left out (no evidence either way), and if every member is UNKNOWN
 *   the set is UNKNOWN;
 * - of the others: all OK → OK; all KO → KO; any other mix (a WARN, or OK with KO) → WARN,
 *   meaning degraded but not down. */
hp__health_state hp__health_aggregate(const hp__health_state *states, size_t n);

#endif
