/* `file: { root, browse: true }`: a folder without an index file is listed, in HTML (names
 * HTML-escaped, links percent-escaped, folders first then files, each sorted by name, a link
 * to ../ except at the root, dotfiles and links leading outside the root hidden, a cut
 * listing said so) or in JSON for Accept: application/json; a folder with an index serves it;
 * browse off answers 403 as before; a link to a folder outside the root is never listed.
 * `hostpool run` on a config, as a user writes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test_admin.h"

#define ODD_NAME "<a>&\"x\".txt"
#define LISTING_MAX 1000

static hp_test_server srv;

static int make_tree(const char *root)
{
    char path[4300];
    int rc = hp_test_write_file(root, "list/" ODD_NAME, "12345", 5) |
             hp_test_write_file(root, "list/b.txt", "b", 1) |
             hp_test_write_file(root, "list/.hidden", "h", 1) |
             hp_test_write_file(root, "list/zdir/f", "f", 1) |
             hp_test_write_file(root, "list/adir/f", "f", 1) |
             hp_test_write_file(root, "indexed/index.html", "the index\n", 10) |
             hp_test_write_file(root, "closed/list/f", "f", 1) |
             hp_test_write_file(root, "utf8/\xF5\x80\x80x", "", 0); /* F5: no UTF-8 lead */
    for (int i = 0; i <= LISTING_MAX && rc == 0; i++) {
        snprintf(path, sizeof path, "many/f%04d", i);
        rc = hp_test_write_file(root, path, "", 0);
    }
    snprintf(path, sizeof path, "%s/list/out", root);
    rc |= symlink("/etc", path);
    snprintf(path, sizeof path, "%s/up", root);
    rc |= symlink("..", path);
    return rc;
}

static int start_pool(void **state)
{
    char root[4200], text[10000];
    const char *tmp = hp_test_temp_dir();
    snprintf(root, sizeof root, "%s/www", tmp);
    if (make_tree(root) != 0) return -1;
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: site\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - match: { path: /closed/ }\n"
             "        file: { root: \"%s\" }\n"
             "      - file: { root: \"%s\", browse: true }\n",
             root, root);
    hp_test_admin admin; /* on a socket of the test's own */
    return hp_test_admin_start_text(&srv, text, &admin);
}

static int stop_pool(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static void get(const char *target, const char *accept, hp_test_response *r)
{
    char request[1024];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n%s%s%s\r\n", target,
             accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
    assert_int_equal(hp_test_exchange(srv.port, request, r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void listing_escapes_a_name_in_text_and_link(void **state)
{
    hp_test_response r;
    get("/list/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "Content-Type"), "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<a href=\"%3Ca%3E%26%22x%22.txt\">&lt;a&gt;&amp;&quot;x&quot;"
                                   ".txt</a></td><td>5</td>"));
    assert_null(strstr(r.body, ODD_NAME));
    hp_test_response_free(&r);
}

static void listing_puts_folders_first_each_sorted_by_name(void **state)
{
    hp_test_response r;
    get("/list/", NULL, &r);
    assert_int_equal(r.status, 200);
    const char *adir = strstr(r.body, ">adir/<"), *zdir = strstr(r.body, ">zdir/<");
    const char *odd = strstr(r.body, ">&lt;a&gt;"), *b = strstr(r.body, ">b.txt<");
    assert_true(adir && zdir && odd && b);
    assert_true(adir < zdir && zdir < odd && odd < b);
    hp_test_response_free(&r);
}

static void listing_hides_dotfiles_and_links_that_leave_the_root(void **state)
{
    hp_test_response r;
    get("/list/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "hidden"));
    assert_null(strstr(r.body, ">out"));
    hp_test_response_free(&r);
}

static void listing_links_to_the_parent_except_at_the_root(void **state)
{
    hp_test_response r;
    get("/list/", NULL, &r);
    assert_non_null(strstr(r.body, "<a href=\"../\">../</a>"));
    hp_test_response_free(&r);
    get("/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, ">list/<"));
    assert_null(strstr(r.body, "href=\"../\""));
    hp_test_response_free(&r);
}

static void listing_in_json_for_accept_application_json(void **state)
{
    hp_test_response r;
    get("/list/", "application/json", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "Content-Type"), "application/json");
    json_error_t error;
    json_t *list = json_loads(r.body, 0, &error);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 4);
    const char *names[] = {"adir", "zdir", ODD_NAME, "b.txt"};
    const char *types[] = {"dir", "dir", "file", "file"};
    for (size_t i = 0; i < 4; i++) {
        json_t *e = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(e, "name")), names[i]);
        assert_string_equal(json_string_value(json_object_get(e, "type")), types[i]);
        assert_true(hp_test_matches(json_string_value(json_object_get(e, "mtime")),
                                    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"));
    }
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 2), "size")), 5);
    json_decref(list);
    hp_test_response_free(&r);
}

/* A name that is not UTF-8 is listed in valid JSON, each bad byte as U+FFFD. */
static void a_name_that_is_not_utf8_is_repaired_in_json(void **state)
{
    hp_test_response r;
    get("/utf8/", "application/json", &r);
    assert_int_equal(r.status, 200);
    json_error_t error;
    json_t *list = json_loads(r.body, 0, &error);
    assert_non_null(list);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");
    json_decref(list);
    hp_test_response_free(&r);
}

static void a_folder_with_an_index_serves_it(void **state)
{
    hp_test_response r;
    get("/indexed/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "the index\n");
    hp_test_response_free(&r);
}

static void browse_off_answers_403(void **state)
{
    hp_test_response r;
    get("/closed/list/", NULL, &r);
    assert_int_equal(r.status, 403);
    hp_test_response_free(&r);
}

static void a_link_to_a_folder_above_the_root_is_not_listed(void **state)
{
    hp_test_response r;
    get("/up/", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, "www"));
    hp_test_response_free(&r);
    get("/../", NULL, &r);
    assert_int_equal(r.status, 400);
    hp_test_response_free(&r);
}

static void a_listing_cut_at_its_bound_says_so(void **state)
{
    hp_test_response r;
    get("/many/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "1000 of them are listed"));
    hp_test_response_free(&r);
    get("/many/", "application/json", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "Listing-Truncated"), "1000");
    json_t *list = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(list), LISTING_MAX);
    json_decref(list);
    hp_test_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listing_escapes_a_name_in_text_and_link),
        cmocka_unit_test(listing_puts_folders_first_each_sorted_by_name),
        cmocka_unit_test(listing_hides_dotfiles_and_links_that_leave_the_root),
        cmocka_unit_test(listing_links_to_the_parent_except_at_the_root),
        cmocka_unit_test(listing_in_json_for_accept_application_json),
        cmocka_unit_test(a_name_that_is_not_utf8_is_repaired_in_json),
        cmocka_unit_test(a_folder_with_an_index_serves_it),
        cmocka_unit_test(browse_off_answers_403),
        cmocka_unit_test(a_link_to_a_folder_above_the_root_is_not_listed),
        cmocka_unit_test(a_listing_cut_at_its_bound_says_so),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
