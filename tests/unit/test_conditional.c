/* Entity-tags and preconditions: If-Match, If-Unmodified-Since, If-None-Match,
 * If-Modified-Since and If-Range (src/http/conditional.c). */
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

/* A GET with the headers `names`[i]: `values`[i] (NULL-terminated), judged against TAG. */
static int status_of(const char *const *names, const char *const *values, time_t mtime, time_t now)
{
    hp_header headers[8];
    size_t n = 0;
    for (; names[n]; n++) headers[n] = (hp_header){S(names[n]), S(values[n])};
    hp_request req = {.method = S("GET"), .headers = headers, .header_count = n};
    return hp__conditional_status(&req, TAG, mtime, now);
}

#define NOW ((time_t)2000000000)

/* One header, or none when `name` is NULL. */
static int status1(const char *name, const char *value, time_t mtime)
{
    const char *names[] = {name, NULL}, *values[] = {value, NULL};
    return status_of(names, values, mtime, NOW);
}

static bool not_modified(const char *inm, const char *ims, time_t mtime)
{
    const char *names[3] = {NULL}, *values[3] = {NULL};
    size_t n = 0;
    if (inm) names[n] = "If-None-Match", values[n++] = inm;
    if (ims) names[n] = "If-Modified-Since", values[n++] = ims;
    return status_of(names, values, mtime, NOW) == 304;
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

static void if_modified_since_later_than_now_is_ignored(void **state)
{
    char future[HP__HTTP_DATE_LEN + 1], now[HP__HTTP_DATE_LEN + 1];
    hp__http_date_format(NOW + 1, future);
    hp__http_date_format(NOW, now);
    assert_false(not_modified(NULL, future, NOW - 100));
    assert_false(not_modified(NULL, future, NOW + 1));
    assert_true(not_modified(NULL, now, NOW - 100));
    assert_true(not_modified(NULL, now, NOW));
}

static void if_modified_since_in_two_lines_is_ignored(void **state)
{
    const char *names[] = {"If-Modified-Since", "if-modified-since", NULL};
    const char *values[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", NULL};
    time_t t;
    assert_true(hp__http_date_parse(S(values[0]), &t));
    assert_int_equal(status_of(names, values, t, NOW), 0);
    assert_int_equal(status_of(names + 1, values + 1, t, NOW), 304);
}

static void if_none_match_in_several_lines_is_one_list(void **state)
{
    const char *names[] = {"If-None-Match", "If-None-Match", NULL};
    const char *values[] = {"\"a\"", TAG, NULL};
    assert_int_equal(status_of(names, values, 0, NOW), 304);
}

static void if_match_needs_a_strong_match_or_star_else_412(void **state)
{
    assert_int_equal(status1("If-Match", TAG, 0), 0);
    assert_int_equal(status1("If-Match", "\"a\", " TAG, 0), 0);
    assert_int_equal(status1("If-Match", "*", 0), 0);
    assert_int_equal(status1("If-Match", "W/" TAG, 0), 412);
    assert_int_equal(status1("If-Match", "\"other\"", 0), 412);
    assert_int_equal(status1("If-Match", "", 0), 412);
    const char *names[] = {"If-Match", "If-Match", NULL};
    const char *values[] = {"\"other\"", TAG, NULL};
    assert_int_equal(status_of(names, values, 0, NOW), 0);
}

static void if_unmodified_since_fails_only_for_a_later_mtime(void **state)
{
    const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
    time_t t;
    assert_true(hp__http_date_parse(S(date), &t));
    assert_int_equal(status1("If-Unmodified-Since", date, t), 0); /* the edge: equal */
    assert_int_equal(status1("If-Unmodified-Since", date, t - 1), 0);
    assert_int_equal(status1("If-Unmodified-Since", date, t + 1), 412);
    char future[HP__HTTP_DATE_LEN + 1];
    hp__http_date_format(NOW + 3600, future); /* not modified since then: no failure */
    assert_int_equal(status1("If-Unmodified-Since", future, NOW), 0);
    assert_int_equal(status1("If-Unmodified-Since", "yesterday", t + 1), 0); /* ignored */
    const char *names[] = {"If-Unmodified-Since", "If-Unmodified-Since", NULL};
    const char *values[] = {date, date, NULL};
    assert_int_equal(status_of(names, values, t + 1, NOW), 0); /* two lines: ignored */
}

static void if_match_present_makes_if_unmodified_since_ignored(void **state)
{
    const char *names[] = {"If-Match", "If-Unmodified-Since", NULL};
    const char *values[] = {TAG, "Sun, 06 Nov 1994 08:49:37 GMT", NULL};
    assert_int_equal(status_of(names, values, NOW, NOW), 0);
}

static void failed_precondition_wins_over_not_modified(void **state)
{
    const char *names[] = {"If-Match", "If-None-Match", NULL};
    const char *values[] = {"\"other\"", TAG, NULL};
    assert_int_equal(status_of(names, values, 0, NOW), 412);
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
        cmocka_unit_test(if_modified_since_later_than_now_is_ignored),
        cmocka_unit_test(if_modified_since_in_two_lines_is_ignored),
        cmocka_unit_test(if_none_match_in_several_lines_is_one_list),
        cmocka_unit_test(if_match_needs_a_strong_match_or_star_else_412),
        cmocka_unit_test(if_unmodified_since_fails_only_for_a_later_mtime),
        cmocka_unit_test(if_match_present_makes_if_unmodified_since_ignored),
        cmocka_unit_test(failed_precondition_wins_over_not_modified),
        cmocka_unit_test(if_range_needs_a_strong_match_or_the_exact_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
