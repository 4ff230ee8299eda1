/* Durations and sizes as config files and flags write them (src/common/units.c): exactly the
 * documented forms (docs/CONFIG.md), nothing that merely looks close, and back to text. */
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
    static const char *const refused[] = {"1.5s", "10S",   "1d",  "+5s", " 5s", "5s ",
                                          "1hr",  "10sec", "5 m", "1M",  "1H",  "5mS"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (hp__parse_duration_ms(refused[i], &ms)) fail_msg("\"%s\" was taken", refused[i]);
}

static void sizes_are_bytes_or_kib_mib_gib(void **state)
{
    uint64_t b;
    assert_true(hp__parse_size("512", &b));
    assert_int_equal(b, 512);
    assert_true(hp__parse_size("0", &b));
    assert_int_equal(b, 0);
    assert_true(hp__parse_size("16KiB", &b));
    assert_int_equal(b, 16384);
    assert_true(hp__parse_size("1MiB", &b));
    assert_int_equal(b, 1048576);
    assert_true(hp__parse_size("2GiB", &b));
    assert_int_equal(b, 2147483648u);
}

static void decimal_and_abbreviated_size_units_are_refused(void **state)
{
    /* Not documented, so not guessed at: 10MB is not 10MiB, k is not KiB. */
    static const char *const refused[] = {"8KB", "10MB", "1GB",    "16k",   "16K",    "1m",
                                          "1M",  "1B",   "16kib",  "16KIB", "1.5MiB", "-1",
                                          "",    "KiB",  "16 KiB", "16KiB "};
    uint64_t b;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (hp__parse_size(refused[i], &b)) fail_msg("\"%s\" was taken", refused[i]);
}

static void size_overflow_is_refused(void **state)
{
    uint64_t b;
    assert_false(hp__parse_size("18446744073709551615GiB", &b));
    assert_false(hp__parse_size("18446744073709551616", &b));
    assert_false(hp__parse_size("1TiB", &b));
}

static void values_are_written_in_the_largest_exact_unit(void **state)
{
    static const struct {
        uint64_t v;
        const char *duration, *size;
    } cases[] = {
        {0, "0ms", "0"},
        {250, "250ms", "250"},
        {1024, "1024ms", "1KiB"},
        {1536, "1536ms", "1536"},
        {90000, "90s", "90000"},
        {900000, "15m", "900000"},
        {86400000, "24h", "84375KiB"},
        {1048576, "1048576ms", "1MiB"},
        {1073741824, "1073741824ms", "1GiB"},
        {3 * 1073741824ull, "3221225472ms", "3GiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[32];
        uint64_t back;
        hp__format_duration_ms(cases[i].v, text, sizeof text);
        assert_string_equal(text, cases[i].duration);
        assert_true(hp__parse_duration_ms(text, &back));
        assert_int_equal(back, cases[i].v);
        hp__format_size(cases[i].v, text, sizeof text);
        assert_string_equal(text, cases[i].size);
        assert_true(hp__parse_size(text, &back));
        assert_int_equal(back, cases[i].v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_take_ms_s_m_h_suffixes),
        cmocka_unit_test(bare_duration_is_seconds),
        cmocka_unit_test(bad_durations_are_refused),
        cmocka_unit_test(sizes_are_bytes_or_kib_mib_gib),
        cmocka_unit_test(decimal_and_abbreviated_size_units_are_refused),
        cmocka_unit_test(size_overflow_is_refused),
        cmocka_unit_test(values_are_written_in_the_largest_exact_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
