/* The normalized path (src/core/url_path.c), table-driven: what each raw path becomes, or the
 * status it is refused with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/url_path.h"

#include <stdio.h>
#include <string.h>

typedef struct path_case {
    const char *raw;
    const char *normalized; /* NULL: refused with `status` */
    int status;
} path_case;

static int normalize(const char *raw, char *out, size_t cap, size_t *len)
{
    return hp__url_path_normalize((hp_str){raw, strlen(raw)}, out, cap, len);
}

static void run_cases(const path_case *cases, size_t count)
{
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        const path_case *c = &cases[i];
        char out[HP__URL_PATH_MAX(256)] = "";
        size_t len = 0;
        int status = normalize(c->raw, out, sizeof out, &len);
        bool ok = c->normalized ? status == 0 && strcmp(out, c->normalized) == 0 &&
                                      len == strlen(c->normalized)
                                : status == c->status;
        if (!ok) {
            failures++;
            print_message("\"%s\": got %d \"%s\", want %d \"%s\"\n", c->raw, status,
                          status ? "" : out, c->normalized ? 0 : c->status,
                          c->normalized ? c->normalized : "");
        }
    }
    assert_int_equal(failures, 0);
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof cases[0])

static void plain_paths_are_left_as_they_are(void **state)
{
    static const path_case cases[] = {
        {"/", "/", 0},
        {"/a", "/a", 0},
        {"/a/", "/a/", 0},
        {"/a/b.txt", "/a/b.txt", 0},
        {"/keep-._~!$&'()*+,;=:@", "/keep-._~!$&'()*+,;=:@", 0},
        {"/...", "/...", 0},
        {"/a./.b/..c", "/a./.b/..c", 0},
    };
    RUN(cases);
}

static void repeated_slashes_merge(void **state)
{
    static const path_case cases[] = {
        {"//", "/", 0},
        {"//a", "/a", 0},
        {"/a//b", "/a/b", 0},
        {"/a///b//", "/a/b/", 0},
        {"//secret/f", "/secret/f", 0},
        {"//evil.example/", "/evil.example/", 0},
    };
    RUN(cases);
}

static void dot_segments_resolve_and_a_final_one_names_a_folder(void **state)
{
    static const path_case cases[] = {
        {"/./secret/f", "/secret/f", 0},
        {"/x/../secret/f", "/secret/f", 0},
        {"/a/b/../c", "/a/c", 0},
        {"/a/./b/./", "/a/b/", 0},
        {"/a/.", "/a/", 0},
        {"/a/..", "/", 0},
        {"/a/b/..", "/a/", 0},
        {"/a/b/../..", "/", 0},
        {"/.", "/", 0},
        {"/a//..", "/", 0},
        {"/a/.//b", "/a/b", 0},
        {"//evil.example/../docs", "/docs", 0},
    };
    RUN(cases);
}

static void encoded_dots_are_dot_segments(void **state)
{
    static const path_case cases[] = {
        {"/%2e/secret/f", "/secret/f", 0},      {"/%2E/secret/f", "/secret/f", 0},
        {"/x/%2e%2e/secret/f", "/secret/f", 0}, {"/x/.%2E/secret/f", "/secret/f", 0},
        {"/x/%2e./secret/f", "/secret/f", 0},   {"/%2e%2e%2e", "/...", 0},
    };
    RUN(cases);
}

static void climbing_above_the_root_is_400(void **state)
{
    static const path_case cases[] = {
        {"/..", NULL, 400},        {"/../x", NULL, 400},
        {"/a/../../x", NULL, 400}, {"/%2e%2e/etc/passwd", NULL, 400},
        {"/./../x", NULL, 400},    {"//../x", NULL, 400},
    };
    RUN(cases);
}

static void unreserved_and_pchar_escapes_decode_with_any_hex_case(void **state)
{
    static const path_case cases[] = {
        {"/%73ecret/f", "/secret/f", 0},       {"/%73%65%63%72%65%74/f", "/secret/f", 0},
        {"/%7e%7E%2d%5f", "/~~-_", 0},         {"/%41%5a%30%39", "/AZ09", 0},
        {"/a%21b%3a%40%3b%3D", "/a!b:@;=", 0},
    };
    RUN(cases);
}

static void other_bytes_are_escaped_in_uppercase_hex(void **state)
{
    static const path_case cases[] = {
        {"/a%20b", "/a%20b", 0},
        {"/caf%c3%a9", "/caf%C3%A9", 0},
        {"/caf\xc3\xa9", "/caf%C3%A9", 0},
        {"/100%25", "/100%25", 0},
        {"/a%3fb%23c", "/a%3Fb%23c", 0},
        {"/a\"b<c>d\\e", "/a%22b%3Cc%3Ed%5Ce", 0},
        {"/{x}|^`", "/%7Bx%7D%7C%5E%60", 0},
        {"/a#b", "/a%23b", 0},
        {"/%0d%0a", "/%0D%0A", 0},
        {"/%5c%5cevil", "/%5C%5Cevil", 0},
        {"/\x7f\x01", "/%7F%01", 0},
    };
    RUN(cases);
}

static void encoded_slash_stays_inside_its_segment(void **state)
{
    static const path_case cases[] = {
        {"/secret%2ff", "/secret%2Ff", 0},
        {"/secret%2Ff", "/secret%2Ff", 0},
        {"/a%2f..%2f..%2fetc", "/a%2F..%2F..%2Fetc", 0},
        {"/%2f%2fevil", "/%2F%2Fevil", 0},
        {"/x/%2e%2e%2f", "/x/..%2F", 0},
    };
    RUN(cases);
}

static void bad_escapes_nul_and_relative_paths_are_400(void **state)
{
    static const path_case cases[] = {
        {"/a%00b", NULL, 400}, {"/a%zz", NULL, 400}, {"/a%2", NULL, 400},
        {"/a%", NULL, 400},    {"/%g0", NULL, 400},  {"a/b", NULL, 400},
        {"", NULL, 400},       {"*", NULL, 400},     {"/a%0", NULL, 400},
    };
    RUN(cases);
}

static void raw_nul_byte_is_400(void **state)
{
    char out[16];
    size_t len;
    assert_int_equal(hp__url_path_normalize((hp_str){"/a\0b", 4}, out, sizeof out, &len), 400);
}

static void form_that_does_not_fit_is_414_and_the_maximum_always_fits(void **state)
{
    char out[HP__URL_PATH_MAX(8)];
    size_t len;
    assert_int_equal(normalize("/abcdefgh", out, 9, &len), 414); /* 9 bytes and the NUL */
    assert_int_equal(normalize("/abcdefg", out, 9, &len), 0);
    assert_int_equal(normalize("/a/", out, 3, &len), 414);
    assert_int_equal(normalize("/", out, 1, &len), 414);
    /* Every byte escaped: 3 per byte of the raw path, and the NUL. */
    assert_int_equal(normalize("/\xff\xff\xff\xff\xff\xff\xff", out, sizeof out, &len), 0);
    assert_int_equal(len, sizeof out - 3);
    char big[HP__URL_PATH_MAX(8)];
    assert_int_equal(normalize("/\xff\xff\xff\xff\xff\xff\xff", big, sizeof big - 3, &len), 414);
}

static void normalized_form_normalizes_to_itself(void **state)
{
    static const char *const raws[] = {
        "/x/../secret/f", "/%2e/a//b/.", "/caf\xc3\xa9/%7e", "/a%2fb/%25/", "/a\"b\\c", "/",
    };
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        char once[HP__URL_PATH_MAX(64)], twice[HP__URL_PATH_MAX(HP__URL_PATH_MAX(64))];
        size_t len1, len2;
        assert_int_equal(normalize(raws[i], once, sizeof once, &len1), 0);
        assert_int_equal(normalize(once, twice, sizeof twice, &len2), 0);
        assert_string_equal(once, twice);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_paths_are_left_as_they_are),
        cmocka_unit_test(repeated_slashes_merge),
        cmocka_unit_test(dot_segments_resolve_and_a_final_one_names_a_folder),
        cmocka_unit_test(encoded_dots_are_dot_segments),
        cmocka_unit_test(climbing_above_the_root_is_400),
        cmocka_unit_test(unreserved_and_pchar_escapes_decode_with_any_hex_case),
        cmocka_unit_test(other_bytes_are_escaped_in_uppercase_hex),
        cmocka_unit_test(encoded_slash_stays_inside_its_segment),
        cmocka_unit_test(bad_escapes_nul_and_relative_paths_are_400),
        cmocka_unit_test(raw_nul_byte_is_400),
        cmocka_unit_test(form_that_does_not_fit_is_414_and_the_maximum_always_fits),
        cmocka_unit_test(normalized_form_normalizes_to_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
