/* A circuit breaker for one upstream target: closed → open → half-open → closed.
 *
 * What "circuit breaker" means here (users of Envoy, Hystrix and Traefik mean different
 * things): a per-target switch that stops sending requests to a target that is failing, for a
 * while, and then tests it with a few requests before trusting it again. It is not a cap on
 * concurrency (Envoy's "circuit breakers" are caps: max_pending / max_in_flight are separate
 * settings of the upstream), and it does not retry.
 *
 * The caller's contract, per request to the target:
 *   ticket = hp__breaker_acquire(b)   before anything is sent; HP__BREAKER_REFUSED (0) means
 *                                     the breaker refuses: answer 503 without touching the
 *                                     target (or pick another target)
 *   hp__breaker_report(b, ticket, outcome)   exactly once per ticket, when the outcome is
 *                                     known: SUCCESS, FAILURE, or ABANDONED (the request
 *                                     ended without saying anything about the target, e.g.
 *                                     the client left first)
 * What is a failure is the proxy's decision (docs/PROXY.md: a connect error, a reset or a
 * malformed response, a timeout, a 5xx from the target; not a 4xx); this file only counts.
 *
 * States (the callback reports every change, after the fields are updated):
 * - CLOSED: every request is admitted. Each outcome is counted; the breaker opens when either
 *   rule holds after an outcome, a success too (each rule can be turned off):
 *     consecutive: `failures` failures in a row (a success restarts the count; 0: off);
 *     ratio: at least `min_requests` outcomes in the window and failures ≥ error_ratio of
 *     them (exactly: failures × 10⁶ ≥ error_ratio_ppm × outcomes; 0 ppm: off). The
 *     outcome that brings the window to min_requests may be a success and still open it
 *     (10 failures, then the 10th success of a window of 20 at 0.5), as resilience4j does:
 *     the rule is about the window, not about the last outcome.
 * - OPEN: every request is refused at once. After `open_for` (a timer on the scheduler) the
 *   breaker is HALF_OPEN.
 * - HALF_OPEN: the first `trials` requests are admitted, the trials; the rest are refused
 *   while they run. When all `trials` trials succeeded → CLOSED (counts start from zero);
 *   at the first trial that fails → OPEN again, for a new `open_for` from that failure. A
 *   trial ABANDONED gives its place to another request.
 * Outcomes that belong to an earlier state are ignored (counted in `stale`): the ticket is
 * the number of the state period it was acquired in, so a request admitted while closed that
 * fails after the breaker opened is not taken for a trial, nor counted in a later closed
 * period.
 *
 * The window: `window_ms` in HP__BREAKER_BUCKETS buckets of window_ms / 10 each (bounded
 * memory, no allocation); an outcome is in the window while fewer than 10 bucket boundaries
 * (multiples of the bucket width on the clock) passed since it, so the window is between
 * 0.9 × and 1 × window_ms long, sliding by a bucket at a time.
 *
 * Defaults (the issue's): failures 5, error_ratio 0.5, min_requests 20, window 10 s,
 * open_for 30 s, trials 3.
 *
 * Cost: acquire is a switch and a compare; report reads the scheduler's clock (on a worker,
 * libuv's cached loop time), divides once for the bucket, clears the buckets passed since the
 * last report (at most 10, usually none) and compares two products. A transition adds or
 * cancels one timer.
 *
 * Threading: one thread, the one that drives the scheduler (the target's worker). */
#ifndef HP_CORE_BREAKER_H
#define HP_CORE_BREAKER_H

#include "core/sched.h"

#include <stdbool.h>
#include <stdint.h>

#define HP__BREAKER_BUCKETS 10
#define HP__BREAKER_REFUSED 0

#define HP__BREAKER_DEFAULT_FAILURES 5
#define HP__BREAKER_DEFAULT_ERROR_RATIO_PPM 500000
#define HP__BREAKER_DEFAULT_MIN_REQUESTS 20
#define HP__BREAKER_DEFAULT_WINDOW_MS 10000
#define HP__BREAKER_DEFAULT_OPEN_FOR_MS 30000
#define HP__BREAKER_DEFAULT_TRIALS 3

typedef enum {
    HP__BREAKER_CLOSED,
    HP__BREAKER_OPEN,
    HP__BREAKER_HALF_OPEN,
} hp__breaker_state;

typedef enum {
    HP__BREAKER_SUCCESS,
    HP__BREAKER_FAILURE,
    HP__BREAKER_ABANDONED,
} hp__breaker_outcome;

/* Why the breaker last opened. */
typedef enum {
    HP__BREAKER_OPENED_BY_FAILURES, /* consecutive failures */
    HP__BREAKER_OPENED_BY_RATIO,    /* the error ratio over the window */
    HP__BREAKER_OPENED_BY_TRIAL,    /* a half-open trial failed */
} hp__breaker_reason;

typedef struct hp__breaker_config {
    uint32_t failures;        /* in a row; 0: rule off */
    uint32_t error_ratio_ppm; /* 0..1,000,000 (0.5 is 500,000); 0: rule off */
    uint32_t min_requests;    /* outcomes in the window before the ratio counts */
    uint32_t window_ms;       /* > 0, a multiple of HP__BREAKER_BUCKETS */
    uint32_t open_for_ms;     /* > 0 */
    uint32_t trials;          /* > 0 */
} hp__breaker_config;

void hp__breaker_config_default(hp__breaker_config *config);
/* HP_EINVAL when a field is out of its range above. */
int hp__breaker_config_check(const hp__breaker_config *config);

typedef struct hp__breaker hp__breaker;
typedef uint32_t hp__breaker_ticket;

typedef void (*hp__breaker_change_cb)(hp__breaker *b, hp__breaker_state from, hp__breaker_state to,
                                      void *data);

typedef struct hp__breaker_bucket {
    uint32_t outcomes, failures;
} hp__breaker_bucket;

struct hp__breaker {
    hp__breaker_config config;
    hp__sched *sched;
    uint8_t state;     /* hp__breaker_state */
    uint8_t reason;    /* hp__breaker_reason, when it last opened */
    uint32_t period;   /* the state period; tickets carry it; never 0 */
    uint32_t in_a_row; /* consecutive failures while closed */
    hp__breaker_bucket buckets[HP__BREAKER_BUCKETS];
    uint64_t bucket_epoch;       /* clock / bucket width of the newest bucket */
    uint32_t outcomes, failures; /* sums over the buckets */
    uint32_t trials_started, trials_passed;
    uint64_t half_open_timer;        /* while OPEN */
    uint64_t refused, opened, stale; /* counters since init */
    hp__breaker_change_cb on_change; /* may be NULL */
    void *data;
};

/* CLOSED with nothing counted. The config is copied and must pass the check. */
void hp__breaker_init(hp__breaker *b, hp__sched *sched, const hp__breaker_config *config,
                      hp__breaker_change_cb on_change, void *data);
/* Cancels the timer; reports nothing. */
void hp__breaker_close(hp__breaker *b);

/* A ticket for one request, or HP__BREAKER_REFUSED. */
hp__breaker_ticket hp__breaker_acquire(hp__breaker *b);
void hp__breaker_report(hp__breaker *b, hp__breaker_ticket ticket, hp__breaker_outcome outcome);

/* Would acquire admit a request now? CLOSED, or HALF_OPEN with a trial place free. The proxy
 * keeps HP__BALANCE_OUT_BREAKER set while this is false, so balancing skips the target. */
bool hp__breaker_admits(const hp__breaker *b);

static inline hp__breaker_state hp__breaker_state_of(const hp__breaker *b)
{
    return (hp__breaker_state)b->state;
}

/* "closed", "open", "half_open" (as in the events breaker.open...); "?" otherwise. */
const char *hp__breaker_state_name(hp__breaker_state state);
/* "failures", "error_ratio", "trial"; "?" otherwise. */
const char *hp__breaker_reason_name(hp__breaker_reason reason);

#endif
