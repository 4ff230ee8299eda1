/* hp_str helpers (src/common/str.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/str.h"

#include <arpa/inet.h>
#include <string.h>

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

static void ipv4_text_is_what_inet_ntop_writes(void **state)
{
    const unsigned char cases[][4] = {
        {127, 0, 0, 1}, {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 200, 3, 99}, {1, 20, 100, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[INET_ADDRSTRLEN], got[16];
        assert_non_null(inet_ntop(AF_INET, cases[i], want, sizeof want));
        assert_int_equal(hp__ipv4_text(cases[i], got), strlen(want));
        assert_string_equal(got, want);
    }
}

static void utf8_repair_keeps_valid_text_and_replaces_each_bad_byte(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},                                                                    /* never valid */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                                 /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 /* a surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"}, /* a sequence cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n = hp__utf8_repair(cases[i].in, strlen(cases[i].in), out);
        assert_int_equal(n, strlen(cases[i].want));
        assert_memory_equal(out, cases[i].want, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case_insensitive_compare_ignores_ascii_case_only),
        cmocka_unit_test(trim_strips_spaces_and_tabs_at_both_ends),
        cmocka_unit_test(u64_parse_rejects_signs_overflow_and_limits),
        cmocka_unit_test(ipv4_text_is_what_inet_ntop_writes),
        cmocka_unit_test(utf8_repair_keeps_valid_text_and_replaces_each_bad_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
