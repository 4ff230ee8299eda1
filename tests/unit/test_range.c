/* Single byte ranges (src/http/range.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/range.h"

#include <string.h>

static hp__range_result parse(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    return hp__range_parse((hp_str){h, strlen(h)}, size, off, len);
}

static void closed_range_gives_offset_and_length(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=0-0", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 0);
    assert_int_equal(len, 1);
    assert_int_equal(parse("bytes=2-5", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 2);
    assert_int_equal(len, 4);
}

static void open_and_overlong_ranges_end_at_the_last_byte(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=7-", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(len, 3);
    assert_int_equal(parse("bytes=7-100", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(len, 3);
}

static void suffix_range_takes_the_last_bytes_or_the_whole_file(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=-3", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 7);
    assert_int_equal(len, 3);
    assert_int_equal(parse("bytes=-30", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 0);
    assert_int_equal(len, 10);
}

static void start_at_or_past_end_and_empty_suffix_are_unsatisfiable(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=10-", 10, &off, &len), HP__RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=10-20", 10, &off, &len), HP__RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=-0", 10, &off, &len), HP__RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=0-", 0, &off, &len), HP__RANGE_UNSATISFIABLE);
}

static void invalid_multiple_or_foreign_ranges_are_ignored(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=5-2", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=0-1,3-4", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("items=0-1", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=-", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=a-b", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=0-1x", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=-5-", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=--5", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes 0-1", 10, &off, &len), HP__RANGE_NONE);
    assert_int_equal(parse("bytes=0-1,", 10, &off, &len), HP__RANGE_NONE);
}

static void huge_numbers_saturate_instead_of_wrapping(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse("bytes=99999999999999999999-", 10, &off, &len), HP__RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=18446744073709551615-", 10, &off, &len), HP__RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=2-99999999999999999999999", 10, &off, &len),
                     HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 2);
    assert_int_equal(len, 8);
    assert_int_equal(parse("bytes=-18446744073709551616", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 0);
    assert_int_equal(len, 10);
    assert_int_equal(parse("bytes=0-18446744073709551615", UINT64_MAX, &off, &len),
                     HP__RANGE_SATISFIABLE);
    assert_true(len == UINT64_MAX);
}

static void unit_is_case_insensitive_and_spaces_are_tolerated(void **state)
{
    uint64_t off, len;
    assert_int_equal(parse(" Bytes= 0-0 ", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(len, 1);
    assert_int_equal(parse("bytes=0009-0009", 10, &off, &len), HP__RANGE_SATISFIABLE);
    assert_int_equal(off, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_range_gives_offset_and_length),
        cmocka_unit_test(open_and_overlong_ranges_end_at_the_last_byte),
        cmocka_unit_test(suffix_range_takes_the_last_bytes_or_the_whole_file),
        cmocka_unit_test(start_at_or_past_end_and_empty_suffix_are_unsatisfiable),
        cmocka_unit_test(invalid_multiple_or_foreign_ranges_are_ignored),
        cmocka_unit_test(huge_numbers_saturate_instead_of_wrapping),
        cmocka_unit_test(unit_is_case_insensitive_and_spaces_are_tolerated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
