/* The supervisor's restart decisions for one supervised process: restart it, leave it down,
 * or give up; and after how long.
 *
 * Anchors: Erlang/OTP supervisors (the policies, and "intensity" restarts within a period)
 * and systemd (Restart=, RestartSec with RestartSteps/RestartMaxDelaySec, StartLimitBurst /
 * StartLimitIntervalSec). This file only decides; it starts, stops and times nothing. The
 * caller's contract:
 *   hp__restart_init          when the server is set up; the caller then starts the process
 *   d = hp__restart_exited(r, abnormal)   each time the process exits (abnormal: a non-zero
 *                             exit code or a signal; a spawn that failed counts as an abnormal
 *                             exit, so a command that cannot start backs off and gives up too)
 *     d.action RESTART:   start it again d.delay_ms from now (event process.restarting with
 *                         d.attempt and d.delay_ms; 503 with Retry-After meanwhile)
 *     d.action STAY_DOWN: the policy does not restart it (the server is stopped)
 *     d.action GIVE_UP:   too many restarts: the server is `failed` (503, process.giveup)
 *   hp__restart_reset         a manual start: the restart count is cleared, and a given-up
 *                             process may be restarted again
 * A manual stop is not an exit to decide on: the caller does not call exited for it.
 *
 * The rules, for an exit at `now` (the clock's time, read in exited):
 * 1. Policy: `temporary` never restarts; `transient` restarts only after an abnormal exit;
 *    `permanent` always. When the policy says no: STAY_DOWN, and nothing is counted.
 * 2. Window: a restart is counted at the exit that decided it. Restarts counted at t with
 *    t + within ≤ now have left the window (it slides; nothing is reset at fixed times).
 *    With n restarts still in the window: n ≥ max_restarts → GIVE_UP (so with max_restarts
 *    10, the 11th restarting exit within `within` gives up; max_restarts 0: the first one
 *    does, as OTP's intensity 0). Once given up, every exit answers GIVE_UP until a reset.
 * 3. Otherwise RESTART, attempt k = n + 1, and the delay is initial · factor^(k−1), capped at
 *    max, then multiplied by a jitter factor drawn uniformly in [1 − jitter, 1 + jitter].
 * Design choice (the question "does a process that stayed up long start again from
 * `initial`?"): k is the number of restarts still in the window, not a count since the last
 * reset. So the backoff decays as old crashes leave the window, and a process that stayed up
 * for `within` since its last restart starts again from `initial` (attempt 1), as systemd's
 * and OTP's sliding windows forget old crashes. One consequence: a process that crashes less
 * often than once per `within` restarts after ~initial every time, never backing off.
 *
 * Jitter comes after the cap, so the delay may reach max · (1 + jitter): many processes that
 * all reached `max` still spread out instead of restarting in the same millisecond. The
 * jitter factor is drawn from splitmix64 seeded by the caller (give each process its own
 * seed; sim tests give fixed seeds and see the same delays every run), in steps of one
 * millionth; the delay is rounded down to the millisecond.
 *
 * Arithmetic: the backoff is kept in thousandths of a millisecond (factor_milli steps are
 * exact, 100 ms × 1.5^4 is 506 ms, not 505 from rounding each step), in 64 bits: with the
 * ranges the check enforces, no product overflows.
 *
 * Memory: the restart times are a ring of max_restarts entries, allocated at init and freed
 * at close; exited allocates nothing. A ring is enough: n < max_restarts when a restart is
 * counted, so the entry it overwrites has left the window.
 *
 * Threading: one thread, the one that supervises the process (the control loop). */
#ifndef HP_CORE_RESTART_H
#define HP_CORE_RESTART_H

#include "core/clock.h"

#include <stdbool.h>
#include <stdint.h>

#define HP__RESTART_DEFAULT_INITIAL_MS 100
#define HP__RESTART_DEFAULT_MAX_MS 5000
#define HP__RESTART_DEFAULT_FACTOR_MILLI 2000
#define HP__RESTART_DEFAULT_JITTER_PPM 100000
#define HP__RESTART_DEFAULT_MAX_RESTARTS 10
#define HP__RESTART_DEFAULT_WITHIN_MS 60000

/* Bounds the check enforces (the ring's size and the arithmetic's range). */
#define HP__RESTART_MAX_MAX_RESTARTS 1000
#define HP__RESTART_MAX_FACTOR_MILLI 1000000

typedef enum {
    HP__RESTART_PERMANENT, /* after any exit */
    HP__RESTART_TRANSIENT, /* after an abnormal exit only */
    HP__RESTART_TEMPORARY, /* never */
} hp__restart_policy;

typedef struct hp__restart_config {
    hp__restart_policy policy;
    uint32_t initial_ms;   /* > 0 */
    uint32_t max_ms;       /* ≥ initial_ms */
    uint32_t factor_milli; /* 1000..HP__RESTART_MAX_FACTOR_MILLI (2.0 is 2000) */
    uint32_t jitter_ppm;   /* 0..999,999 (0.1 is 100,000) */
    uint32_t max_restarts; /* 0..HP__RESTART_MAX_MAX_RESTARTS, within the window */
    uint32_t within_ms;    /* > 0: the sliding window */
} hp__restart_config;

/* The issue's: permanent, 100 ms, 5 s, factor 2, jitter 0.1, 10 restarts within 60 s. */
void hp__restart_config_default(hp__restart_config *config);
/* HP_EINVAL when a field is out of its range above. */
int hp__restart_config_check(const hp__restart_config *config);

/* "permanent", "transient", "temporary" (the config's words); "?" otherwise. */
const char *hp__restart_policy_name(hp__restart_policy policy);
/* The policy named `name` into *policy; HP_EINVAL (and *policy untouched) for another name. */
int hp__restart_policy_parse(const char *name, hp__restart_policy *policy);

typedef enum {
    HP__RESTART_RESTART,   /* start it again after delay_ms */
    HP__RESTART_STAY_DOWN, /* the policy does not restart it */
    HP__RESTART_GIVE_UP,   /* too many restarts within the window */
} hp__restart_action;

typedef struct hp__restart_decision {
    hp__restart_action action;
    uint32_t attempt;  /* RESTART: k, the restarts in the window counting this one; else 0 */
    uint64_t delay_ms; /* RESTART: the jittered backoff; else 0 */
} hp__restart_decision;

typedef struct hp__restart {
    hp__restart_config config;
    hp__clock clock;
    uint64_t *times; /* ring of max_restarts restart times (NULL when max_restarts is 0) */
    uint32_t oldest; /* index of the oldest time in the ring */
    uint32_t count;  /* times in the ring, not yet pruned */
    bool gave_up;
    uint64_t prng;               /* splitmix64 state */
    uint64_t restarts, give_ups; /* counters since init */
} hp__restart;

/* Nothing counted. The config is copied; HP_EINVAL (and nothing to close) when it fails the
 * check. The clock is copied (a virtual clock's hp__vclock must outlive r). */
int hp__restart_init(hp__restart *r, hp__clock clock, const hp__restart_config *config,
                     uint64_t seed);
/* Frees the ring; a second close is a no-op. */
void hp__restart_close(hp__restart *r);

/* The process exited now; abnormal: a non-zero code, a signal, or a failed spawn. */
hp__restart_decision hp__restart_exited(hp__restart *r, bool abnormal);
/* A manual start: no restart in the window any more, and not given up. */
void hp__restart_reset(hp__restart *r);

/* Whether the last restarting exit gave up (and no reset came since). */
static inline bool hp__restart_gave_up(const hp__restart *r)
{
    return r->gave_up;
}

#endif
