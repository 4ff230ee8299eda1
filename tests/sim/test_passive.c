/* Passive health on a virtual clock (src/core/passive.c): nginx's max_fails / fail_timeout,
 * the trial after fail_timeout, what resets the count, max_fails 0, and the reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/passive.h"
#include "core/sched.h"
#include "hostpool/errors.h"

#include <string.h>

#define T0 100000 /* the virtual clock does not start at 0, so origin mistakes show */
#define FT 10000  /* the default fail_timeout */

typedef struct fixture {
    hp__vclock vc;
    hp__sched sched;
    hp__passive p;
    struct {
        bool available;
        uint64_t at;
    } changes[32];
    size_t nchanges;
} fixture;

static void on_change(hp__passive *p, bool available, void *data)
{
    fixture *fx = data;
    assert_int_equal(hp__passive_available(p), available);
    fx->changes[fx->nchanges].available = available;
    fx->changes[fx->nchanges].at = fx->vc.now;
    fx->nchanges++;
}

static void fx_init(fixture *fx, uint32_t max_fails)
{
    memset(fx, 0, sizeof *fx);
    hp__vclock_init(&fx->vc, T0);
    hp__sched_init(&fx->sched, hp__vclock_clock(&fx->vc));
    hp__passive_config cfg;
    hp__passive_config_default(&cfg);
    cfg.max_fails = max_fails;
    hp__passive_init(&fx->p, &fx->sched, &cfg, on_change, fx);
}

static void fx_run_to(fixture *fx, uint64_t t)
{
    assert_true(t >= fx->vc.now);
    hp__sched_advance(&fx->sched, &fx->vc, t - fx->vc.now);
}

static void fx_end(fixture *fx)
{
    hp__passive_close(&fx->p);
    assert_int_equal(hp__sched_pending(&fx->sched), 0);
    hp__sched_close(&fx->sched);
}

/* A request picked and answered at the clock's time: 'f' failed, 's' succeeded. */
static void request(fixture *fx, char outcome)
{
    hp__passive_picked(&fx->p);
    hp__passive_report(&fx->p, outcome == 'f');
}

static void assert_change(const fixture *fx, size_t i, bool available, uint64_t at)
{
    assert_true(i < fx->nchanges);
    assert_int_equal(fx->changes[i].available, available);
    assert_int_equal(fx->changes[i].at, at);
}

static void defaults_are_nginx_s_and_a_zero_timeout_is_refused(void **state)
{
    hp__passive_config cfg;
    hp__passive_config_default(&cfg);
    assert_int_equal(cfg.max_fails, 3);
    assert_int_equal(cfg.fail_timeout_ms, 10000);
    assert_int_equal(hp__passive_config_check(&cfg), 0);
    cfg.fail_timeout_ms = 0;
    assert_int_equal(hp__passive_config_check(&cfg), HP_EINVAL);
    cfg.max_fails = 0;
    assert_int_equal(hp__passive_config_check(&cfg), 0);
}

static void max_fails_failures_take_the_target_out_for_fail_timeout(void **state)
{
    fixture fx;
    fx_init(&fx, 3);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + 100);
    request(&fx, 'f');
    assert_true(hp__passive_available(&fx.p)); /* two of three */
    assert_int_equal(fx.nchanges, 0);
    fx_run_to(&fx, T0 + 200);
    request(&fx, 'f');
    assert_false(hp__passive_available(&fx.p));
    assert_change(&fx, 0, false, T0 + 200);
    assert_int_equal(fx.p.taken_out, 1);
    fx_run_to(&fx, T0 + 200 + FT - 1);
    assert_false(hp__passive_available(&fx.p));
    fx_run_to(&fx, T0 + 200 + FT);
    assert_true(hp__passive_available(&fx.p));
    assert_change(&fx, 1, true, T0 + 200 + FT);
    assert_int_equal(fx.nchanges, 2);
    fx_end(&fx);
}

static void the_trial_after_fail_timeout_brings_it_back_when_it_succeeds(void **state)
{
    fixture fx;
    fx_init(&fx, 1);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + FT);
    assert_true(hp__passive_available(&fx.p));
    hp__passive_picked(&fx.p); /* the trial: out again while it runs */
    assert_false(hp__passive_available(&fx.p));
    assert_change(&fx, 2, false, T0 + FT);
    fx_run_to(&fx, T0 + FT + 300);
    hp__passive_report(&fx.p, false);
    assert_true(hp__passive_available(&fx.p));
    assert_change(&fx, 3, true, T0 + FT + 300);
    assert_int_equal(fx.p.fails, 0);
    assert_int_equal(hp__sched_pending(&fx.sched), 0);
    request(&fx, 's'); /* back to normal: picks change nothing */
    request(&fx, 's');
    assert_int_equal(fx.nchanges, 4);
    fx_end(&fx);
}

static void a_failed_trial_takes_it_out_for_another_fail_timeout(void **state)
{
    fixture fx;
    fx_init(&fx, 1);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + FT);
    hp__passive_picked(&fx.p);
    fx_run_to(&fx, T0 + FT + 500);
    hp__passive_report(&fx.p, true);
    assert_false(hp__passive_available(&fx.p));
    assert_int_equal(fx.p.fails, 2);
    fx_run_to(&fx, T0 + 2 * FT + 499);
    assert_false(hp__passive_available(&fx.p));
    fx_run_to(&fx, T0 + 2 * FT + 500);
    assert_true(hp__passive_available(&fx.p));
    /* out, back, out for the trial, back after its failure's fail_timeout */
    assert_int_equal(fx.nchanges, 4);
    assert_change(&fx, 3, true, T0 + 2 * FT + 500);
    fx_end(&fx);
}

static void a_trial_unanswered_for_fail_timeout_lets_another_through(void **state)
{
    fixture fx;
    fx_init(&fx, 1);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + FT);
    hp__passive_picked(&fx.p); /* never answers */
    fx_run_to(&fx, T0 + 2 * FT);
    assert_true(hp__passive_available(&fx.p));
    hp__passive_picked(&fx.p);
    assert_false(hp__passive_available(&fx.p));
    hp__passive_report(&fx.p, false); /* either trial's success brings it back */
    assert_true(hp__passive_available(&fx.p));
    fx_end(&fx);
}

static void a_success_soon_after_a_failure_does_not_reset_the_count(void **state)
{
    fixture fx;
    fx_init(&fx, 3);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + FT - 1); /* less than fail_timeout after the failure */
    request(&fx, 's');
    assert_int_equal(fx.p.fails, 1);
    request(&fx, 'f');
    request(&fx, 'f');
    assert_false(hp__passive_available(&fx.p));
    fx_end(&fx);
}

static void a_success_after_a_quiet_fail_timeout_resets_the_count(void **state)
{
    fixture fx;
    fx_init(&fx, 3);
    request(&fx, 'f');
    request(&fx, 'f');
    fx_run_to(&fx, T0 + FT); /* the first pick fail_timeout after the last failure */
    request(&fx, 's');
    assert_int_equal(fx.p.fails, 0);
    request(&fx, 'f');
    request(&fx, 'f');
    assert_true(hp__passive_available(&fx.p));
    assert_int_equal(fx.nchanges, 0);
    fx_end(&fx);
}

static void failures_apart_add_up_when_nothing_succeeds_between(void **state)
{
    fixture fx;
    fx_init(&fx, 3);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + 3 * FT);
    request(&fx, 'f');
    fx_run_to(&fx, T0 + 6 * FT);
    request(&fx, 'f');
    assert_false(hp__passive_available(&fx.p));
    fx_end(&fx);
}

static void a_late_failure_while_out_restarts_fail_timeout(void **state)
{
    fixture fx;
    fx_init(&fx, 2);
    hp__passive_picked(&fx.p); /* three requests in flight */
    hp__passive_picked(&fx.p);
    hp__passive_picked(&fx.p);
    hp__passive_report(&fx.p, true);
    hp__passive_report(&fx.p, true);
    assert_false(hp__passive_available(&fx.p));
    fx_run_to(&fx, T0 + 4000);
    hp__passive_report(&fx.p, true);
    fx_run_to(&fx, T0 + FT);
    assert_false(hp__passive_available(&fx.p));
    fx_run_to(&fx, T0 + 4000 + FT);
    assert_true(hp__passive_available(&fx.p));
    assert_int_equal(fx.nchanges, 2);
    fx_end(&fx);
}

static void max_fails_zero_never_takes_the_target_out(void **state)
{
    fixture fx;
    fx_init(&fx, 0);
    for (int i = 0; i < 100; i++) request(&fx, 'f');
    assert_true(hp__passive_available(&fx.p));
    assert_int_equal(fx.p.fails, 0);
    assert_int_equal(fx.nchanges, 0);
    assert_int_equal(hp__sched_pending(&fx.sched), 0);
    fx_end(&fx);
}

static void close_while_out_cancels_the_return(void **state)
{
    fixture fx;
    fx_init(&fx, 1);
    request(&fx, 'f');
    assert_int_equal(hp__sched_pending(&fx.sched), 1);
    hp__passive_close(&fx.p);
    fx_run_to(&fx, T0 + 2 * FT);
    assert_int_equal(fx.nchanges, 1);
    fx_end(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_nginx_s_and_a_zero_timeout_is_refused),
        cmocka_unit_test(max_fails_failures_take_the_target_out_for_fail_timeout),
        cmocka_unit_test(the_trial_after_fail_timeout_brings_it_back_when_it_succeeds),
        cmocka_unit_test(a_failed_trial_takes_it_out_for_another_fail_timeout),
        cmocka_unit_test(a_trial_unanswered_for_fail_timeout_lets_another_through),
        cmocka_unit_test(a_success_soon_after_a_failure_does_not_reset_the_count),
        cmocka_unit_test(a_success_after_a_quiet_fail_timeout_resets_the_count),
        cmocka_unit_test(failures_apart_add_up_when_nothing_succeeds_between),
        cmocka_unit_test(a_late_failure_while_out_restarts_fail_timeout),
        cmocka_unit_test(max_fails_zero_never_takes_the_target_out),
        cmocka_unit_test(close_while_out_cancels_the_return),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
