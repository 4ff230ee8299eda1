/* file-server rules beyond the basics of test_file_server.c: symlinks inside and outside the
 * root, folders (redirect, index, no listing, a file asked as one), unsatisfiable ranges,
 * If-Modified-Since, If-Range, methods, and a changed file seen within the cache's one-second
 * validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hp_test.h"

static hp_test_server srv;
static char dir[4096], root[4200];

static int start_server(void **state)
{
    snprintf(dir, sizeof dir, "%s/file-rules", hp_test_temp_dir());
    snprintf(root, sizeof root, "%s/www", dir);
    char link[4400], target[4400];
    if (hp_test_write_file(dir, "outside.txt", "outside\n", 8) != 0 ||
        hp_test_write_file(root, "ten.txt", "0123456789", 10) != 0 ||
        hp_test_write_file(root, "changing.txt", "version 1\n", 10) != 0 ||
        hp_test_write_file(root, "empty/.keep", "", 0) != 0 ||
        hp_test_write_file(root, "docs/index.html", "docs index\n", 11) != 0 ||
        hp_test_write_file(root, "index.html", "root index\n", 11) != 0 ||
        hp_test_write_file(root, "future.txt", "from the future\n", 16) != 0)
        return -1;
    char future[4400];
    snprintf(future, sizeof future, "%s/future.txt", root);
    struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time(NULL) + 86400}};
    if (utimensat(AT_FDCWD, future, times, 0) != 0) return -1;
    snprintf(target, sizeof target, "%s/outside.txt", dir);
    snprintf(link, sizeof link, "%s/escape.txt", root);
    if (symlink(target, link) != 0) return -1;
    snprintf(link, sizeof link, "%s/alias.txt", root);
    if (symlink("ten.txt", link) != 0) return -1;
    return hp_test_server_startl(&srv, "file-server", "--listen", HP_TEST_LISTEN, "--root", root,
                                 "--no-access-log", "--workers", "1", NULL);
}

static int stop_server(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static void get(const char *request, hp_test_response *resp)
{
    assert_int_equal(hp_test_exchange(srv.port, request, resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void symlink_leading_outside_the_root_is_403(void **state)
{
    hp_test_response r;
    get("GET /escape.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, "outside"));
    hp_test_response_free(&r);
}

static void symlink_inside_the_root_is_followed(void **state)
{
    hp_test_response r;
    get("GET /alias.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "0123456789");
    hp_test_response_free(&r);
}

static void folder_without_slash_redirects_with_query(void **state)
{
    hp_test_response r;
    get("GET /docs?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(hp_test_response_header(&r, "Location"), "/docs/?x=1");
    hp_test_response_free(&r);
}

static void folder_redirect_cannot_be_turned_into_another_host(void **state)
{
    hp_test_response r;
    get("GET //evil.example/../docs HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(hp_test_response_header(&r, "Location"), "/docs/");
    hp_test_response_free(&r);
}

static void folder_with_slash_serves_its_index(void **state)
{
    hp_test_response r;
    get("GET /docs/ HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "docs index\n");
    hp_test_response_free(&r);
}

/* A trailing slash names a folder: a file asked with one is not served (as nginx answers). */
static void file_asked_with_a_trailing_slash_is_404(void **state)
{
    static const char *const targets[] = {"/index.html/",      "/ten.txt/",  "/ten.txt//",
                                          "/docs/index.html/", "/ten.txt/.", "/alias.txt/",
                                          "/ten.txt/x/.."};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char request[256];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", targets[i]);
        hp_test_response r;
        get(request, &r);
        if (r.status != 404) print_message("%s: %d\n", targets[i], r.status);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "index"));
        assert_null(strstr(r.body, "0123"));
        hp_test_response_free(&r);
    }
}

static void folder_named_any_way_ending_in_a_slash_serves_its_index(void **state)
{
    static const struct {
        const char *target, *body;
    } cases[] = {{"/", "root index\n"},        {"/docs/.", "docs index\n"},
                 {"//docs//", "docs index\n"}, {"/x/../docs/", "docs index\n"},
                 {"/%64ocs/", "docs index\n"}, {"/docs/x/..", "docs index\n"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char request[256];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", cases[i].target);
        hp_test_response r;
        get(request, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, cases[i].body);
        hp_test_response_free(&r);
    }
}

static void folder_redirect_is_built_from_the_normalized_path(void **state)
{
    static const struct {
        const char *target, *location;
    } cases[] = {{"/.//docs", "/docs/"},
                 {"///docs?a=1", "/docs/?a=1"},
                 {"/%64ocs", "/docs/"},
                 {"/docs/../docs", "/docs/"},
                 {"/empty/../docs", "/docs/"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char request[256];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", cases[i].target);
        hp_test_response r;
        get(request, &r);
        assert_int_equal(r.status, 301);
        assert_string_equal(hp_test_response_header(&r, "Location"), cases[i].location);
        hp_test_response_free(&r);
    }
}

/* A folder whose path, escaped, is three times as long as asked (a raw '{' becomes %7B; raw
 * UTF-8 would too, but the engine refuses bytes over 0x7F in a target): the Location still
 * fits. */
static void folder_redirect_of_a_long_path_escaped_three_times_is_whole(void **state)
{
    char name[3000] = "", seg[201];
    memset(seg, '{', 200);
    seg[200] = '\0';
    for (int i = 0; i < 12; i++) {
        strcat(name, seg);
        strcat(name, "/");
    }
    char file[3100];
    snprintf(file, sizeof file, "%sindex.html", name);
    assert_int_equal(hp_test_write_file(root, file, "deep\n", 5), 0);
    name[strlen(name) - 1] = '\0'; /* the folder without its slash */
    char request[3200];
    snprintf(request, sizeof request, "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n", name);
    hp_test_response r;
    get(request, &r);
    assert_int_equal(r.status, 301);
    const char *location = hp_test_response_header(&r, "Location");
    assert_non_null(location);
    assert_int_equal(strlen(location), 12 * (200 * 3 + 1) + 1); /* "/" and "%7B"... "/" */
    assert_memory_equal(location, "/%7B%7B", 7);
    hp_test_response_free(&r);
}

static void folder_without_index_is_403_never_listed(void **state)
{
    hp_test_response r;
    get("GET /empty/ HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, ".keep"));
    hp_test_response_free(&r);
}

static void range_past_the_end_is_416_with_the_size(void **state)
{
    hp_test_response r;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=10-\r\n\r\n", &r);
    assert_int_equal(r.status, 416);
    assert_string_equal(hp_test_response_header(&r, "Content-Range"), "bytes */10");
    assert_int_equal(hp_test_response_header_count(&r, "Content-Type"), 1);
    hp_test_response_free(&r);
}

static void suffix_range_is_206_with_content_range(void **state)
{
    hp_test_response r;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=-3\r\n\r\n", &r);
    assert_int_equal(r.status, 206);
    assert_string_equal(r.body, "789");
    assert_string_equal(hp_test_response_header(&r, "Content-Range"), "bytes 7-9/10");
    hp_test_response_free(&r);
}

static void if_modified_since_last_modified_is_304_without_body(void **state)
{
    hp_test_response first, r;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n", &first);
    const char *lm = hp_test_response_header(&first, "Last-Modified");
    assert_non_null(lm);
    char request[256];
    snprintf(request, sizeof request,
             "GET /ten.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: %s\r\n\r\n", lm);
    get(request, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    hp_test_response_free(&r);
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
        "GMT\r\n\r\n",
        &r);
    assert_int_equal(r.status, 200);
    hp_test_response_free(&r);
    hp_test_response_free(&first);
}

/* The IMF-fixdate of `t` into out[30]. */
static void http_date(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The time of an IMF-fixdate, or 0 (also for NULL). */
static time_t parse_http_date(const char *text)
{
    struct tm tm = {0};
    const char *end = text ? strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    return end && !*end ? timegm(&tm) : 0;
}

/* GET /ten.txt with one more header line; its status. */
static int ten_with(const char *name, const char *value)
{
    char request[512];
    snprintf(request, sizeof request, "GET /ten.txt HTTP/1.1\r\nHost: t\r\n%s: %s\r\n\r\n", name,
             value);
    hp_test_response r;
    get(request, &r);
    int status = r.status;
    if (status == 200) assert_string_equal(r.body, "0123456789");
    hp_test_response_free(&r);
    return status;
}

static void if_modified_since_later_than_now_is_ignored(void **state)
{
    char date[30];
    http_date(time(NULL) + 86400, date);
    assert_int_equal(ten_with("If-Modified-Since", date), 200);
}

static void if_unmodified_since_before_the_file_changed_is_412(void **state)
{
    hp_test_response first;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n", &first);
    const char *lm = hp_test_response_header(&first, "Last-Modified");
    assert_non_null(lm);
    assert_int_equal(ten_with("If-Unmodified-Since", lm), 200); /* the edge: the same second */
    assert_int_equal(ten_with("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"), 412);
    char date[30];
    http_date(time(NULL) + 86400, date);
    assert_int_equal(ten_with("If-Unmodified-Since", date), 200);
    hp_test_response_free(&first);
}

static void if_match_with_another_etag_is_412(void **state)
{
    hp_test_response first;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n", &first);
    const char *etag = hp_test_response_header(&first, "ETag");
    assert_non_null(etag);
    assert_int_equal(ten_with("If-Match", etag), 200);
    assert_int_equal(ten_with("If-Match", "*"), 200);
    assert_int_equal(ten_with("If-Match", "\"other\""), 412);
    hp_test_response_free(&first);
}

/* A file touched into the future: its Last-Modified is the answer's Date, never later, and a
 * client that sends it back gets the file (its mtime is still later than that). */
static void last_modified_of_a_file_from_the_future_is_not_later_than_date(void **state)
{
    hp_test_response r;
    get("GET /future.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    time_t last_modified = parse_http_date(hp_test_response_header(&r, "Last-Modified"));
    time_t date = parse_http_date(hp_test_response_header(&r, "Date"));
    assert_true(last_modified > 0 && date > 0);
    assert_true(last_modified <= date);
    assert_true(date - last_modified <= 1); /* the time of the answer, not the mtime */
    char request[256];
    snprintf(request, sizeof request,
             "GET /future.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: %s\r\n\r\n",
             hp_test_response_header(&r, "Last-Modified"));
    hp_test_response again;
    get(request, &again);
    assert_int_equal(again.status, 200);
    assert_string_equal(again.body, "from the future\n");
    hp_test_response_free(&again);
    hp_test_response_free(&r);
}

static void if_range_with_another_etag_sends_the_whole_file(void **state)
{
    hp_test_response r;
    get("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nIf-Range: \"old\"\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "0123456789");
    hp_test_response_free(&r);
}

static void post_is_405_with_allow(void **state)
{
    hp_test_response r;
    get("POST /ten.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(hp_test_response_header(&r, "Allow"), "GET, HEAD");
    hp_test_response_free(&r);
}

static bool serves_version_2(void *data)
{
    hp_test_response r;
    if (hp_test_exchange(srv.port, "GET /changing.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r, 1000))
        return false;
    bool changed = r.status == 200 && strcmp(r.body, "version 2, longer\n") == 0;
    hp_test_response_free(&r);
    return changed;
}

static void changed_file_is_served_new_within_the_validation_second(void **state)
{
    hp_test_response r;
    get("GET /changing.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_string_equal(r.body, "version 1\n");
    hp_test_response_free(&r);
    assert_int_equal(hp_test_write_file(root, "changing.txt", "version 2, longer\n", 18), 0);
    assert_true(hp_test_poll_until(serves_version_2, NULL, 3000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symlink_leading_outside_the_root_is_403),
        cmocka_unit_test(symlink_inside_the_root_is_followed),
        cmocka_unit_test(folder_without_slash_redirects_with_query),
        cmocka_unit_test(folder_redirect_cannot_be_turned_into_another_host),
        cmocka_unit_test(folder_with_slash_serves_its_index),
        cmocka_unit_test(folder_without_index_is_403_never_listed),
        cmocka_unit_test(file_asked_with_a_trailing_slash_is_404),
        cmocka_unit_test(folder_named_any_way_ending_in_a_slash_serves_its_index),
        cmocka_unit_test(folder_redirect_is_built_from_the_normalized_path),
        cmocka_unit_test(folder_redirect_of_a_long_path_escaped_three_times_is_whole),
        cmocka_unit_test(range_past_the_end_is_416_with_the_size),
        cmocka_unit_test(suffix_range_is_206_with_content_range),
        cmocka_unit_test(if_modified_since_last_modified_is_304_without_body),
        cmocka_unit_test(if_modified_since_later_than_now_is_ignored),
        cmocka_unit_test(if_unmodified_since_before_the_file_changed_is_412),
        cmocka_unit_test(if_match_with_another_etag_is_412),
        cmocka_unit_test(last_modified_of_a_file_from_the_future_is_not_later_than_date),
        cmocka_unit_test(if_range_with_another_etag_sends_the_whole_file),
        cmocka_unit_test(post_is_405_with_allow),
        cmocka_unit_test(changed_file_is_served_new_within_the_validation_second),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
