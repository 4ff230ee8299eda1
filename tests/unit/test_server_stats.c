/* A server's counters: status codes beyond one chunk, the duration buckets' bounds, errors as
 * 5xx plus aborted, workers summed, and a shared block that outlives one version. */
#include "http/stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void codes_beyond_one_chunk_are_kept_and_sorted(void **state)
{
    hp__server_stats *s = hp__server_stats_create(1);
    hp__stats_slice *slice = hp__server_stats_slice(s, 0);
    const int codes[] = {503, 200, 404, 302, 201, 500, 200, 418, 200};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        hp__stats_slice_record(slice, codes[i], 1000, 10, 20);
    hp__stats_totals t;
    hp__stats_totals_read(s, &t);
    assert_int_equal(t.code_count, 7);
    const int sorted[] = {200, 201, 302, 404, 418, 500, 503};
    for (size_t i = 0; i < 7; i++) assert_int_equal(t.codes[i].code, sorted[i]);
    assert_int_equal(t.codes[0].count, 3);
    assert_int_equal(t.responses, 9);
    assert_int_equal(t.bytes_in, 90);
    assert_int_equal(t.bytes_out, 180);
    hp__stats_totals_close(&t);
    hp__server_stats_release(s);
}

static void a_duration_on_a_bound_falls_in_that_bucket(void **state)
{
    hp__server_stats *s = hp__server_stats_create(1);
    hp__stats_slice *slice = hp__server_stats_slice(s, 0);
    hp__stats_slice_record(slice, 200, 500000, 0, 0);      /* 0.5 ms: le="0.0005" */
    hp__stats_slice_record(slice, 200, 500001, 0, 0);      /* just over: le="0.001" */
    hp__stats_slice_record(slice, 200, 11000000000, 0, 0); /* 11 s: +Inf */
    hp__stats_totals t;
    hp__stats_totals_read(s, &t);
    assert_int_equal(t.buckets[0], 1);
    assert_int_equal(t.buckets[1], 1);
    assert_int_equal(t.buckets[HP__DURATION_BUCKETS], 1);
    assert_int_equal(t.duration_ns, 500000 + 500001 + 11000000000ull);
    hp__stats_totals_close(&t);
    hp__server_stats_release(s);
}

static void errors_are_5xx_responses_and_aborted_requests(void **state)
{
    hp__server_stats *s = hp__server_stats_create(1);
    hp__stats_slice *slice = hp__server_stats_slice(s, 0);
    hp__stats_slice_record(slice, 500, 0, 0, 0);
    hp__stats_slice_record(slice, 599, 0, 0, 0);
    hp__stats_slice_record(slice, 404, 0, 0, 0);
    hp__stats_slice_record(slice, 0, 0, 5, 0); /* ended without a response */
    hp__stats_totals t;
    hp__stats_totals_read(s, &t);
    assert_int_equal(t.responses, 3);
    assert_int_equal(t.aborted, 1);
    assert_int_equal(t.errors, 3);
    assert_int_equal(t.buckets[0], 3); /* aborted requests are not in the histogram */
    assert_int_equal(t.bytes_in, 5);
    hp__stats_totals_close(&t);
    hp__server_stats_release(s);
}

static void workers_are_summed_and_idle_ones_cost_no_slice(void **state)
{
    hp__server_stats *s = hp__server_stats_create(3);
    hp__stats_slice_record(hp__server_stats_slice(s, 0), 200, 0, 1, 1);
    hp__stats_slice *w2 = hp__server_stats_slice(s, 2);
    hp__stats_slice_record(w2, 200, 0, 1, 1);
    hp__counter_add(&w2->in_flight, 2);
    hp__counter_sub(&w2->in_flight, 1);
    assert_null(atomic_load(&s->slices[1]));
    hp__stats_totals t;
    hp__stats_totals_read(s, &t);
    assert_int_equal(t.responses, 2);
    assert_int_equal(t.in_flight, 1);
    hp__stats_totals_close(&t);
    hp__server_stats_release(s);
}

static void a_shared_block_lives_until_its_last_version_releases_it(void **state)
{
    hp__server_stats *old = hp__server_stats_create(1);
    hp__stats_slice_record(hp__server_stats_slice(old, 0), 200, 0, 0, 0);
    hp__server_stats *replacement = hp__server_stats_share(old);
    hp__server_stats_release(old); /* the old version is gone; its counts stay */
    hp__stats_slice_record(hp__server_stats_slice(replacement, 0), 200, 0, 0, 0);
    hp__stats_totals t;
    hp__stats_totals_read(replacement, &t);
    assert_int_equal(t.responses, 2);
    hp__stats_totals_close(&t);
    hp__server_stats_release(replacement);
    hp__stats_totals_read(NULL, &t); /* a server that never ran */
    assert_int_equal(t.responses, 0);
    hp__stats_totals_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_beyond_one_chunk_are_kept_and_sorted),
        cmocka_unit_test(a_duration_on_a_bound_falls_in_that_bucket),
        cmocka_unit_test(errors_are_5xx_responses_and_aborted_requests),
        cmocka_unit_test(workers_are_summed_and_idle_ones_cost_no_slice),
        cmocka_unit_test(a_shared_block_lives_until_its_last_version_releases_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
