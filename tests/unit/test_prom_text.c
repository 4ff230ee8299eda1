/* The Prometheus text writer: HELP and TYPE lines, samples with escaped labels, exact integers,
 * histograms with cumulative buckets. */
#include "core/prom_text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void a_family_has_help_then_type_then_its_samples(void **state)
{
    hp__prom p;
    hp__prom_init(&p);
    hp__prom_family(&p, "hostpool_up", "gauge", "1 when up.");
    hp__prom_u64(&p, "hostpool_up", NULL, 0, 1);
    hp__prom_label l[] = {{"server", "web"}, {"code", "200"}};
    hp__prom_u64(&p, "hostpool_up", l, 2, 7);
    assert_string_equal(p.text, "# HELP hostpool_up 1 when up.\n"
                                "# TYPE hostpool_up gauge\n"
                                "hostpool_up 1\n"
                                "hostpool_up{server=\"web\",code=\"200\"} 7\n");
    hp__prom_close(&p);
}

static void label_values_and_help_are_escaped(void **state)
{
    hp__prom p;
    hp__prom_init(&p);
    hp__prom_family(&p, "m", "counter", "a \\ b\nc \"q\"");
    hp__prom_label l = {"server", "a\"b\\c\nd"};
    hp__prom_u64(&p, "m", &l, 1, 0);
    assert_string_equal(p.text, "# HELP m a \\\\ b\\nc \"q\"\n"
                                "# TYPE m counter\n"
                                "m{server=\"a\\\"b\\\\c\\nd\"} 0\n");
    hp__prom_close(&p);
}

static void integers_are_exact_and_doubles_keep_fifteen_digits(void **state)
{
    hp__prom p;
    hp__prom_init(&p);
    hp__prom_u64(&p, "big", NULL, 0, UINT64_MAX);
    hp__prom_double(&p, "start", NULL, 0, 1795420020.25);
    hp__prom_double(&p, "small", NULL, 0, 0.000955578);
    assert_string_equal(p.text, "big 18446744073709551615\n"
                                "start 1795420020.25\n"
                                "small 0.000955578\n");
    hp__prom_close(&p);
}

static void histogram_buckets_are_cumulative_and_end_with_inf_sum_and_count(void **state)
{
    hp__prom p;
    hp__prom_init(&p);
    const double bounds[] = {0.001, 0.5, 10};
    const uint64_t counts[] = {2, 0, 3, 1};
    hp__prom_label l = {"server", "s"};
    hp__prom_histogram(&p, "d_seconds", &l, 1, bounds, 3, counts, 12.5);
    assert_string_equal(p.text, "d_seconds_bucket{server=\"s\",le=\"0.001\"} 2\n"
                                "d_seconds_bucket{server=\"s\",le=\"0.5\"} 2\n"
                                "d_seconds_bucket{server=\"s\",le=\"10\"} 5\n"
                                "d_seconds_bucket{server=\"s\",le=\"+Inf\"} 6\n"
                                "d_seconds_sum{server=\"s\"} 12.5\n"
                                "d_seconds_count{server=\"s\"} 6\n");
    hp__prom_close(&p);
}

static void take_hands_the_text_over(void **state)
{
    hp__prom p;
    hp__prom_init(&p);
    for (int i = 0; i < 1000; i++) hp__prom_u64(&p, "grow_the_buffer", NULL, 0, (uint64_t)i);
    size_t len;
    char *text = hp__prom_take(&p, &len);
    assert_int_equal(len, strlen(text));
    assert_null(p.text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_family_has_help_then_type_then_its_samples),
        cmocka_unit_test(label_values_and_help_are_escaped),
        cmocka_unit_test(integers_are_exact_and_doubles_keep_fifteen_digits),
        cmocka_unit_test(histogram_buckets_are_cumulative_and_end_with_inf_sum_and_count),
        cmocka_unit_test(take_hands_the_text_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
