/* Routes match the normalized path, the one the handlers serve: a route that guards /secret/
 * (answered 403) before a file route holds for every spelling of a path under it (dot
 * segments, repeated slashes, escapes of plain letters, encoded dots), an escaped slash never
 * splits a segment (404, not the file), a path above the root is 400, and a redirect that
 * keeps the path never builds a Location that names another host. `hostpool run` on a
 * config, as a user writes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define GUARDED "guarded\n"
#define SECRET "the secret file\n"

static hp_test_server srv;
static int guard_port, bounce_port;

static int start_pool(void **state)
{
    char root[4200], config[4200], admin[4200], text[6000];
    const char *tmp = hp_test_temp_dir();
    snprintf(root, sizeof root, "%s/www", tmp);
    if (hp_test_write_file(root, "secret/f", SECRET, strlen(SECRET)) != 0 ||
        hp_test_write_file(root, "private/f", SECRET, strlen(SECRET)) != 0 ||
        hp_test_write_file(root, "public.txt", "public\n", 7) != 0)
        return -1;
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: guard\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - match: { path: /secret/ }\n"
             "        respond: { status: 403, body: \"" GUARDED "\" }\n"
             "      - match: { path: \"/%%70rivate/./\" }\n" /* a prefix spelled oddly too */
             "        respond: { status: 403, body: \"" GUARDED "\" }\n"
             "      - file: { root: \"%s\" }\n"
             "  - name: bounce\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - redirect: { location: /, keep_path: true }\n",
             root);
    snprintf(config, sizeof config, "%s/pool.yaml", tmp);
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", tmp);
    if (hp_test_write_file(tmp, "pool.yaml", text, strlen(text)) != 0 ||
        hp_test_server_startl(&srv, "run", "--config", config, "--admin", admin, NULL) != 0)
        return -1;
    guard_port = srv.port;
    /* "hostpool: listening on http://127.0.0.1:PORT/ (bounce)" */
    const char *out = hp_test_server_stdout_until(&srv, "(bounce)", HP_TEST_DEADLINE_MS);
    const char *end = out ? strstr(out, "(bounce)") : NULL, *line = end;
    while (line && line > out && line[-1] != '\n') line--;
    return line && sscanf(line, "hostpool: listening on http://127.0.0.1:%d/", &bounce_port) == 1
               ? 0
               : -1;
}

static int stop_pool(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

/* GET `target` on `port`; the response in *r (free it). */
static void get(int port, const char *target, hp_test_response *r)
{
    char request[1024];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    assert_int_equal(hp_test_exchange(port, request, r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

/* Every target answers `status`, and none of them the secret file. */
static void expect_all(const char *const *targets, size_t count, int status)
{
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        hp_test_response r;
        get(guard_port, targets[i], &r);
        if (r.status != status || strstr(r.body, SECRET)) {
            failures++;
            print_message("%s: %d \"%s\", want %d\n", targets[i], r.status, r.body, status);
        }
        hp_test_response_free(&r);
    }
    assert_int_equal(failures, 0);
}

#define EXPECT_ALL(targets, status) expect_all(targets, sizeof targets / sizeof targets[0], status)

static void guard_holds_for_every_spelling_of_a_path_under_it(void **state)
{
    static const char *const targets[] = {
        "/secret/f",
        "/x/../secret/f",
        "/./secret/f",
        "//secret/f",
        "/%73ecret/f",
        "/%2e/secret/f",
        "/%2E/secret/f",
        "/x/%2e%2e/secret/f",
        "/x/.%2E/secret/f",
        "/secret//f",
        "/secret/./f",
        "/%73%65%63%72%65%74/%66",
        "///secret///f",
        "/secret/x/../f",
        "/secret/f?x=/../public.txt",
        "http://t//secret/f",
        "http://t/x/../secret/f",
    };
    EXPECT_ALL(targets, 403);
}

static void guard_written_oddly_in_the_config_guards_the_plain_spelling(void **state)
{
    static const char *const targets[] = {"/private/f", "/%70rivate/f", "//private/./f"};
    EXPECT_ALL(targets, 403);
}

static void escaped_slash_never_splits_a_segment_so_no_file_is_served(void **state)
{
    static const char *const targets[] = {"/secret%2ff", "/secret%2Ff", "/%73ecret%2ff",
                                          "/x%2f..%2fsecret/f", "/%2e%2e%2fsecret/f"};
    EXPECT_ALL(targets, 404);
}

static void path_above_the_root_nul_or_bad_escape_is_400(void **state)
{
    static const char *const targets[] = {"/../secret/f", "/%2e%2e/secret/f", "/x/../../secret/f",
                                          "/secret/f%00", "/secret/%zz",      "/secret/%2"};
    EXPECT_ALL(targets, 400);
}

static void paths_outside_the_guard_are_served_as_spelled(void **state)
{
    static const char *const targets[] = {"/public.txt", "/x/../public.txt", "//public.txt",
                                          "/%70ublic.txt", "/secret/../public.txt"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        hp_test_response r;
        get(guard_port, targets[i], &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "public\n");
        hp_test_response_free(&r);
    }
}

static void redirect_keeping_the_path_after_a_slash_never_names_another_host(void **state)
{
    static const struct {
        const char *target, *location;
    } cases[] = {
        {"/foo", "/foo"},
        {"//evil.example/", "/evil.example/"},
        {"///evil.example", "/evil.example"},
        {"/./\\evil.example", "/%5Cevil.example"},
        {"/\\evil.example", "/%5Cevil.example"},
        {"/%2f%2fevil.example", "/%2F%2Fevil.example"},
        {"/x/..//evil.example/?a=1", "/evil.example/?a=1"},
        {"/", "/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_test_response r;
        get(bounce_port, cases[i].target, &r);
        assert_int_equal(r.status, 302);
        const char *location = hp_test_response_header(&r, "Location");
        assert_non_null(location);
        if (strcmp(location, cases[i].location) != 0)
            print_message("%s: Location %s\n", cases[i].target, location);
        assert_string_equal(location, cases[i].location);
        hp_test_response_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_holds_for_every_spelling_of_a_path_under_it),
        cmocka_unit_test(guard_written_oddly_in_the_config_guards_the_plain_spelling),
        cmocka_unit_test(escaped_slash_never_splits_a_segment_so_no_file_is_served),
        cmocka_unit_test(path_above_the_root_nul_or_bad_escape_is_400),
        cmocka_unit_test(paths_outside_the_guard_are_served_as_spelled),
        cmocka_unit_test(redirect_keeping_the_path_after_a_slash_never_names_another_host),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
