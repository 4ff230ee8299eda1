/* Entity-tags, If-None-Match, If-Modified-Since and If-Range (src/http/conditional.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/conditional.h"
#include "http/http_date.h"

#include <string.h>

#define TAG "\"5f5e100.1f-a-2a\""

static hp_str S(const char *s)
{
    return (hp_str){s, strlen(s)};
}

static bool not_modified(const char *inm, const char *ims, time_t mtime)
{
    hp_str a = S(inm ? inm : ""), b = S(ims ? ims : "");
    return hp__conditional_not_modified(inm ? &a : NULL, ims ? &b : NULL, TAG, mtime);
}

static bool range_applies(const char *if_range, time_t mtime)
{
    hp_str v = S(if_range ? if_range : "");
    return hp__conditional_range_applies(if_range ? &v : NULL, TAG, mtime);
}

static void etag_names_seconds_nanoseconds_size_and_inode(void **state)
{
    char tag[HP__ETAG_MAX];
    hp__etag_format(tag, (struct timespec){100000000, 31}, 10, 42);
    assert_string_equal(tag, TAG);
}

static void etag_changes_with_nanoseconds_alone_or_inode_alone(void **state)
{
    char a[HP__ETAG_MAX], b[HP__ETAG_MAX], c[HP__ETAG_MAX];
    hp__etag_format(a, (struct timespec){1700000000, 1}, 10, 7);
    hp__etag_format(b, (struct timespec){1700000000, 2}, 10, 7);
    hp__etag_format(c, (struct timespec){1700000000, 1}, 10, 8);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
}

static void etag_of_extreme_values_fits_with_its_closing_quote(void **state)
{
    char tag[HP__ETAG_MAX];
    hp__etag_format(tag, (struct timespec){INT64_MAX, 999999999}, UINT64_MAX, UINT64_MAX);
    assert_int_equal(tag[strlen(tag) - 1], '"');
}

static void if_none_match_matches_exact_weak_listed_and_star(void **state)
{
    assert_true(not_modified(TAG, NULL, 0));
    assert_true(not_modified("W/" TAG, NULL, 0));
    assert_true(not_modified("\"other\", " TAG, NULL, 0));
    assert_true(not_modified("\"x,y\",W/" TAG " ", NULL, 0));
    assert_true(not_modified("*", NULL, 0));
    assert_true(not_modified(" * ", NULL, 0));
}

static void if_none_match_other_or_garbage_tags_do_not_match(void **state)
{
    assert_false(not_modified("\"other\"", NULL, 0));
    assert_false(not_modified("5f5e100.1f-a-2a", NULL, 0)); /* unquoted */
    assert_false(not_modified("\"5f5e100.1f-a-2a", NULL, 0));
    assert_false(not_modified("", NULL, 0));
    assert_false(not_modified(",,W/", NULL, 0));
    assert_false(not_modified("\"a\", *", NULL, 0)); /* "*" is only valid alone */
}

static void if_none_match_present_makes_if_modified_since_ignored(void **state)
{
    assert_false(not_modified("\"other\"", "Sun, 06 Nov 1994 08:49:37 GMT", 0));
}

static void if_modified_since_at_or_after_mtime_is_not_modified(void **state)
{
    const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
    time_t t;
    assert_true(hp__http_date_parse(S(date), &t));
    assert_true(not_modified(NULL, date, t));
    assert_true(not_modified(NULL, date, t - 1));
    assert_false(not_modified(NULL, date, t + 1));
    assert_true(not_modified(NULL, "Sunday, 06-Nov-94 08:49:37 GMT", t));
    assert_true(not_modified(NULL, "Sun Nov  6 08:49:37 1994", t));
}

static void if_modified_since_invalid_date_is_ignored(void **state)
{
    assert_false(not_modified(NULL, "yesterday", 0));
    assert_false(not_modified(NULL, "", 0));
    assert_false(not_modified(NULL, NULL, 0));
}

static void if_range_needs_a_strong_match_or_the_exact_date(void **state)
{
    const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
    time_t t;
    assert_true(hp__http_date_parse(S(date), &t));
    assert_true(range_applies(NULL, t));
    assert_true(range_applies(TAG, t));
    assert_true(range_applies(" " TAG " ", t));
    assert_false(range_applies("W/" TAG, t));
    assert_false(range_applies("\"other\"", t));
    assert_true(range_applies(date, t));
    assert_false(range_applies(date, t + 1));
    assert_false(range_applies("garbage", t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(etag_names_seconds_nanoseconds_size_and_inode),
        cmocka_unit_test(etag_changes_with_nanoseconds_alone_or_inode_alone),
        cmocka_unit_test(etag_of_extreme_values_fits_with_its_closing_quote),
        cmocka_unit_test(if_none_match_matches_exact_weak_listed_and_star),
        cmocka_unit_test(if_none_match_other_or_garbage_tags_do_not_match),
        cmocka_unit_test(if_none_match_present_makes_if_modified_since_ignored),
        cmocka_unit_test(if_modified_since_at_or_after_mtime_is_not_modified),
        cmocka_unit_test(if_modified_since_invalid_date_is_ignored),
        cmocka_unit_test(if_range_needs_a_strong_match_or_the_exact_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
