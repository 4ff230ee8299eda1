/* The request's normalized path to a root-relative path, and the folder redirect
 * (src/handlers/file_path.c). The paths given here are normalized ones, as the engine passes
 * them (tests/unit/test_url_path.c covers the normalization). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/url_path.h"
#include "handlers/file_path.h"

#include <string.h>

static int from_request(const char *in, char *out, size_t cap, bool *folder)
{
    size_t len;
    int status = hp__file_path_from_request((hp_str){in, strlen(in)}, out, cap, &len, folder);
    if (status == 0) assert_int_equal(len, strlen(out));
    return status;
}

static void leading_slash_goes_and_a_trailing_one_names_a_folder(void **state)
{
    char out[256];
    bool folder;
    assert_int_equal(from_request("/a/b.txt", out, sizeof out, &folder), 0);
    assert_string_equal(out, "a/b.txt");
    assert_false(folder);
    assert_int_equal(from_request("/docs/", out, sizeof out, &folder), 0);
    assert_string_equal(out, "docs");
    assert_true(folder);
    assert_int_equal(from_request("/", out, sizeof out, &folder), 0);
    assert_string_equal(out, "");
    assert_true(folder);
    assert_int_equal(from_request("/index.html/", out, sizeof out, &folder), 0);
    assert_string_equal(out, "index.html");
    assert_true(folder);
}

static void escapes_decode_into_the_names_bytes(void **state)
{
    char out[256];
    bool folder;
    assert_int_equal(from_request("/hello%20world.txt", out, sizeof out, &folder), 0);
    assert_string_equal(out, "hello world.txt");
    assert_int_equal(from_request("/caf%C3%A9/100%25/a%3Fb%23c%5C", out, sizeof out, &folder), 0);
    assert_string_equal(out, "caf\xc3\xa9/100%/a?b#c\\");
}

static void escaped_slash_names_no_file_404(void **state)
{
    char out[256];
    bool folder;
    assert_int_equal(from_request("/secret%2Ff", out, sizeof out, &folder), 404);
    assert_int_equal(from_request("/a/..%2F..%2Fetc", out, sizeof out, &folder), 404);
    assert_int_equal(from_request("/%2F", out, sizeof out, &folder), 404);
}

static void a_path_the_engine_never_passes_is_400(void **state)
{
    char out[256];
    bool folder;
    assert_int_equal(from_request("a/b", out, sizeof out, &folder), 400);
    assert_int_equal(from_request("", out, sizeof out, &folder), 400);
    assert_int_equal(from_request("/a%00b", out, sizeof out, &folder), 400);
    assert_int_equal(from_request("/a%zz", out, sizeof out, &folder), 400);
    assert_int_equal(from_request("/a%2", out, sizeof out, &folder), 400);
    assert_int_equal(from_request("/a%2/", out, sizeof out, &folder), 400);
}

static void path_longer_than_the_buffer_is_414(void **state)
{
    char out[8];
    bool folder;
    assert_int_equal(from_request("/abcdefgh", out, sizeof out, &folder), 414);
    assert_int_equal(from_request("/abcdefg", out, sizeof out, &folder), 0);
    assert_int_equal(from_request("/abcdefg/", out, sizeof out, &folder), 0);
}

static size_t location(const char *path, const char *query, char *out, size_t cap)
{
    return hp__file_path_folder_location((hp_str){path, strlen(path)},
                                         (hp_str){query, strlen(query)}, out, cap);
}

static void folder_location_is_the_path_with_a_slash_and_the_query(void **state)
{
    char out[256];
    assert_int_equal(location("/docs/api", "", out, sizeof out), strlen("/docs/api/"));
    assert_string_equal(out, "/docs/api/");
    location("/docs", "x=1&y=%41", out, sizeof out);
    assert_string_equal(out, "/docs/?x=1&y=%41");
    location("/a%20b/100%25", "", out, sizeof out);
    assert_string_equal(out, "/a%20b/100%25/");
}

/* The Location is built from the normalized path: whatever the client wrote, it starts with
 * one '/' and a segment. */
static void folder_location_never_starts_with_two_slashes_or_a_backslash(void **state)
{
    static const char *const raws[] = {
        "//evil.example/../docs", "//evil.example",    "///evil.example",
        "/.//evil.example",       "/%2f/evil.example", "/\\evil.example",
        "/%5cevil.example",       "/./\\evil",         "/x/..//evil.example",
    };
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        char path[HP__URL_PATH_MAX(64)], out[256];
        size_t len;
        assert_int_equal(
            hp__url_path_normalize((hp_str){raws[i], strlen(raws[i])}, path, sizeof path, &len), 0);
        assert_true(location(path, "", out, sizeof out) > 0);
        assert_true(out[0] == '/' && out[1] != '/' && out[1] != '\\');
    }
    char path[64], out[64];
    size_t len;
    hp__url_path_normalize(HP_STR_LIT("//evil.example/../docs"), path, sizeof path, &len);
    location(path, "", out, sizeof out);
    assert_string_equal(out, "/docs/");
}

static void folder_location_too_long_for_the_buffer_is_0(void **state)
{
    char out[8];
    assert_int_equal(location("/abcdef", "", out, sizeof out), 0); /* "/abcdef/" needs 9 */
    assert_int_equal(location("/abcde", "", out, sizeof out), 7);
    assert_int_equal(location("/ab", "qqq", out, sizeof out), 0);
    assert_int_equal(location("/ab", "q", out, sizeof out), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leading_slash_goes_and_a_trailing_one_names_a_folder),
        cmocka_unit_test(escapes_decode_into_the_names_bytes),
        cmocka_unit_test(escaped_slash_names_no_file_404),
        cmocka_unit_test(a_path_the_engine_never_passes_is_400),
        cmocka_unit_test(path_longer_than_the_buffer_is_414),
        cmocka_unit_test(folder_location_is_the_path_with_a_slash_and_the_query),
        cmocka_unit_test(folder_location_never_starts_with_two_slashes_or_a_backslash),
        cmocka_unit_test(folder_location_too_long_for_the_buffer_is_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
