/* Durations and sizes as config files and flags write them (src/common/units.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/units.h"

static void durations_take_ms_s_m_h_suffixes(void **state)
{
    uint64_t ms;
    assert_true(hp__parse_duration_ms("250ms", &ms));
    assert_int_equal(ms, 250);
    assert_true(hp__parse_duration_ms("10s", &ms));
    assert_int_equal(ms, 10000);
    assert_true(hp__parse_duration_ms("15m", &ms));
    assert_int_equal(ms, 900000);
    assert_true(hp__parse_duration_ms("2h", &ms));
    assert_int_equal(ms, 7200000);
}

static void bare_duration_is_seconds(void **state)
{
    uint64_t ms;
    assert_true(hp__parse_duration_ms("3", &ms));
    assert_int_equal(ms, 3000);
}

static void bad_durations_are_refused(void **state)
{
    uint64_t ms;
    assert_false(hp__parse_duration_ms("", &ms));
    assert_false(hp__parse_duration_ms("s", &ms));
    assert_false(hp__parse_duration_ms("-1s", &ms));
    assert_false(hp__parse_duration_ms("10 s", &ms));
    assert_false(hp__parse_duration_ms("10d", &ms));
    assert_false(hp__parse_duration_ms("99999999999999999999s", &ms));
    assert_false(hp__parse_duration_ms(NULL, &ms));
}

static void sizes_take_binary_suffixes(void **state)
{
    uint64_t b;
    assert_true(hp__parse_size("512", &b));
    assert_int_equal(b, 512);
    assert_true(hp__parse_size("16KiB", &b));
    assert_int_equal(b, 16384);
    assert_true(hp__parse_size("1MiB", &b));
    assert_int_equal(b, 1048576);
    assert_true(hp__parse_size("2GiB", &b));
    assert_int_equal(b, 2147483648u);
    assert_true(hp__parse_size("8KB", &b));
    assert_int_equal(b, 8192);
}

static void size_overflow_is_refused(void **state)
{
    uint64_t b;
    assert_false(hp__parse_size("18446744073709551615GiB", &b));
    assert_false(hp__parse_size("1TiB", &b));
    assert_false(hp__parse_size("KiB", &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_take_ms_s_m_h_suffixes),
        cmocka_unit_test(bare_duration_is_seconds),
        cmocka_unit_test(bad_durations_are_refused),
        cmocka_unit_test(sizes_take_binary_suffixes),
        cmocka_unit_test(size_overflow_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
