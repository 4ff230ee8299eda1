/* Passive health of one upstream target: nginx's `max_fails` and `fail_timeout`, exactly as
 * nginx's round robin implements them (ngx_http_upstream_round_robin.c), in milliseconds.
 *
 * No probes: the proxy reports what its own requests saw (hp__passive_report: failed or
 * not; what counts as a failure is the proxy's, docs/PROXY.md) and tells when it picked the
 * target (hp__passive_picked). Three fields, nginx's names in brackets:
 *   fails       failures counted [fails]
 *   failed_at   the last failure [accessed]
 *   checked_at  the last failure, or the last pick made ≥ fail_timeout after checked_at [checked]
 *
 * The rules (with max_fails > 0):
 * - A failure: fails + 1, failed_at = checked_at = now. When fails ≥ max_fails the target is
 *   out until checked_at + fail_timeout: out for fail_timeout from its last failure (a late
 *   failure while out, from a request picked before, restarts that time, as in nginx).
 * - A pick ≥ fail_timeout after checked_at sets checked_at = now. If the target had reached
 *   max_fails, that pick is its trial: one request goes through and the target is out again
 *   (for fail_timeout from the pick, or until the trial succeeds).
 * - A success resets fails to 0 only if checked_at > failed_at: a pick came at least
 *   fail_timeout after the last failure. So the trial's success brings the target back at
 *   once; a success soon after a failure does not forgive it; and failures further apart than
 *   fail_timeout still add up when no request picked after such a quiet time succeeded.
 *   In words nginx's documentation uses: "max_fails unsuccessful attempts within
 *   fail_timeout take the server out for fail_timeout", with the counting above.
 * - max_fails = 0 turns all of it off (never out, nothing counted), as in nginx.
 *
 * Differences from nginx: time is in milliseconds, not seconds, and "out for fail_timeout" is
 * the half-open interval [checked_at, checked_at + fail_timeout) (nginx's `now - checked <=
 * fail_timeout` in whole seconds keeps it out to the end of that second). nginx also lowers a
 * failing target's weight for a while (effective_weight); the balancers here do not.
 *
 * Reporting: whether the target may be picked changes at known times (a failure, a trial
 * pick, a success, the end of fail_timeout), so the change is reported then through the
 * callback (the proxy sets HP__BALANCE_OUT_PASSIVE on its balancer and publishes
 * upstream.target_down / target_up). The end of fail_timeout is a timer on the scheduler.
 *
 * Cost: picked and report are a few compares and stores; a timer is added or cancelled
 * (O(log timers), no allocation in steady state) only when the target goes out or back.
 *
 * Threading: one thread, the one that drives the scheduler (the target's worker). */
#ifndef HP_CORE_PASSIVE_H
#define HP_CORE_PASSIVE_H

#include "core/sched.h"

#include <stdbool.h>
#include <stdint.h>

#define HP__PASSIVE_DEFAULT_MAX_FAILS 3
#define HP__PASSIVE_DEFAULT_FAIL_TIMEOUT_MS 10000

typedef struct hp__passive_config {
    uint32_t max_fails;       /* 0: off */
    uint32_t fail_timeout_ms; /* > 0 unless max_fails is 0 */
} hp__passive_config;

void hp__passive_config_default(hp__passive_config *config);
/* HP_EINVAL when max_fails > 0 and fail_timeout_ms is 0. */
int hp__passive_config_check(const hp__passive_config *config);

typedef struct hp__passive hp__passive;

/* The target may be picked (available) or not, from now on. */
typedef void (*hp__passive_change_cb)(hp__passive *p, bool available, void *data);

struct hp__passive {
    hp__passive_config config;
    hp__sched *sched;
    uint32_t fails;
    uint64_t failed_at, checked_at;
    uint64_t back_timer; /* the end of fail_timeout while out, else 0 */
    bool available;
    uint64_t taken_out;              /* times it went out */
    hp__passive_change_cb on_change; /* may be NULL */
    void *data;
};

/* Available, nothing counted. The config is copied and must pass the check. */
void hp__passive_init(hp__passive *p, hp__sched *sched, const hp__passive_config *config,
                      hp__passive_change_cb on_change, void *data);
/* Cancels the timer; reports nothing. */
void hp__passive_close(hp__passive *p);

/* The target was picked for a request (call it for every pick). */
void hp__passive_picked(hp__passive *p);
/* A request to the target ended: failed or not. */
void hp__passive_report(hp__passive *p, bool failed);

static inline bool hp__passive_available(const hp__passive *p)
{
    return p->available;
}

#endif
