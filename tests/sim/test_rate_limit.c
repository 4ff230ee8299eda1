/* The rate limit's GCRA on a virtual clock (src/core/rate_limit.c): the 10 per
 * second, burst, block_for, cost, exact intervals that are not whole ms, idleness, and the
 * RateLimit header fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/rate_limit.h"
#include "hostpool/errors.h"

#include <string.h>

#define T0 100000 /* not 0, so origin mistakes show */

typedef struct fixture {
    hp__vclock vc;
    hp__clock clock;
    hp__rate_config config;
    hp__rate_state state;
} fixture;

static void fx_init(fixture *fx, uint32_t requests, uint64_t per_ms, uint32_t burst,
                    uint64_t block_for_ms)
{
    memset(fx, 0, sizeof *fx);
    hp__vclock_init(&fx->vc, T0);
    fx->clock = hp__vclock_clock(&fx->vc);
    fx->config = (hp__rate_config){
        .requests = requests, .per_ms = per_ms, .burst = burst, .block_for_ms = block_for_ms};
    assert_int_equal(hp__rate_config_check(&fx->config), 0);
}

static void run_to(fixture *fx, uint64_t t)
{
    assert_true(t >= fx->vc.now);
    hp__vclock_advance(&fx->vc, t - fx->vc.now);
}

static hp__rate_decision request_cost(fixture *fx, uint32_t cost)
{
    hp__rate_decision d;
    hp__rate_decide(&fx->state, hp__clock_now(&fx->clock), &fx->config, cost, &d);
    return d;
}

static hp__rate_decision request(fixture *fx)
{
    return request_cost(fx, 1);
}

static void assert_allowed(hp__rate_decision d, uint32_t remaining)
{
    assert_int_equal(d.verdict, HP__RATE_ALLOWED);
    assert_int_equal(d.remaining, remaining);
    assert_int_equal(d.retry_after_ms, 0);
}

static void assert_refused(hp__rate_decision d, hp__rate_verdict verdict, uint64_t retry_after_ms)
{
    assert_int_equal(d.verdict, verdict);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(d.retry_after_ms, retry_after_ms);
}

static void ten_per_second_leaves_five_after_five_requests(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 0, 0);
    for (uint32_t i = 1; i <= 5; i++) assert_allowed(request(&fx), 10 - i);
    assert_int_equal(request(&fx).remaining, 4); /* and it goes on counting down */
}

static void
the_eleventh_within_the_second_is_refused_with_retry_after_at_most_a_second(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 0, 0);
    for (int i = 0; i < 10; i++) {
        run_to(&fx, T0 + 5 * i);
        assert_allowed(request(&fx), 9 - i);
    }
    run_to(&fx, T0 + 50);
    hp__rate_decision d = request(&fx);
    /* TAT is T0 + 1000, tau 900: passes at T0 + 100. */
    assert_refused(d, HP__RATE_LIMITED, 50);
    assert_true(d.retry_after_ms > 0 && d.retry_after_ms <= 1000);
    assert_int_equal(hp__rate_retry_after_seconds(d.retry_after_ms), 1);
    assert_int_equal(d.reset_ms, 950);
    /* A refusal changed nothing: the same answer again. */
    assert_refused(request(&fx), HP__RATE_LIMITED, 50);
}

static void a_refused_request_passes_exactly_at_its_retry_after(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 0, 0);
    for (int i = 0; i < 10; i++) assert_allowed(request(&fx), 9 - i);
    assert_refused(request(&fx), HP__RATE_LIMITED, 100);
    run_to(&fx, T0 + 99);
    assert_refused(request(&fx), HP__RATE_LIMITED, 1);
    run_to(&fx, T0 + 100);
    assert_allowed(request(&fx), 0);
}

static void after_the_period_it_is_allowed_again_with_the_whole_quota(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 0, 0);
    for (int i = 0; i < 10; i++) request(&fx);
    assert_int_equal(request(&fx).verdict, HP__RATE_LIMITED);
    run_to(&fx, T0 + 1000);
    assert_allowed(request(&fx), 9);
}

static void burst_lets_b_extra_through_at_once_and_then_the_rate(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 5, 0);
    assert_int_equal(hp__rate_capacity(&fx.config), 15);
    for (int i = 0; i < 15; i++) assert_allowed(request(&fx), 14 - i);
    assert_refused(request(&fx), HP__RATE_LIMITED, 100);
    /* Then one every 100 ms, and no more, for a second. */
    for (uint64_t t = T0 + 1; t <= T0 + 1000; t++) {
        run_to(&fx, t);
        hp__rate_decision d = request(&fx);
        assert_int_equal(d.verdict, t % 100 == 0 ? HP__RATE_ALLOWED : HP__RATE_LIMITED);
    }
}

static void one_request_per_period_means_one_at_a_time(void **state)
{
    fixture fx;
    fx_init(&fx, 1, 2000, 0, 0);
    assert_allowed(request(&fx), 0);
    assert_refused(request(&fx), HP__RATE_LIMITED, 2000);
    run_to(&fx, T0 + 2000);
    assert_allowed(request(&fx), 0);
}

static void an_interval_of_a_fraction_of_a_ms_does_not_drift(void **state)
{
    /* 7 per second: T is 142.857... ms. Polled every ms once the bucket is empty, exactly 490
     * pass in 70 s (T rounded to 142 ms would let 492 through, 143 ms 489). */
    fixture fx;
    fx_init(&fx, 7, 1000, 0, 0);
    for (int i = 0; i < 7; i++) assert_allowed(request(&fx), 6 - i);
    int passed = 0;
    for (uint64_t t = T0 + 1; t <= T0 + 70000; t++) {
        run_to(&fx, t);
        hp__rate_decision d = request(&fx);
        if (hp__rate_allowed(&d)) passed++;
    }
    assert_int_equal(passed, 490);
}

static void block_for_keeps_a_refused_key_out_for_its_length_then_lets_it_in(void **state)
{
    fixture fx;
    fx_init(&fx, 5, 60000, 0, 300000);
    for (int i = 0; i < 5; i++) assert_allowed(request(&fx), 4 - i);
    hp__rate_decision d = request(&fx);
    assert_refused(d, HP__RATE_LIMITED, 300000);
    assert_int_equal(d.reset_ms, 300000);
    /* The bucket is full again after a minute; the block still holds, and requests refused
     * meanwhile do not lengthen it. */
    run_to(&fx, T0 + 60000);
    assert_refused(request(&fx), HP__RATE_BLOCKED, 240000);
    run_to(&fx, T0 + 299999);
    assert_refused(request(&fx), HP__RATE_BLOCKED, 1);
    run_to(&fx, T0 + 300000);
    assert_allowed(request(&fx), 4);
}

static void a_block_shorter_than_the_wait_gives_the_wait_as_retry_after(void **state)
{
    fixture fx;
    fx_init(&fx, 1, 10000, 0, 1000);
    assert_allowed(request(&fx), 0);
    assert_refused(request(&fx), HP__RATE_LIMITED, 10000);
}

static void a_request_of_cost_c_counts_as_c_requests(void **state)
{
    fixture fx;
    fx_init(&fx, 10, 1000, 0, 0);
    assert_allowed(request_cost(&fx, 3), 7);
    assert_allowed(request_cost(&fx, 3), 4);
    assert_allowed(request_cost(&fx, 3), 1);
    /* 3 more need two intervals more than the one left. */
    assert_refused(request_cost(&fx, 3), HP__RATE_LIMITED, 200);
    assert_allowed(request_cost(&fx, 1), 0);
    /* The whole capacity at once passes on a full bucket. */
    run_to(&fx, T0 + 1000);
    assert_allowed(request_cost(&fx, 10), 0);
}

static void a_state_is_idle_exactly_when_its_bucket_is_full_and_it_is_not_blocked(void **state)
{
    fixture fx;
    fx_init(&fx, 7, 1000, 0, 0);
    assert_true(hp__rate_state_idle(&fx.state, T0, &fx.config));
    request(&fx);
    /* One interval, 142.857 ms, later: idle from the 143rd ms. */
    assert_int_equal(hp__rate_state_idle_at(&fx.state, &fx.config), T0 + 143);
    assert_false(hp__rate_state_idle(&fx.state, T0 + 142, &fx.config));
    assert_true(hp__rate_state_idle(&fx.state, T0 + 143, &fx.config));

    fx_init(&fx, 1, 1000, 0, 5000);
    request(&fx);
    request(&fx); /* refused: blocked until T0 + 5000 */
    assert_false(hp__rate_state_idle(&fx.state, T0 + 4999, &fx.config));
    assert_true(hp__rate_state_idle(&fx.state, T0 + 5000, &fx.config));
}

static void retry_after_seconds_round_up_and_are_at_least_one(void **state)
{
    assert_int_equal(hp__rate_retry_after_seconds(0), 1);
    assert_int_equal(hp__rate_retry_after_seconds(1), 1);
    assert_int_equal(hp__rate_retry_after_seconds(1000), 1);
    assert_int_equal(hp__rate_retry_after_seconds(1001), 2);
    assert_int_equal(hp__rate_retry_after_seconds(300000), 300);
}

static void the_ratelimit_fields_name_the_policy_quota_window_remaining_and_reset(void **state)
{
    char buf[128];
    hp__rate_config config = {.requests = 100, .per_ms = 60000, .burst = 20};
    int n = hp__rate_policy_field(buf, sizeof buf, "api", &config);
    assert_string_equal(buf, "\"api\";q=100;w=60");
    assert_int_equal(n, (int)strlen(buf));

    config.per_ms = 1500; /* a window in whole seconds, rounded up */
    hp__rate_policy_field(buf, sizeof buf, "api", &config);
    assert_string_equal(buf, "\"api\";q=100;w=2");

    hp__rate_decision d = {.verdict = HP__RATE_ALLOWED, .remaining = 5, .reset_ms = 500};
    n = hp__rate_limit_field(buf, sizeof buf, "api", &d);
    assert_string_equal(buf, "\"api\";r=5;t=1");
    assert_int_equal(n, (int)strlen(buf));
    d = (hp__rate_decision){.verdict = HP__RATE_ALLOWED, .remaining = 9, .reset_ms = 0};
    hp__rate_limit_field(buf, sizeof buf, "api", &d);
    assert_string_equal(buf, "\"api\";r=9;t=0");
}

static void a_policy_name_is_escaped_or_refused(void **state)
{
    char buf[64];
    hp__rate_config config = {.requests = 5, .per_ms = 60000};
    hp__rate_policy_field(buf, sizeof buf, "a\"b\\c", &config);
    assert_string_equal(buf, "\"a\\\"b\\\\c\";q=5;w=60");
    assert_int_equal(hp__rate_policy_field(buf, sizeof buf, "a\nb", &config), HP_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(hp__rate_policy_field(buf, sizeof buf, "caf\xc3\xa9", &config), HP_EINVAL);
}

static void a_field_that_does_not_fit_leaves_an_empty_buffer(void **state)
{
    char buf[14]; /* "\"api\";q=5;w=60" is 14 bytes, and the NUL */
    hp__rate_config config = {.requests = 5, .per_ms = 60000};
    assert_int_equal(hp__rate_policy_field(buf, sizeof buf, "api", &config), HP_ELIMIT);
    assert_string_equal(buf, "");
    assert_int_equal(hp__rate_policy_field(buf, 3, "api", &config), HP_ELIMIT);
    assert_string_equal(buf, "");
    char fits[15];
    assert_int_equal(hp__rate_policy_field(fits, sizeof fits, "api", &config), 14);
}

static void config_check_refuses_out_of_range_fields(void **state)
{
    hp__rate_config ok = {.requests = 1, .per_ms = 1};
    assert_int_equal(hp__rate_config_check(&ok), 0);
    hp__rate_config c = ok;
    c.requests = 0;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
    c = ok;
    c.requests = HP__RATE_MAX_REQUESTS + 1;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
    c = ok;
    c.per_ms = 0;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
    c = ok;
    c.per_ms = HP__RATE_MAX_PERIOD_MS + 1;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
    c = ok;
    c.burst = HP__RATE_MAX_BURST + 1;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
    c = ok;
    c.block_for_ms = HP__RATE_MAX_PERIOD_MS + 1;
    assert_int_equal(hp__rate_config_check(&c), HP_EINVAL);
}

static void the_largest_limit_on_a_clock_of_300_years_does_not_overflow(void **state)
{
    /* The bounds' promise: 10^6 requests (and 10^6 burst) per 366 days at ~317 years. */
    hp__rate_config config = {.requests = HP__RATE_MAX_REQUESTS,
                              .burst = HP__RATE_MAX_BURST,
                              .per_ms = HP__RATE_MAX_PERIOD_MS};
    hp__rate_state s = {0};
    uint64_t now = 10000000000000ull;
    hp__rate_decision d;
    hp__rate_decide(&s, now, &config, hp__rate_capacity(&config), &d);
    assert_allowed(d, 0);
    assert_int_equal(d.reset_ms, 2 * HP__RATE_MAX_PERIOD_MS);
    hp__rate_decide(&s, now, &config, 1, &d);
    assert_refused(d, HP__RATE_LIMITED, 31623); /* 31,622.4 ms, rounded up */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_per_second_leaves_five_after_five_requests),
        cmocka_unit_test(
            the_eleventh_within_the_second_is_refused_with_retry_after_at_most_a_second),
        cmocka_unit_test(a_refused_request_passes_exactly_at_its_retry_after),
        cmocka_unit_test(after_the_period_it_is_allowed_again_with_the_whole_quota),
        cmocka_unit_test(burst_lets_b_extra_through_at_once_and_then_the_rate),
        cmocka_unit_test(one_request_per_period_means_one_at_a_time),
        cmocka_unit_test(an_interval_of_a_fraction_of_a_ms_does_not_drift),
        cmocka_unit_test(block_for_keeps_a_refused_key_out_for_its_length_then_lets_it_in),
        cmocka_unit_test(a_block_shorter_than_the_wait_gives_the_wait_as_retry_after),
        cmocka_unit_test(a_request_of_cost_c_counts_as_c_requests),
        cmocka_unit_test(a_state_is_idle_exactly_when_its_bucket_is_full_and_it_is_not_blocked),
        cmocka_unit_test(retry_after_seconds_round_up_and_are_at_least_one),
        cmocka_unit_test(the_ratelimit_fields_name_the_policy_quota_window_remaining_and_reset),
        cmocka_unit_test(a_policy_name_is_escaped_or_refused),
        cmocka_unit_test(a_field_that_does_not_fit_leaves_an_empty_buffer),
        cmocka_unit_test(config_check_refuses_out_of_range_fields),
        cmocka_unit_test(the_largest_limit_on_a_clock_of_300_years_does_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
