/* Request path to root-relative path, and the folder redirect (src/handlers/file_path.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handlers/file_path.h"

#include <string.h>

static int norm(const char *in, char *out, size_t cap)
{
    size_t len;
    return hp__file_path_normalize((hp_str){in, strlen(in)}, out, cap, &len);
}

static void dot_segments_and_double_slashes_collapse(void **state)
{
    char out[256];
    assert_int_equal(norm("/a//b/./c/", out, sizeof out), 0);
    assert_string_equal(out, "a/b/c");
    assert_int_equal(norm("/a/b/../c", out, sizeof out), 0);
    assert_string_equal(out, "a/c");
    assert_int_equal(norm("/", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void climbing_above_the_root_is_400_even_encoded(void **state)
{
    char out[256];
    assert_int_equal(norm("/../etc/passwd", out, sizeof out), 400);
    assert_int_equal(norm("/a/../../etc/passwd", out, sizeof out), 400);
    assert_int_equal(norm("/%2e%2e/etc/passwd", out, sizeof out), 400);
    assert_int_equal(norm("/a%2f..%2f..%2fetc", out, sizeof out), 400);
}

static void percent_escapes_decode_and_bad_ones_are_400(void **state)
{
    char out[256];
    assert_int_equal(norm("/hello%20world.txt", out, sizeof out), 0);
    assert_string_equal(out, "hello world.txt");
    assert_int_equal(norm("/a%00b", out, sizeof out), 400);
    assert_int_equal(norm("/a%zz", out, sizeof out), 400);
    assert_int_equal(norm("/a%2", out, sizeof out), 400);
}

static void path_longer_than_the_buffer_is_414(void **state)
{
    char out[8];
    assert_int_equal(norm("/abcdefghijkl", out, sizeof out), 414);
}

static size_t location(const char *path, const char *query, char *out, size_t cap)
{
    return hp__file_path_folder_location(path, strlen(path), (hp_str){query, strlen(query)}, out,
                                         cap);
}

static void folder_location_is_the_normalized_path_with_a_slash_and_the_query(void **state)
{
    char out[256];
    assert_int_equal(location("docs/api", "", out, sizeof out), strlen("/docs/api/"));
    assert_string_equal(out, "/docs/api/");
    location("docs", "x=1&y=%41", out, sizeof out);
    assert_string_equal(out, "/docs/?x=1&y=%41");
}

static void folder_location_never_starts_with_two_slashes(void **state)
{
    char out[256], path[256];
    size_t len;
    /* "//evil.example/../docs" normalizes to "docs": the Location stays on this host */
    assert_int_equal(
        hp__file_path_normalize(HP_STR_LIT("//evil.example/../docs"), path, sizeof path, &len), 0);
    hp__file_path_folder_location(path, len, HP_STR_LIT(""), out, sizeof out);
    assert_string_equal(out, "/docs/");
    location("", "", out, sizeof out); /* the root asked as "/." */
    assert_string_equal(out, "/");
}

static void folder_location_escapes_what_a_path_cannot_carry(void **state)
{
    char out[256];
    location("a b/100%/x?y#z/\xc3\xa9", "", out, sizeof out);
    assert_string_equal(out, "/a%20b/100%25/x%3Fy%23z/%C3%A9/");
    location("keep-._~!$&'()*+,;=:@", "", out, sizeof out);
    assert_string_equal(out, "/keep-._~!$&'()*+,;=:@/");
}

static void folder_location_too_long_for_the_buffer_is_0(void **state)
{
    char out[8];
    assert_int_equal(location("abcdef", "", out, sizeof out), 0);
    assert_int_equal(location("a  b", "", out, sizeof out), 0); /* "/a%20%20b/" needs 11 */
    assert_int_equal(location("ab", "q", out, sizeof out), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dot_segments_and_double_slashes_collapse),
        cmocka_unit_test(climbing_above_the_root_is_400_even_encoded),
        cmocka_unit_test(percent_escapes_decode_and_bad_ones_are_400),
        cmocka_unit_test(path_longer_than_the_buffer_is_414),
        cmocka_unit_test(folder_location_is_the_normalized_path_with_a_slash_and_the_query),
        cmocka_unit_test(folder_location_never_starts_with_two_slashes),
        cmocka_unit_test(folder_location_escapes_what_a_path_cannot_carry),
        cmocka_unit_test(folder_location_too_long_for_the_buffer_is_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
