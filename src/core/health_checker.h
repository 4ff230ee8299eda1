/* Runs health checks of one target on a schedule and feeds their results to an hp__health.
 *
 * The check itself is the caller's: a probe function starts one check (the pool connects to
 * the server's bind address) and answers later, or at once, with
 * hp__health_checker_done(c, seq, ok). The checker owns the timing:
 *
 * - Cadence: the first check starts at hp__health_checker_start() (t0), the second at
 *   t0 + `phase_ms` (given to start; 0 means one interval), then one every `interval_ms` from
 *   there, whatever the probes' latency, so state changes happen at predictable times. The
 *   phase spreads the checks of targets started together (a pool starting 10,000 servers)
 *   over the interval instead of probing them all at the same instant, as HAProxy spreads
 *   its checks. With `fast_for_ms`, the ticks due within that long of the start come every
 *   `fast_interval_ms` instead (the phase is then not used), the cadence going on from the
 *   last of them. If the control loop was late by
 *   whole intervals, the missed ticks are not replayed: the next one is the first tick of
 *   the same cadence after `now`.
 * - Timeout: a check not answered within `timeout_ms` of its start is recorded as a failure
 *   at that moment, and the probe is told to give up (the optional cancel function).
 * - No overlap: at most one probe of a target is in flight. A tick that finds the previous
 *   probe still running (only possible when timeout_ms > interval_ms) starts nothing and is
 *   counted in `skipped`; the next check starts at the following tick. A timeout due at the
 *   same time as a tick is recorded before the tick, so timeout == interval skips nothing.
 * - Stale answers: every probe has a sequence number. An answer whose number is not the one
 *   in flight (it timed out, or the checker was stopped) is ignored and counted in `stale`.
 * - Stop: cancels the pending tick and timeout timers and the probe in flight; afterwards
 *   nothing runs and answers are ignored. The state stays as it was (the last known
 *   health). Starting again begins from UNKNOWN (reported if it was something else);
 *   answers to probes of before the stop stay stale.
 *
 *   per check:  tick ──probe()──▶ IN FLIGHT ──done(seq, ok)──────▶ record ok/fail
 *                                     │
 *                                     └──timeout_ms──▶ cancel() ─▶ record fail
 *
 * Re-entrancy: the probe may answer from inside probe(); the change callback may stop the
 * checker (or start it again); cancel() may answer (it is ignored).
 *
 * Lifetime: the checker is caller-owned and allocates nothing. The prober must not call
 * hp__health_checker_done() once the checker's memory is gone: stop the checker first, and
 * drop the probe in cancel(), which stop calls for a probe in flight.
 *
 * Threading: one thread, the one that drives the scheduler (the control loop). */
#ifndef HP_CORE_HEALTH_CHECKER_H
#define HP_CORE_HEALTH_CHECKER_H

#include "core/health.h"
#include "core/sched.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct hp__health_checker hp__health_checker;

typedef struct hp__health_probe_ops {
    /* Starts one check of `target`; its answer is hp__health_checker_done(c, seq, ok). */
    void (*probe)(hp__health_checker *c, uint64_t seq, void *target);
    /* Optional (may be NULL): the checker gave up on probe `seq` (timeout or stop); release
     * what it holds. An answer for it would be ignored. */
    void (*cancel)(hp__health_checker *c, uint64_t seq, void *target);
} hp__health_probe_ops;

struct hp__health_checker {
    hp__health health; /* state and counters; read them here */
    hp__health_config config;
    hp__sched *sched;
    const hp__health_probe_ops *ops;
    void *target;
    uint64_t tick_timer;    /* scheduler id of the next tick, 0 when none */
    uint64_t timeout_timer; /* scheduler id of the in-flight probe's timeout, 0 when none */
    uint64_t next_tick;     /* due time of the next tick */
    uint64_t fast_until;    /* ticks due before this come every fast_interval_ms */
    uint64_t seq;           /* number of the last probe started; 0 before the first */
    bool running;
    bool in_flight; /* probe `seq` has not answered, timed out or been cancelled */
    /* Statistics, never reset. */
    uint64_t probes;   /* probes started */
    uint64_t timeouts; /* probes recorded as failures for not answering in time */
    uint64_t skipped;  /* ticks that found a probe in flight */
    uint64_t stale;    /* answers ignored */
};

/* Prepares a stopped checker: health UNKNOWN, nothing scheduled. `config` is copied; `sched`
 * and `ops` are borrowed and must outlive the checker; `target` is passed to the probe
 * functions. on_change (may be NULL) receives every change of health->state, as in
 * health.h. HP_EINVAL for a config that hp__health_config_check refuses or a NULL probe. */
int hp__health_checker_init(hp__health_checker *c, hp__sched *sched,
                            const hp__health_config *config, const hp__health_probe_ops *ops,
                            void *target, hp__health_change_cb on_change, void *data);
/* Resets the health to UNKNOWN and starts the first check now (at the scheduler's clock).
 * HP_ESTATE when already running. */
int hp__health_checker_start(hp__health_checker *c, uint64_t phase_ms);
/* Idempotent; see "Stop" above. */
void hp__health_checker_stop(hp__health_checker *c);
/* The answer to probe `seq`. Ignored unless it is the probe in flight of a running checker. */
void hp__health_checker_done(hp__health_checker *c, uint64_t seq, bool ok);

static inline hp__health_state hp__health_checker_state(const hp__health_checker *c)
{
    return (hp__health_state)c->health.state;
}

#endif
