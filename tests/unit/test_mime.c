/* Content types by file extension (src/handlers/mime.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handlers/mime.h"

#include <string.h>

static const char *type(const char *path)
{
    return hp__mime_type(path, strlen(path));
}

static void every_listed_extension_has_its_type(void **state)
{
    static const char *const cases[][2] = {
        {"a.html", "text/html; charset=utf-8"},
        {"a.htm", "text/html; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.mjs", "text/javascript; charset=utf-8"},
        {"a.json", "application/json"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.xml", "application/xml"},
        {"a.svg", "image/svg+xml"},
        {"a.png", "image/png"},
        {"a.jpg", "image/jpeg"},
        {"a.jpeg", "image/jpeg"},
        {"a.gif", "image/gif"},
        {"a.webp", "image/webp"},
        {"a.ico", "image/x-icon"},
        {"a.wasm", "application/wasm"},
        {"a.pdf", "application/pdf"},
        {"a.woff", "font/woff"},
        {"a.woff2", "font/woff2"},
        {"a.mp4", "video/mp4"},
        {"a.webm", "video/webm"},
        {"a.mp3", "audio/mpeg"},
        {"a.zip", "application/zip"},
        {"a.gz", "application/gzip"},
        {"a.tar", "application/x-tar"},
        {"a.csv", "text/csv; charset=utf-8"},
        {"a.md", "text/markdown; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(type(cases[i][0]), cases[i][1]);
}

static void extension_lookup_ignores_case(void **state)
{
    assert_string_equal(type("LOGO.PNG"), "image/png");
    assert_string_equal(type("Index.HtMl"), "text/html; charset=utf-8");
}

static void only_the_last_extension_counts(void **state)
{
    assert_string_equal(type("x.tar.gz"), "application/gzip");
    assert_string_equal(type("a/index.html"), "text/html; charset=utf-8");
}

static void unknown_or_missing_extension_is_octet_stream(void **state)
{
    const char *bin = "application/octet-stream";
    assert_string_equal(type("README"), bin);
    assert_string_equal(type("a.unknown"), bin);
    assert_string_equal(type("a.verylongextension"), bin);
    assert_string_equal(type("a."), bin);
    assert_string_equal(type(""), bin);
    assert_string_equal(type("dir.d/file"), bin); /* a dot in a folder name is no extension */
}

static void length_bounds_the_lookup_not_the_nul(void **state)
{
    assert_string_equal(hp__mime_type("a.pngxyz", 5), "image/png");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_listed_extension_has_its_type),
        cmocka_unit_test(extension_lookup_ignores_case),
        cmocka_unit_test(only_the_last_extension_counts),
        cmocka_unit_test(unknown_or_missing_extension_is_octet_stream),
        cmocka_unit_test(length_bounds_the_lookup_not_the_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
