/* Health checks on a virtual clock (src/core/health.c, health_checker.c): the rise/fall state
 * machine, the check cadence, timeouts, no overlapping probes, stop, and the aggregate rule.
 * Deterministic and instant: time moves only through hp__sched_advance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/health.h"
#include "core/health_checker.h"
#include "core/sched.h"
#include "hostpool/errors.h"

#include <string.h>

#define T0 100000 /* the virtual clock does not start at 0, so origin mistakes show */
#define MAXP 64

/* A scripted target. Probe number k (from 1) behaves as script[k - 1], or as the last
 * character past the end: 's'/'f' answer ok/fail inside probe(); 'S'/'F' answer ok/fail
 * `delay` ms later; 'n' never answers. */
typedef struct fixture {
    hp__vclock vc;
    hp__sched sched;
    hp__health_checker c;
    const char *script;
    uint64_t delay;
    uint64_t probe_at[MAXP]; /* start time of probe k at [k] */
    size_t nprobes;
    bool outstanding[MAXP]; /* probe k neither answered nor cancelled */
    int in_flight, max_in_flight;
    uint64_t cancelled[MAXP];
    size_t ncancelled;
    struct {
        hp__health_state from, to;
        uint64_t at;
    } changes[MAXP];
    size_t nchanges;
    bool stop_on_ko;
} fixture;

typedef struct answer {
    fixture *fx;
    uint64_t seq;
    bool ok;
} answer;

static answer answers[MAXP];

static void settle(fixture *fx, uint64_t seq)
{
    if (!fx->outstanding[seq]) return;
    fx->outstanding[seq] = false;
    fx->in_flight--;
}

static void deliver(hp__sched *s, uint64_t now, void *data)
{
    answer *a = data;
    settle(a->fx, a->seq);
    hp__health_checker_done(&a->fx->c, a->seq, a->ok);
}

static void probe(hp__health_checker *c, uint64_t seq, void *target)
{
    fixture *fx = target;
    assert_true(seq < MAXP);
    assert_int_equal(seq, fx->nprobes + 1);
    fx->probe_at[seq] = fx->vc.now;
    fx->nprobes++;
    fx->outstanding[seq] = true;
    if (++fx->in_flight > fx->max_in_flight) fx->max_in_flight = fx->in_flight;
    size_t len = strlen(fx->script);
    char how = fx->script[seq - 1 < len ? seq - 1 : len - 1];
    switch (how) {
    case 's':
    case 'f':
        settle(fx, seq);
        hp__health_checker_done(c, seq, how == 's');
        break;
    case 'S':
    case 'F':
        answers[seq] = (answer){fx, seq, how == 'S'};
        hp__sched_add(&fx->sched, fx->vc.now + fx->delay, deliver, &answers[seq]);
        break;
    default:
        break;
    }
}

static void cancel(hp__health_checker *c, uint64_t seq, void *target)
{
    fixture *fx = target;
    fx->cancelled[fx->ncancelled++] = seq;
    settle(fx, seq);
}

static const hp__health_probe_ops ops = {probe, cancel};

static void on_change(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    fixture *fx = data;
    fx->changes[fx->nchanges].from = from;
    fx->changes[fx->nchanges].to = to;
    fx->changes[fx->nchanges].at = fx->vc.now;
    fx->nchanges++;
    if (fx->stop_on_ko && to == HP__HEALTH_KO) hp__health_checker_stop(&fx->c);
}

static hp__health_config defaults(void)
{
    hp__health_config cfg;
    hp__health_config_default(&cfg);
    return cfg;
}

/* Starts checking with the cadence shifted by `phase`; the first probe runs at T0, on the
 * first advance. */
static void fx_start_phase(fixture *fx, hp__health_config cfg, const char *script, uint64_t phase)
{
    memset(fx, 0, sizeof *fx);
    hp__vclock_init(&fx->vc, T0);
    hp__sched_init(&fx->sched, hp__vclock_clock(&fx->vc));
    fx->script = script;
    assert_int_equal(hp__health_checker_init(&fx->c, &fx->sched, &cfg, &ops, fx, on_change, fx), 0);
    assert_int_equal(hp__health_checker_state(&fx->c), HP__HEALTH_UNKNOWN);
    assert_int_equal(hp__health_checker_start(&fx->c, phase), 0);
}

static void fx_start(fixture *fx, hp__health_config cfg, const char *script)
{
    fx_start_phase(fx, cfg, script, 0);
}

/* Moves the virtual clock to absolute time `t`, running what falls due on the way. */
static void fx_run_to(fixture *fx, uint64_t t)
{
    assert_true(t >= fx->vc.now);
    hp__sched_advance(&fx->sched, &fx->vc, t - fx->vc.now);
}

static void fx_end(fixture *fx)
{
    hp__health_checker_stop(&fx->c);
    assert_int_equal(fx->c.tick_timer, 0);
    assert_int_equal(fx->c.timeout_timer, 0);
    hp__sched_close(&fx->sched); /* drops answers still on their way */
}

static hp__health_state state_of(const fixture *fx)
{
    return hp__health_checker_state(&fx->c);
}

static void assert_change(const fixture *fx, size_t i, hp__health_state from, hp__health_state to,
                          uint64_t at)
{
    assert_true(i < fx->nchanges);
    assert_int_equal(fx->changes[i].from, from);
    assert_int_equal(fx->changes[i].to, to);
    assert_int_equal(fx->changes[i].at, at);
}

/* --- the state machine alone ------------------------------------------------------------ */

static struct {
    hp__health_state from[32], to[32];
    size_t n;
} seen;

static void note(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    seen.from[seen.n] = from;
    seen.to[seen.n] = to;
    seen.n++;
}

/* Feeds "s"/"f" results; returns the state letters after each: U, O, W, K. */
static const char *feed(hp__health *h, const char *results)
{
    static char out[64];
    size_t i = 0;
    for (; results[i]; i++) out[i] = "UOWK"[hp__health_record(h, results[i] == 's')];
    out[i] = 0;
    return out;
}

static void state_machine_follows_rise_and_fall(void **state)
{
    hp__health h;
    seen.n = 0;
    hp__health_init(&h, 2, 3, note, NULL);
    assert_int_equal(h.state, HP__HEALTH_UNKNOWN);
    /* UNKNOWN: s s → OK. OK: f → WARN; s resets → OK; f f f → KO; s (counting) s → OK. */
    assert_string_equal(feed(&h, "ssfsfffss"), "UOWOWWKKO");
    assert_int_equal(seen.n, 6);
    const hp__health_state from[] = {HP__HEALTH_UNKNOWN, HP__HEALTH_OK,   HP__HEALTH_WARN,
                                     HP__HEALTH_OK,      HP__HEALTH_WARN, HP__HEALTH_KO};
    const hp__health_state to[] = {HP__HEALTH_OK,   HP__HEALTH_WARN, HP__HEALTH_OK,
                                   HP__HEALTH_WARN, HP__HEALTH_KO,   HP__HEALTH_OK};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(seen.from[i], from[i]);
        assert_int_equal(seen.to[i], to[i]);
    }
    assert_int_equal(h.checks, 9);
    assert_int_equal(h.successes, 2);
    assert_int_equal(h.failures, 0);
}

static void unknown_needs_results_in_a_row(void **state)
{
    hp__health h;
    hp__health_init(&h, 2, 3, NULL, NULL);
    /* Alternating results never reach rise 2 nor fall 3. */
    assert_string_equal(feed(&h, "sfsfsf"), "UUUUUU");
    assert_string_equal(feed(&h, "ff"), "UK"); /* f f f in a row */
    hp__health_init(&h, 2, 3, NULL, NULL);
    assert_string_equal(feed(&h, "fss"), "UUO");
}

static void ko_recovers_only_after_rise_successes_in_a_row(void **state)
{
    hp__health h;
    hp__health_init(&h, 3, 2, NULL, NULL);
    assert_string_equal(feed(&h, "ff"), "UK");
    assert_string_equal(feed(&h, "ss"), "KK");
    assert_int_equal(h.successes, 2); /* the recovery is observable */
    assert_int_equal(h.failures, 0);
    assert_string_equal(feed(&h, "f"), "K"); /* restarts the count */
    assert_int_equal(h.successes, 0);
    assert_int_equal(h.failures, 1);
    assert_string_equal(feed(&h, "sss"), "KKO");
}

static void fall_one_goes_from_ok_to_ko_at_once(void **state)
{
    hp__health h;
    seen.n = 0;
    hp__health_init(&h, 1, 1, note, NULL);
    assert_string_equal(feed(&h, "sfsf"), "OKOK");
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.from[1], HP__HEALTH_OK);
    assert_int_equal(seen.to[1], HP__HEALTH_KO);
}

static void reset_returns_to_unknown_and_says_so(void **state)
{
    hp__health h;
    seen.n = 0;
    hp__health_init(&h, 1, 1, note, NULL);
    hp__health_reset(&h); /* already UNKNOWN: nothing to report */
    assert_int_equal(seen.n, 0);
    feed(&h, "s");
    hp__health_reset(&h);
    assert_int_equal(h.state, HP__HEALTH_UNKNOWN);
    assert_int_equal(h.successes, 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.from[1], HP__HEALTH_OK);
    assert_int_equal(seen.to[1], HP__HEALTH_UNKNOWN);
}

static void config_defaults_and_checks(void **state)
{
    hp__health_config cfg = defaults();
    assert_int_equal(cfg.interval_ms, 2000);
    assert_int_equal(cfg.timeout_ms, 1000);
    assert_int_equal(cfg.rise, 2);
    assert_int_equal(cfg.fall, 3);
    assert_int_equal(hp__health_config_check(&cfg), 0);
    hp__health_config bad[4] = {cfg, cfg, cfg, cfg};
    bad[0].interval_ms = 0;
    bad[1].timeout_ms = 0;
    bad[2].rise = 0;
    bad[3].fall = 0;
    hp__vclock vc;
    hp__vclock_init(&vc, 0);
    hp__sched s;
    hp__sched_init(&s, hp__vclock_clock(&vc));
    hp__health_checker c;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(hp__health_config_check(&bad[i]), HP_EINVAL);
        assert_int_equal(hp__health_checker_init(&c, &s, &bad[i], &ops, NULL, NULL, NULL),
                         HP_EINVAL);
    }
    const hp__health_probe_ops no_probe = {NULL, cancel};
    assert_int_equal(hp__health_checker_init(&c, &s, &cfg, &no_probe, NULL, NULL, NULL), HP_EINVAL);
    assert_string_equal(hp__health_state_name(HP__HEALTH_UNKNOWN), "unknown");
    assert_string_equal(hp__health_state_name(HP__HEALTH_OK), "ok");
    assert_string_equal(hp__health_state_name(HP__HEALTH_WARN), "warn");
    assert_string_equal(hp__health_state_name(HP__HEALTH_KO), "ko");
    hp__sched_close(&s);
}

/* --- the checker on the virtual clock ----------------------------------------------------- */

static void starts_unknown_and_becomes_ok_at_the_rise_th_check(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "s"); /* interval 2000, rise 2 */
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    assert_int_equal(fx.nprobes, 0); /* nothing runs until the clock is driven */
    fx_run_to(&fx, T0);
    assert_int_equal(fx.nprobes, 1);
    assert_int_equal(fx.probe_at[1], T0);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    fx_run_to(&fx, T0 + 1999);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    fx_run_to(&fx, T0 + 2000);
    assert_int_equal(fx.probe_at[2], T0 + 2000);
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_int_equal(fx.nchanges, 1);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 2000);
    fx_end(&fx);
}

static void a_phase_shifts_the_cadence_after_the_first_check(void **state)
{
    fixture fx;
    fx_start_phase(&fx, defaults(), "s", 700); /* interval 2000, rise 2 */
    fx_run_to(&fx, T0 + 5000);
    assert_int_equal(fx.nprobes, 4);
    assert_int_equal(fx.probe_at[1], T0);
    assert_int_equal(fx.probe_at[2], T0 + 700);
    assert_int_equal(fx.probe_at[3], T0 + 2700);
    assert_int_equal(fx.probe_at[4], T0 + 4700);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 700);
    fx_end(&fx);
}

static void fast_checks_come_every_fast_interval_then_the_cadence_goes_on(void **state)
{
    fixture fx;
    hp__health_config cfg = defaults(); /* interval 2000 */
    cfg.fast_interval_ms = 10;
    cfg.fast_for_ms = 30;
    fx_start(&fx, cfg, "f");
    fx_run_to(&fx, T0 + 4100);
    assert_int_equal(fx.nprobes, 6);
    const uint64_t at[] = {0, 10, 20, 30, 2030, 4030};
    for (size_t i = 0; i < 6; i++) assert_int_equal(fx.probe_at[i + 1], T0 + at[i]);
    fx_end(&fx);
    cfg.fast_interval_ms = 2001; /* slower than the interval */
    assert_int_equal(hp__health_config_check(&cfg), HP_EINVAL);
    cfg.fast_interval_ms = 0;
    assert_int_equal(hp__health_config_check(&cfg), HP_EINVAL);
}

static void rise_three_is_ok_two_intervals_after_the_first_check(void **state)
{
    hp__health_config cfg = defaults();
    cfg.rise = 3;
    cfg.interval_ms = 500;
    fixture fx;
    fx_start(&fx, cfg, "s");
    fx_run_to(&fx, T0 + 999);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    assert_int_equal(fx.c.health.successes, 2);
    fx_run_to(&fx, T0 + 1000);
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 1000);
    /* The cadence holds: checks every 500 ms from T0. */
    fx_run_to(&fx, T0 + 5000);
    assert_int_equal(fx.nprobes, 11);
    for (size_t k = 1; k <= 11; k++) assert_int_equal(fx.probe_at[k], T0 + (k - 1) * 500);
    assert_int_equal(fx.nchanges, 1);
    fx_end(&fx);
}

static void one_failure_warns_and_fall_in_a_row_is_ko(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "ssf"); /* OK at T0+2000, then failures from T0+4000 */
    fx_run_to(&fx, T0 + 3999);
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    fx_run_to(&fx, T0 + 4000);
    assert_int_equal(state_of(&fx), HP__HEALTH_WARN);
    assert_int_equal(fx.c.health.failures, 1);
    fx_run_to(&fx, T0 + 7999);
    assert_int_equal(state_of(&fx), HP__HEALTH_WARN);
    assert_int_equal(fx.c.health.failures, 2);
    fx_run_to(&fx, T0 + 8000);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    fx_run_to(&fx, T0 + 20000); /* more failures: no more changes */
    assert_int_equal(fx.nchanges, 3);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 2000);
    assert_change(&fx, 1, HP__HEALTH_OK, HP__HEALTH_WARN, T0 + 4000);
    assert_change(&fx, 2, HP__HEALTH_WARN, HP__HEALTH_KO, T0 + 8000);
    fx_end(&fx);
}

static void a_success_in_warn_resets_the_failures(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "ssffsffs");
    fx_run_to(&fx, T0 + 6000); /* s s f f */
    assert_int_equal(state_of(&fx), HP__HEALTH_WARN);
    assert_int_equal(fx.c.health.failures, 2);
    fx_run_to(&fx, T0 + 8000); /* s */
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_int_equal(fx.c.health.failures, 0);
    fx_run_to(&fx, T0 + 12000); /* f f: two in a row again, not five */
    assert_int_equal(state_of(&fx), HP__HEALTH_WARN);
    fx_run_to(&fx, T0 + 14000); /* s */
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_int_equal(fx.nchanges, 5);
    fx_end(&fx);
}

static void ko_needs_rise_successes_to_be_ok(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "fffsfss");
    fx_run_to(&fx, T0 + 4000);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_KO, T0 + 4000);
    fx_run_to(&fx, T0 + 6000); /* s */
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.health.successes, 1);
    fx_run_to(&fx, T0 + 8000); /* f */
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.health.successes, 0);
    fx_run_to(&fx, T0 + 10000); /* s */
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    fx_run_to(&fx, T0 + 12000); /* s */
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_int_equal(fx.nchanges, 2);
    assert_change(&fx, 1, HP__HEALTH_KO, HP__HEALTH_OK, T0 + 12000);
    fx_end(&fx);
}

static void an_unanswered_probe_fails_after_the_timeout(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "n"); /* timeout 1000 */
    fx_run_to(&fx, T0 + 999);
    assert_int_equal(fx.c.health.failures, 0);
    assert_int_equal(fx.ncancelled, 0);
    fx_run_to(&fx, T0 + 1000);
    assert_int_equal(fx.c.health.failures, 1);
    assert_int_equal(fx.c.timeouts, 1);
    assert_int_equal(fx.ncancelled, 1); /* the prober was told to give up */
    assert_int_equal(fx.cancelled[0], 1);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    fx_run_to(&fx, T0 + 4999);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    fx_run_to(&fx, T0 + 5000); /* third check started at T0+4000, timed out at +5000 */
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_KO, T0 + 5000);
    assert_int_equal(fx.c.timeouts, 3);
    /* A late answer to a timed-out probe changes nothing. */
    hp__health_checker_done(&fx.c, 1, true);
    hp__health_checker_done(&fx.c, 3, true);
    assert_int_equal(fx.c.stale, 2);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.health.successes, 0);
    assert_int_equal(fx.max_in_flight, 1);
    fx_end(&fx);
}

static void an_answer_after_the_timeout_is_a_failure(void **state)
{
    hp__health_config cfg = defaults();
    fixture fx;
    fx_start(&fx, cfg, "S");
    fx.delay = 1500; /* ok, but later than the 1000 ms timeout */
    fx_run_to(&fx, T0 + 4000 + 1500);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.timeouts, 3);
    assert_int_equal(fx.c.stale, 3);
    fx.delay = 999; /* now in time: the checks at +6000 and +8000 succeed */
    fx_run_to(&fx, T0 + 6000 + 999);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.health.successes, 1);
    fx_run_to(&fx, T0 + 8000 + 998);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    fx_run_to(&fx, T0 + 8000 + 999);
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_int_equal(fx.c.timeouts, 3);
    fx_end(&fx);
}

static void a_late_answer_is_not_taken_for_the_next_probe(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "S");
    fx.delay = 2500; /* probe k times out after 1000 ms and answers while k + 1 is in flight */
    fx_run_to(&fx, T0 + 2500);
    assert_true(fx.c.in_flight);
    assert_int_equal(fx.c.seq, 2);
    assert_int_equal(fx.c.stale, 1);
    assert_int_equal(fx.c.health.successes, 0);
    fx_run_to(&fx, T0 + 5000);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_int_equal(fx.c.timeouts, 3);
    assert_int_equal(fx.c.health.successes, 0);
    fx_end(&fx);
}

static void a_probe_slower_than_the_interval_never_overlaps(void **state)
{
    hp__health_config cfg = defaults();
    cfg.timeout_ms = 5000; /* longer than the 2000 ms interval */
    fixture fx;
    fx_start(&fx, cfg, "S");
    fx.delay = 3000;
    fx_run_to(&fx, T0 + 12000);
    assert_int_equal(fx.max_in_flight, 1);
    /* Probes at T0, +4000, +8000, +12000: the ticks at +2000, +6000, +10000 found one in
     * flight and were skipped. */
    assert_int_equal(fx.nprobes, 4);
    for (size_t k = 1; k <= 4; k++) assert_int_equal(fx.probe_at[k], T0 + (k - 1) * 4000);
    assert_int_equal(fx.c.skipped, 3);
    assert_int_equal(fx.c.timeouts, 0);
    /* Answers at T0+3000 and T0+7000: OK at the second. */
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 7000);
    fx_end(&fx);
}

static void a_timeout_equal_to_the_interval_skips_no_check(void **state)
{
    hp__health_config cfg = defaults();
    cfg.timeout_ms = cfg.interval_ms;
    fixture fx;
    fx_start(&fx, cfg, "n");
    fx_run_to(&fx, T0 + 6000);
    /* Each timeout is recorded before the tick due at the same time, which then probes. */
    assert_int_equal(fx.nprobes, 4);
    assert_int_equal(fx.c.skipped, 0);
    assert_int_equal(fx.max_in_flight, 1);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO);
    assert_change(&fx, 0, HP__HEALTH_UNKNOWN, HP__HEALTH_KO, T0 + 6000);
    fx_end(&fx);
}

static void a_late_loop_keeps_the_cadence(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "s");
    hp__sched_run_due(&fx.sched, T0);
    /* The loop wakes up 7.5 s late: one check, not four, then back on the T0 + k·2000 grid. */
    fx.vc.now = T0 + 7500;
    hp__sched_run_due(&fx.sched, fx.vc.now);
    assert_int_equal(fx.nprobes, 2);
    assert_int_equal(fx.c.next_tick, T0 + 8000);
    fx_run_to(&fx, T0 + 8000);
    assert_int_equal(fx.nprobes, 3);
    assert_int_equal(fx.probe_at[3], T0 + 8000);
    fx_end(&fx);
}

static void stop_cancels_everything_and_ignores_late_answers(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "sn");
    fx_run_to(&fx, T0 + 2500); /* probe 2 in flight */
    assert_true(fx.c.in_flight);
    assert_int_equal(hp__sched_pending(&fx.sched), 2); /* next tick, timeout */
    hp__health_checker_stop(&fx.c);
    assert_int_equal(hp__sched_pending(&fx.sched), 0);
    assert_int_equal(fx.ncancelled, 1);
    assert_int_equal(fx.cancelled[0], 2);
    hp__health_checker_stop(&fx.c); /* idempotent */
    assert_int_equal(fx.ncancelled, 1);
    hp__health_checker_done(&fx.c, 2, false); /* late: ignored */
    assert_int_equal(fx.c.stale, 1);
    fx_run_to(&fx, T0 + 60000);
    assert_int_equal(fx.nprobes, 2);
    assert_int_equal(fx.c.health.checks, 1);
    assert_int_equal(fx.nchanges, 0);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    assert_int_equal(fx.c.timeouts, 0);
    fx_end(&fx);
}

static void stop_from_the_change_callback(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "f");
    fx.stop_on_ko = true;
    fx_run_to(&fx, T0 + 60000);
    assert_int_equal(fx.nprobes, 3);
    assert_int_equal(state_of(&fx), HP__HEALTH_KO); /* the last known health stays */
    assert_int_equal(hp__sched_pending(&fx.sched), 0);
    assert_false(fx.c.running);
    fx_end(&fx);
}

static void start_again_begins_from_unknown(void **state)
{
    fixture fx;
    fx_start(&fx, defaults(), "ssn");
    assert_int_equal(hp__health_checker_start(&fx.c, 0), HP_ESTATE);
    fx_run_to(&fx, T0 + 4500); /* OK; probe 3 in flight */
    hp__health_checker_stop(&fx.c);
    fx.script = "s";
    assert_int_equal(hp__health_checker_start(&fx.c, 0), 0);
    assert_int_equal(state_of(&fx), HP__HEALTH_UNKNOWN);
    assert_change(&fx, 1, HP__HEALTH_OK, HP__HEALTH_UNKNOWN, T0 + 4500);
    hp__health_checker_done(&fx.c, 3, true); /* from before the stop: stale */
    assert_int_equal(fx.c.stale, 1);
    assert_int_equal(fx.c.health.successes, 0);
    fx_run_to(&fx, T0 + 6500); /* checks at +4500 and +6500 */
    assert_int_equal(fx.probe_at[4], T0 + 4500);
    assert_int_equal(state_of(&fx), HP__HEALTH_OK);
    assert_change(&fx, 2, HP__HEALTH_UNKNOWN, HP__HEALTH_OK, T0 + 6500);
    assert_int_equal(fx.nchanges, 3);
    fx_end(&fx);
}

/* --- the aggregate --------------------------------------------------------------------- */

static hp__health_state agg(const char *letters)
{
    hp__health_state st[16];
    size_t n = strlen(letters);
    for (size_t i = 0; i < n; i++)
        st[i] = letters[i] == 'O'   ? HP__HEALTH_OK
                : letters[i] == 'W' ? HP__HEALTH_WARN
                : letters[i] == 'K' ? HP__HEALTH_KO
                                    : HP__HEALTH_UNKNOWN;
    return hp__health_aggregate(st, n);
}

static void the_aggregate_rule(void **state)
{
    assert_int_equal(hp__health_aggregate(NULL, 0), HP__HEALTH_OK); /* empty set */
    assert_int_equal(agg("OOO"), HP__HEALTH_OK);
    assert_int_equal(agg("KKK"), HP__HEALTH_KO);
    assert_int_equal(agg("OOK"), HP__HEALTH_WARN);
    assert_int_equal(agg("OWO"), HP__HEALTH_WARN);
    assert_int_equal(agg("W"), HP__HEALTH_WARN);
    assert_int_equal(agg("KW"), HP__HEALTH_WARN);
    assert_int_equal(agg("UU"), HP__HEALTH_UNKNOWN);
    assert_int_equal(agg("UOO"), HP__HEALTH_OK); /* unknown members are left out */
    assert_int_equal(agg("KUK"), HP__HEALTH_KO);
    assert_int_equal(agg("UOK"), HP__HEALTH_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_machine_follows_rise_and_fall),
        cmocka_unit_test(unknown_needs_results_in_a_row),
        cmocka_unit_test(ko_recovers_only_after_rise_successes_in_a_row),
        cmocka_unit_test(fall_one_goes_from_ok_to_ko_at_once),
        cmocka_unit_test(reset_returns_to_unknown_and_says_so),
        cmocka_unit_test(config_defaults_and_checks),
        cmocka_unit_test(starts_unknown_and_becomes_ok_at_the_rise_th_check),
        cmocka_unit_test(a_phase_shifts_the_cadence_after_the_first_check),
        cmocka_unit_test(fast_checks_come_every_fast_interval_then_the_cadence_goes_on),
        cmocka_unit_test(rise_three_is_ok_two_intervals_after_the_first_check),
        cmocka_unit_test(one_failure_warns_and_fall_in_a_row_is_ko),
        cmocka_unit_test(a_success_in_warn_resets_the_failures),
        cmocka_unit_test(ko_needs_rise_successes_to_be_ok),
        cmocka_unit_test(an_unanswered_probe_fails_after_the_timeout),
        cmocka_unit_test(an_answer_after_the_timeout_is_a_failure),
        cmocka_unit_test(a_late_answer_is_not_taken_for_the_next_probe),
        cmocka_unit_test(a_probe_slower_than_the_interval_never_overlaps),
        cmocka_unit_test(a_timeout_equal_to_the_interval_skips_no_check),
        cmocka_unit_test(a_late_loop_keeps_the_cadence),
        cmocka_unit_test(stop_cancels_everything_and_ignores_late_answers),
        cmocka_unit_test(stop_from_the_change_callback),
        cmocka_unit_test(start_again_begins_from_unknown),
        cmocka_unit_test(the_aggregate_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
