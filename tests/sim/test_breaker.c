/* The circuit breaker on a virtual clock (src/core/breaker.c): every transition, the
 * thresholds at exactly their limits, the sliding window, half-open trials in flight
 * together, and outcomes that belong to an earlier state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/breaker.h"
#include "core/sched.h"
#include "hostpool/errors.h"

#include <string.h>

#define T0 100000 /* on a bucket boundary; not 0, so origin mistakes show */
#define OPEN_FOR 30000

typedef struct fixture {
    hp__vclock vc;
    hp__sched sched;
    hp__breaker b;
    struct {
        hp__breaker_state from, to;
        uint64_t at;
    } changes[32];
    size_t nchanges;
} fixture;

static void on_change(hp__breaker *b, hp__breaker_state from, hp__breaker_state to, void *data)
{
    fixture *fx = data;
    assert_int_equal(hp__breaker_state_of(b), to);
    fx->changes[fx->nchanges].from = from;
    fx->changes[fx->nchanges].to = to;
    fx->changes[fx->nchanges].at = fx->vc.now;
    fx->nchanges++;
}

static void fx_init_with(fixture *fx, const hp__breaker_config *cfg)
{
    memset(fx, 0, sizeof *fx);
    hp__vclock_init(&fx->vc, T0);
    hp__sched_init(&fx->sched, hp__vclock_clock(&fx->vc));
    assert_int_equal(hp__breaker_config_check(cfg), 0);
    hp__breaker_init(&fx->b, &fx->sched, cfg, on_change, fx);
}

static void fx_init(fixture *fx)
{
    hp__breaker_config cfg;
    hp__breaker_config_default(&cfg);
    fx_init_with(fx, &cfg);
}

/* The ratio rule alone: the consecutive rule off. */
static void fx_init_ratio(fixture *fx)
{
    hp__breaker_config cfg;
    hp__breaker_config_default(&cfg);
    cfg.failures = 0;
    fx_init_with(fx, &cfg);
}

static void fx_run_to(fixture *fx, uint64_t t)
{
    assert_true(t >= fx->vc.now);
    hp__sched_advance(&fx->sched, &fx->vc, t - fx->vc.now);
}

static void fx_end(fixture *fx)
{
    hp__breaker_close(&fx->b);
    assert_int_equal(hp__sched_pending(&fx->sched), 0);
    hp__sched_close(&fx->sched);
}

/* Requests admitted and answered one after the other: 's' success, 'f' failure. */
static void requests(fixture *fx, const char *outcomes)
{
    for (const char *o = outcomes; *o; o++) {
        hp__breaker_ticket t = hp__breaker_acquire(&fx->b);
        assert_int_not_equal(t, HP__BREAKER_REFUSED);
        hp__breaker_report(&fx->b, t, *o == 'f' ? HP__BREAKER_FAILURE : HP__BREAKER_SUCCESS);
    }
}

static void repeat(fixture *fx, char outcome, int times)
{
    char s[2] = {outcome, 0};
    for (int i = 0; i < times; i++) requests(fx, s);
}

static hp__breaker_state state_of(const fixture *fx)
{
    return hp__breaker_state_of(&fx->b);
}

static void assert_change(const fixture *fx, size_t i, hp__breaker_state from, hp__breaker_state to,
                          uint64_t at)
{
    assert_true(i < fx->nchanges);
    assert_int_equal(fx->changes[i].from, from);
    assert_int_equal(fx->changes[i].to, to);
    assert_int_equal(fx->changes[i].at, at);
}

/* Opens by five failures in a row at `at`. */
static void open_at(fixture *fx, uint64_t at)
{
    fx_run_to(fx, at);
    repeat(fx, 'f', 5);
    assert_int_equal(state_of(fx), HP__BREAKER_OPEN);
}

static void config_defaults_and_checks(void **state)
{
    hp__breaker_config cfg;
    hp__breaker_config_default(&cfg);
    assert_int_equal(cfg.failures, 5);
    assert_int_equal(cfg.error_ratio_ppm, 500000);
    assert_int_equal(cfg.min_requests, 20);
    assert_int_equal(cfg.window_ms, 10000);
    assert_int_equal(cfg.open_for_ms, 30000);
    assert_int_equal(cfg.trials, 3);
    assert_int_equal(hp__breaker_config_check(&cfg), 0);
    hp__breaker_config bad[5] = {cfg, cfg, cfg, cfg, cfg};
    bad[0].error_ratio_ppm = 1000001;
    bad[1].window_ms = 0;
    bad[2].window_ms = 15; /* not whole buckets */
    bad[3].open_for_ms = 0;
    bad[4].trials = 0;
    for (int i = 0; i < 5; i++) assert_int_equal(hp__breaker_config_check(&bad[i]), HP_EINVAL);
    assert_string_equal(hp__breaker_state_name(HP__BREAKER_CLOSED), "closed");
    assert_string_equal(hp__breaker_state_name(HP__BREAKER_OPEN), "open");
    assert_string_equal(hp__breaker_state_name(HP__BREAKER_HALF_OPEN), "half_open");
    assert_string_equal(hp__breaker_reason_name(HP__BREAKER_OPENED_BY_FAILURES), "failures");
    assert_string_equal(hp__breaker_reason_name(HP__BREAKER_OPENED_BY_RATIO), "error_ratio");
    assert_string_equal(hp__breaker_reason_name(HP__BREAKER_OPENED_BY_TRIAL), "trial");
}

static void failures_in_a_row_open_it_at_exactly_failures(void **state)
{
    fixture fx;
    fx_init(&fx);
    repeat(&fx, 'f', 4);
    requests(&fx, "s"); /* restarts the count */
    repeat(&fx, 'f', 4);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    assert_true(hp__breaker_admits(&fx.b));
    fx_run_to(&fx, T0 + 700);
    requests(&fx, "f");
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    assert_int_equal(fx.b.reason, HP__BREAKER_OPENED_BY_FAILURES);
    assert_int_equal(fx.b.opened, 1);
    assert_int_equal(fx.nchanges, 1);
    assert_change(&fx, 0, HP__BREAKER_CLOSED, HP__BREAKER_OPEN, T0 + 700);
    fx_end(&fx);
}

static void open_refuses_at_once_and_half_opens_after_open_for(void **state)
{
    fixture fx;
    fx_init(&fx);
    open_at(&fx, T0);
    assert_false(hp__breaker_admits(&fx.b));
    for (int i = 0; i < 3; i++) assert_int_equal(hp__breaker_acquire(&fx.b), HP__BREAKER_REFUSED);
    assert_int_equal(fx.b.refused, 3);
    fx_run_to(&fx, T0 + OPEN_FOR - 1);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    assert_int_equal(hp__breaker_acquire(&fx.b), HP__BREAKER_REFUSED);
    fx_run_to(&fx, T0 + OPEN_FOR);
    assert_int_equal(state_of(&fx), HP__BREAKER_HALF_OPEN);
    assert_true(hp__breaker_admits(&fx.b));
    assert_change(&fx, 1, HP__BREAKER_OPEN, HP__BREAKER_HALF_OPEN, T0 + OPEN_FOR);
    fx_end(&fx);
}

static void half_open_closes_when_every_trial_succeeds(void **state)
{
    fixture fx;
    fx_init(&fx);
    open_at(&fx, T0);
    fx_run_to(&fx, T0 + OPEN_FOR);
    requests(&fx, "ss");
    assert_int_equal(state_of(&fx), HP__BREAKER_HALF_OPEN);
    fx_run_to(&fx, T0 + OPEN_FOR + 40);
    requests(&fx, "s");
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    assert_change(&fx, 2, HP__BREAKER_HALF_OPEN, HP__BREAKER_CLOSED, T0 + OPEN_FOR + 40);
    /* Counting starts again from zero: four failures are not five. */
    repeat(&fx, 'f', 4);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    assert_int_equal(fx.b.outcomes, 4);
    fx_end(&fx);
}

static void a_failed_trial_opens_it_for_a_new_open_for(void **state)
{
    fixture fx;
    fx_init(&fx);
    open_at(&fx, T0);
    fx_run_to(&fx, T0 + OPEN_FOR);
    hp__breaker_ticket t1 = hp__breaker_acquire(&fx.b), t2 = hp__breaker_acquire(&fx.b),
                       t3 = hp__breaker_acquire(&fx.b);
    hp__breaker_report(&fx.b, t1, HP__BREAKER_SUCCESS);
    fx_run_to(&fx, T0 + OPEN_FOR + 250);
    hp__breaker_report(&fx.b, t2, HP__BREAKER_FAILURE);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    assert_int_equal(fx.b.reason, HP__BREAKER_OPENED_BY_TRIAL);
    assert_change(&fx, 2, HP__BREAKER_HALF_OPEN, HP__BREAKER_OPEN, T0 + OPEN_FOR + 250);
    hp__breaker_report(&fx.b, t3, HP__BREAKER_SUCCESS); /* a trial of the last period */
    assert_int_equal(fx.b.stale, 1);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_run_to(&fx, T0 + 2 * OPEN_FOR + 249);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_run_to(&fx, T0 + 2 * OPEN_FOR + 250);
    assert_int_equal(state_of(&fx), HP__BREAKER_HALF_OPEN);
    assert_int_equal(fx.b.opened, 2);
    fx_end(&fx);
}

static void only_trials_places_are_given_to_requests_in_flight_together(void **state)
{
    fixture fx;
    fx_init(&fx);
    open_at(&fx, T0);
    fx_run_to(&fx, T0 + OPEN_FOR);
    hp__breaker_ticket t[5];
    for (int i = 0; i < 5; i++) t[i] = hp__breaker_acquire(&fx.b);
    for (int i = 0; i < 3; i++) assert_int_not_equal(t[i], HP__BREAKER_REFUSED);
    assert_int_equal(t[3], HP__BREAKER_REFUSED);
    assert_int_equal(t[4], HP__BREAKER_REFUSED);
    assert_false(hp__breaker_admits(&fx.b));
    hp__breaker_report(&fx.b, t[0], HP__BREAKER_SUCCESS);
    assert_false(hp__breaker_admits(&fx.b)); /* a success does not free a place */
    hp__breaker_report(&fx.b, t[1], HP__BREAKER_ABANDONED);
    assert_true(hp__breaker_admits(&fx.b)); /* an abandoned trial does */
    hp__breaker_ticket again = hp__breaker_acquire(&fx.b);
    assert_int_not_equal(again, HP__BREAKER_REFUSED);
    assert_int_equal(hp__breaker_acquire(&fx.b), HP__BREAKER_REFUSED);
    hp__breaker_report(&fx.b, t[2], HP__BREAKER_SUCCESS);
    assert_int_equal(state_of(&fx), HP__BREAKER_HALF_OPEN); /* two of three */
    hp__breaker_report(&fx.b, again, HP__BREAKER_SUCCESS);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    hp__breaker_report(&fx.b, t[3], HP__BREAKER_FAILURE); /* refused: nothing to report */
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    assert_int_equal(fx.b.outcomes, 0);
    fx_end(&fx);
}

static void requests_admitted_before_it_opened_are_not_trials(void **state)
{
    fixture fx;
    fx_init(&fx);
    hp__breaker_ticket old[3];
    for (int i = 0; i < 3; i++) old[i] = hp__breaker_acquire(&fx.b);
    open_at(&fx, T0);
    fx_run_to(&fx, T0 + OPEN_FOR);
    for (int i = 0; i < 3; i++) hp__breaker_report(&fx.b, old[i], HP__BREAKER_FAILURE);
    assert_int_equal(state_of(&fx), HP__BREAKER_HALF_OPEN);
    assert_int_equal(fx.b.stale, 3);
    requests(&fx, "sss");
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    fx_end(&fx);
}

static void the_error_ratio_opens_it_at_exactly_the_ratio(void **state)
{
    fixture fx;
    fx_init_ratio(&fx);                    /* 0.5 over at least 20 */
    requests(&fx, "sfsfsfsfsfsfsfsfsfss"); /* 9 of 20 */
    requests(&fx, "f");                    /* 10 of 21 */
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    fx_run_to(&fx, T0 + 3000);
    requests(&fx, "f"); /* 11 of 22: exactly 0.5 */
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    assert_int_equal(fx.b.reason, HP__BREAKER_OPENED_BY_RATIO);
    assert_change(&fx, 0, HP__BREAKER_CLOSED, HP__BREAKER_OPEN, T0 + 3000);
    fx_end(&fx);
}

static void the_ratio_waits_for_min_requests(void **state)
{
    fixture fx;
    fx_init_ratio(&fx);
    repeat(&fx, 'f', 19);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    requests(&fx, "f");
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_end(&fx);
    hp__breaker_config cfg; /* a ratio that floating point would get wrong: 0.3 of 10 */
    hp__breaker_config_default(&cfg);
    cfg.failures = 0;
    cfg.min_requests = 10;
    cfg.error_ratio_ppm = 300000;
    fx_init_with(&fx, &cfg);
    requests(&fx, "sssssssfff");
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_end(&fx);
}

static void outcomes_leave_the_window_bucket_by_bucket(void **state)
{
    fixture fx;
    fx_init_ratio(&fx); /* window 10 s: ten buckets of 1 s */
    repeat(&fx, 'f', 10);
    fx_run_to(&fx, T0 + 9999);
    repeat(&fx, 'f', 9);
    assert_int_equal(fx.b.outcomes, 19);
    repeat(&fx, 'f', 1);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN); /* the first ten still count */
    fx_end(&fx);

    fx_init_ratio(&fx);
    repeat(&fx, 'f', 10);
    fx_run_to(&fx, T0 + 999);
    repeat(&fx, 's', 5); /* same bucket as the failures */
    fx_run_to(&fx, T0 + 10000);
    repeat(&fx, 'f', 10);
    assert_int_equal(fx.b.outcomes, 10); /* the first bucket left, 9,001 ms after its last */
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    fx_run_to(&fx, T0 + 13500);
    repeat(&fx, 's', 9); /* 10 of 19 */
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    /* 10 of 20: min_requests reached with the ratio at 0.5, by a success. */
    repeat(&fx, 's', 1);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_end(&fx);

    fx_init_ratio(&fx);
    repeat(&fx, 'f', 15);
    fx_run_to(&fx, T0 + 60000); /* far past the window: everything left */
    repeat(&fx, 'f', 5);
    assert_int_equal(fx.b.outcomes, 5);
    assert_int_equal(fx.b.failures, 5);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    fx_end(&fx);
}

static void both_rules_off_never_open(void **state)
{
    hp__breaker_config cfg;
    hp__breaker_config_default(&cfg);
    cfg.failures = 0;
    cfg.error_ratio_ppm = 0;
    fixture fx;
    fx_init_with(&fx, &cfg);
    repeat(&fx, 'f', 1000);
    assert_int_equal(state_of(&fx), HP__BREAKER_CLOSED);
    assert_int_equal(fx.nchanges, 0);
    fx_end(&fx);
}

static void abandoned_requests_count_for_nothing_while_closed(void **state)
{
    fixture fx;
    fx_init(&fx);
    repeat(&fx, 'f', 4);
    hp__breaker_ticket t = hp__breaker_acquire(&fx.b);
    hp__breaker_report(&fx.b, t, HP__BREAKER_ABANDONED);
    assert_int_equal(fx.b.outcomes, 4);
    assert_int_equal(fx.b.in_a_row, 4);
    requests(&fx, "f");
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    fx_end(&fx);
}

static void close_while_open_cancels_the_half_open(void **state)
{
    fixture fx;
    fx_init(&fx);
    open_at(&fx, T0);
    assert_int_equal(hp__sched_pending(&fx.sched), 1);
    hp__breaker_close(&fx.b);
    fx_run_to(&fx, T0 + 2 * OPEN_FOR);
    assert_int_equal(state_of(&fx), HP__BREAKER_OPEN);
    assert_int_equal(fx.nchanges, 1);
    fx_end(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_defaults_and_checks),
        cmocka_unit_test(failures_in_a_row_open_it_at_exactly_failures),
        cmocka_unit_test(open_refuses_at_once_and_half_opens_after_open_for),
        cmocka_unit_test(half_open_closes_when_every_trial_succeeds),
        cmocka_unit_test(a_failed_trial_opens_it_for_a_new_open_for),
        cmocka_unit_test(only_trials_places_are_given_to_requests_in_flight_together),
        cmocka_unit_test(requests_admitted_before_it_opened_are_not_trials),
        cmocka_unit_test(the_error_ratio_opens_it_at_exactly_the_ratio),
        cmocka_unit_test(the_ratio_waits_for_min_requests),
        cmocka_unit_test(outcomes_leave_the_window_bucket_by_bucket),
        cmocka_unit_test(both_rules_off_never_open),
        cmocka_unit_test(abandoned_requests_count_for_nothing_while_closed),
        cmocka_unit_test(close_while_open_cancels_the_half_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
