/* hp_str helpers (src/common/str.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/str.h"

static void case_insensitive_compare_ignores_ascii_case_only(void **state)
{
    assert_true(hp__str_ieq(HP_STR_LIT("Content-Length"), "content-length"));
    assert_false(hp__str_ieq(HP_STR_LIT("Content-Lengt"), "content-length"));
    assert_false(hp__str_ieq(HP_STR_LIT("\xc3\x84"), "\xc3\xa4"));
    assert_true(hp__str_eq(HP_STR_LIT("abc"), "abc"));
    assert_false(hp__str_eq(HP_STR_LIT("abc"), "ABC"));
}

static void trim_strips_spaces_and_tabs_at_both_ends(void **state)
{
    hp_str t = hp__str_trim(HP_STR_LIT(" \t value \t"));
    assert_int_equal(t.len, 5);
    assert_memory_equal(t.base, "value", 5);
    assert_int_equal(hp__str_trim(HP_STR_LIT("  ")).len, 0);
}

static void u64_parse_rejects_signs_overflow_and_limits(void **state)
{
    uint64_t v;
    assert_true(hp__str_to_u64(HP_STR_LIT("12345"), UINT64_MAX, &v));
    assert_int_equal(v, 12345);
    assert_true(hp__str_to_u64(HP_STR_LIT("18446744073709551615"), UINT64_MAX, &v));
    assert_false(hp__str_to_u64(HP_STR_LIT("18446744073709551616"), UINT64_MAX, &v));
    assert_false(hp__str_to_u64(HP_STR_LIT("+1"), UINT64_MAX, &v));
    assert_false(hp__str_to_u64(HP_STR_LIT(""), UINT64_MAX, &v));
    assert_false(hp__str_to_u64(HP_STR_LIT("101"), 100, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case_insensitive_compare_ignores_ascii_case_only),
        cmocka_unit_test(trim_strips_spaces_and_tabs_at_both_ends),
        cmocka_unit_test(u64_parse_rejects_signs_overflow_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
