/* The supervisor's restart decisions on a virtual clock (src/core/restart.c): the backoff
 * sequence and its cap, jitter bounds and determinism, giving up after max_restarts within
 * the window, the window sliding, the three policies, and a manual start's reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/restart.h"
#include "hostpool/errors.h"

#include <string.h>

#define T0 100000 /* not 0, so origin mistakes show */
#define SEED 42

typedef struct fixture {
    hp__vclock vc;
    hp__restart r;
} fixture;

/* The defaults without jitter, so delays are exact. */
static hp__restart_config exact_config(void)
{
    hp__restart_config cfg;
    hp__restart_config_default(&cfg);
    cfg.jitter_ppm = 0;
    return cfg;
}

static void fx_init_with(fixture *fx, const hp__restart_config *cfg, uint64_t seed)
{
    memset(fx, 0, sizeof *fx);
    hp__vclock_init(&fx->vc, T0);
    assert_int_equal(hp__restart_init(&fx->r, hp__vclock_clock(&fx->vc), cfg, seed), 0);
}

static void fx_init_policy(fixture *fx, hp__restart_policy policy)
{
    hp__restart_config cfg = exact_config();
    cfg.policy = policy;
    fx_init_with(fx, &cfg, SEED);
}

static void fx_run_to(fixture *fx, uint64_t t)
{
    assert_true(t >= fx->vc.now);
    hp__vclock_advance(&fx->vc, t - fx->vc.now);
}

static void fx_end(fixture *fx)
{
    hp__restart_close(&fx->r);
    hp__restart_close(&fx->r); /* a second close is a no-op */
}

static void assert_restart(hp__restart_decision d, uint32_t attempt, uint64_t delay_ms)
{
    assert_int_equal(d.action, HP__RESTART_RESTART);
    assert_int_equal(d.attempt, attempt);
    assert_int_equal(d.delay_ms, delay_ms);
}

static void assert_action(hp__restart_decision d, hp__restart_action action)
{
    assert_int_equal(d.action, action);
    assert_int_equal(d.attempt, 0);
    assert_int_equal(d.delay_ms, 0);
}

/* A crash loop: the process crashes as soon as it is restarted, each exit at the time the
 * previous decision said to restart it. Returns the time of the last exit. */
static uint64_t crash_loop(fixture *fx, const uint64_t *delays, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hp__restart_decision d = hp__restart_exited(&fx->r, true);
        assert_restart(d, (uint32_t)(i + 1), delays[i]);
        fx_run_to(fx, fx->vc.now + d.delay_ms);
    }
    return fx->vc.now;
}

static void config_defaults_checks_and_policy_names(void **state)
{
    hp__restart_config cfg;
    hp__restart_config_default(&cfg);
    assert_int_equal(cfg.policy, HP__RESTART_PERMANENT);
    assert_int_equal(cfg.initial_ms, 100);
    assert_int_equal(cfg.max_ms, 5000);
    assert_int_equal(cfg.factor_milli, 2000);
    assert_int_equal(cfg.jitter_ppm, 100000);
    assert_int_equal(cfg.max_restarts, 10);
    assert_int_equal(cfg.within_ms, 60000);
    assert_int_equal(hp__restart_config_check(&cfg), 0);

    hp__restart_config bad[8] = {cfg, cfg, cfg, cfg, cfg, cfg, cfg, cfg};
    bad[0].policy = (hp__restart_policy)3;
    bad[1].initial_ms = 0;
    bad[2].max_ms = 99; /* below initial */
    bad[3].factor_milli = 999;
    bad[4].factor_milli = HP__RESTART_MAX_FACTOR_MILLI + 1;
    bad[5].jitter_ppm = 1000000; /* a delay of 0 */
    bad[6].max_restarts = HP__RESTART_MAX_MAX_RESTARTS + 1;
    bad[7].within_ms = 0;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(hp__restart_config_check(&bad[i]), HP_EINVAL);
        hp__restart r;
        assert_int_equal(hp__restart_init(&r, hp__clock_monotonic(), &bad[i], SEED), HP_EINVAL);
    }

    assert_string_equal(hp__restart_policy_name(HP__RESTART_PERMANENT), "permanent");
    assert_string_equal(hp__restart_policy_name(HP__RESTART_TRANSIENT), "transient");
    assert_string_equal(hp__restart_policy_name(HP__RESTART_TEMPORARY), "temporary");
    assert_string_equal(hp__restart_policy_name((hp__restart_policy)3), "?");
    hp__restart_policy p = HP__RESTART_TEMPORARY;
    assert_int_equal(hp__restart_policy_parse("permanent", &p), 0);
    assert_int_equal(p, HP__RESTART_PERMANENT);
    assert_int_equal(hp__restart_policy_parse("transient", &p), 0);
    assert_int_equal(p, HP__RESTART_TRANSIENT);
    assert_int_equal(hp__restart_policy_parse("temporary", &p), 0);
    assert_int_equal(p, HP__RESTART_TEMPORARY);
    assert_int_equal(hp__restart_policy_parse("always", &p), HP_EINVAL);
    assert_int_equal(p, HP__RESTART_TEMPORARY);
}

static void delays_double_from_initial_and_cap_at_max(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    fx_init_with(&fx, &cfg, SEED);
    static const uint64_t delays[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000};
    crash_loop(&fx, delays, 10);
    assert_int_equal(fx.r.restarts, 10);
    fx_end(&fx);
}

static void a_fractional_factor_compounds_without_rounding_each_step(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    cfg.factor_milli = 1500;
    fx_init_with(&fx, &cfg, SEED);
    /* 100 · 1.5^k: 150, 225, 337.5, 506.25, 759.375, 1139.06..., rounded down at the end. */
    static const uint64_t delays[] = {100, 150, 225, 337, 506, 759, 1139};
    crash_loop(&fx, delays, 7);
    fx_end(&fx);
}

static void a_factor_of_one_keeps_the_delay_at_initial(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    cfg.factor_milli = 1000;
    fx_init_with(&fx, &cfg, SEED);
    static const uint64_t delays[] = {100, 100, 100, 100, 100};
    crash_loop(&fx, delays, 5);
    fx_end(&fx);
}

/* Up to 200 jittered delays (restarts 1 second apart in a window of 10 minutes). */
static size_t jittered_delays(uint64_t seed, uint64_t *delays, uint64_t *bases)
{
    fixture fx;
    hp__restart_config cfg;
    hp__restart_config_default(&cfg);
    cfg.max_restarts = 200;
    cfg.within_ms = 600000;
    fx_init_with(&fx, &cfg, seed);
    uint64_t base = cfg.initial_ms;
    for (size_t i = 0; i < 200; i++) {
        hp__restart_decision d = hp__restart_exited(&fx.r, true);
        assert_int_equal(d.action, HP__RESTART_RESTART);
        delays[i] = d.delay_ms;
        bases[i] = base;
        base = base * 2 > cfg.max_ms ? cfg.max_ms : base * 2;
        fx_run_to(&fx, fx.vc.now + 1000);
    }
    fx_end(&fx);
    return 200;
}

static void jitter_stays_within_its_bounds_and_repeats_for_a_seed(void **state)
{
    uint64_t a[200], b[200], c[200], bases[200];
    size_t n = jittered_delays(SEED, a, bases);
    jittered_delays(SEED, b, bases);
    jittered_delays(SEED + 1, c, bases);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    size_t below = 0, above = 0;
    for (size_t i = 0; i < n; i++) {
        /* [base · 0.9, base · 1.1], rounded down. */
        assert_in_range(a[i], bases[i] * 9 / 10, bases[i] * 11 / 10);
        below += a[i] < bases[i];
        above += a[i] > bases[i];
    }
    /* Spread on both sides of the backoff, even at the cap (5000 ± 500). */
    assert_true(below > 20 && above > 20);
    assert_int_equal(bases[n - 1], 5000);
}

static void the_restart_after_max_restarts_within_the_window_gives_up(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    fx_init_with(&fx, &cfg, SEED);
    static const uint64_t delays[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000};
    uint64_t last = crash_loop(&fx, delays, 10);
    assert_true(last < T0 + cfg.within_ms); /* all ten restarts are in the window */
    assert_false(hp__restart_gave_up(&fx.r));
    assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_GIVE_UP);
    assert_true(hp__restart_gave_up(&fx.r));
    /* Given up stays given up, even once the window has emptied, and a clean exit too. */
    fx_run_to(&fx, last + 2 * cfg.within_ms);
    assert_action(hp__restart_exited(&fx.r, false), HP__RESTART_GIVE_UP);
    assert_int_equal(fx.r.restarts, 10);
    assert_int_equal(fx.r.give_ups, 1);
    fx_end(&fx);
}

/* Three restarts at T0, T0 + 1 s, T0 + 2 s, with max_restarts 3 and a window of 10 s. */
static void three_restarts_in_ten_seconds(fixture *fx)
{
    hp__restart_config cfg = exact_config();
    cfg.max_restarts = 3;
    cfg.within_ms = 10000;
    fx_init_with(fx, &cfg, SEED);
    for (uint32_t k = 1; k <= 3; k++) {
        fx_run_to(fx, T0 + (k - 1) * 1000);
        assert_int_equal(hp__restart_exited(&fx->r, true).attempt, k);
    }
}

static void the_window_slides_old_restarts_leave_it_one_by_one(void **state)
{
    fixture fx;
    three_restarts_in_ten_seconds(&fx);
    /* The restart at T0 left; the two others are still in: attempt 3. */
    fx_run_to(&fx, T0 + 10000);
    assert_restart(hp__restart_exited(&fx.r, true), 3, 400);
    /* T0 + 1 s leaves in its turn: attempt 3 again; then the window is full. */
    fx_run_to(&fx, T0 + 11000);
    assert_restart(hp__restart_exited(&fx.r, true), 3, 400);
    assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_GIVE_UP);
    fx_end(&fx);
}

static void a_restart_stays_in_the_window_until_within_after_it(void **state)
{
    fixture fx;
    three_restarts_in_ten_seconds(&fx);
    fx_run_to(&fx, T0 + 10000);
    assert_restart(hp__restart_exited(&fx.r, true), 3, 400);
    /* 1 ms before T0 + 1 s leaves: the three restarts since then fill the window. */
    fx_run_to(&fx, T0 + 10999);
    assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_GIVE_UP);
    fx_end(&fx);
}

static void a_process_up_for_within_starts_again_from_initial(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    fx_init_with(&fx, &cfg, SEED);
    static const uint64_t delays[] = {100, 200, 400, 800};
    uint64_t last_restart = crash_loop(&fx, delays, 4) - 800;
    /* Up for a while, not long enough: two of the four restarts are still in the window. */
    fx_run_to(&fx, T0 + 200 + cfg.within_ms);
    assert_restart(hp__restart_exited(&fx.r, true), 3, 400);
    /* Up for `within` since its last restart: nothing in the window any more. */
    fx_run_to(&fx, fx.vc.now + cfg.within_ms);
    assert_true(fx.vc.now >= last_restart + cfg.within_ms);
    assert_restart(hp__restart_exited(&fx.r, true), 1, 100);
    fx_end(&fx);
}

static void transient_restarts_after_an_abnormal_exit_only(void **state)
{
    fixture fx;
    fx_init_policy(&fx, HP__RESTART_TRANSIENT);
    for (int i = 0; i < 20; i++)
        assert_action(hp__restart_exited(&fx.r, false), HP__RESTART_STAY_DOWN);
    /* Clean exits counted nothing: the first abnormal one is attempt 1. */
    assert_restart(hp__restart_exited(&fx.r, true), 1, 100);
    assert_restart(hp__restart_exited(&fx.r, true), 2, 200);
    assert_action(hp__restart_exited(&fx.r, false), HP__RESTART_STAY_DOWN);
    assert_int_equal(fx.r.restarts, 2);
    fx_end(&fx);
}

static void temporary_never_restarts(void **state)
{
    fixture fx;
    fx_init_policy(&fx, HP__RESTART_TEMPORARY);
    for (int i = 0; i < 20; i++) {
        assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_STAY_DOWN);
        assert_action(hp__restart_exited(&fx.r, false), HP__RESTART_STAY_DOWN);
    }
    assert_false(hp__restart_gave_up(&fx.r));
    assert_int_equal(fx.r.restarts, 0);
    fx_end(&fx);
}

static void permanent_restarts_after_a_clean_exit_too(void **state)
{
    fixture fx;
    fx_init_policy(&fx, HP__RESTART_PERMANENT);
    assert_restart(hp__restart_exited(&fx.r, false), 1, 100);
    assert_restart(hp__restart_exited(&fx.r, true), 2, 200);
    assert_restart(hp__restart_exited(&fx.r, false), 3, 400);
    fx_end(&fx);
}

static void a_manual_start_clears_the_count_and_the_give_up(void **state)
{
    fixture fx;
    three_restarts_in_ten_seconds(&fx);
    hp__restart_reset(&fx.r);
    assert_restart(hp__restart_exited(&fx.r, true), 1, 100);
    assert_restart(hp__restart_exited(&fx.r, true), 2, 200);
    assert_restart(hp__restart_exited(&fx.r, true), 3, 400);
    assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_GIVE_UP);
    hp__restart_reset(&fx.r);
    assert_false(hp__restart_gave_up(&fx.r));
    assert_restart(hp__restart_exited(&fx.r, true), 1, 100);
    fx_end(&fx);
}

static void max_restarts_zero_gives_up_at_the_first_restarting_exit(void **state)
{
    fixture fx;
    hp__restart_config cfg = exact_config();
    cfg.policy = HP__RESTART_TRANSIENT;
    cfg.max_restarts = 0;
    fx_init_with(&fx, &cfg, SEED);
    assert_action(hp__restart_exited(&fx.r, false), HP__RESTART_STAY_DOWN);
    assert_action(hp__restart_exited(&fx.r, true), HP__RESTART_GIVE_UP);
    fx_end(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_defaults_checks_and_policy_names),
        cmocka_unit_test(delays_double_from_initial_and_cap_at_max),
        cmocka_unit_test(a_fractional_factor_compounds_without_rounding_each_step),
        cmocka_unit_test(a_factor_of_one_keeps_the_delay_at_initial),
        cmocka_unit_test(jitter_stays_within_its_bounds_and_repeats_for_a_seed),
        cmocka_unit_test(the_restart_after_max_restarts_within_the_window_gives_up),
        cmocka_unit_test(the_window_slides_old_restarts_leave_it_one_by_one),
        cmocka_unit_test(a_restart_stays_in_the_window_until_within_after_it),
        cmocka_unit_test(a_process_up_for_within_starts_again_from_initial),
        cmocka_unit_test(transient_restarts_after_an_abnormal_exit_only),
        cmocka_unit_test(temporary_never_restarts),
        cmocka_unit_test(permanent_restarts_after_a_clean_exit_too),
        cmocka_unit_test(a_manual_start_clears_the_count_and_the_give_up),
        cmocka_unit_test(max_restarts_zero_gives_up_at_the_first_restarting_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
