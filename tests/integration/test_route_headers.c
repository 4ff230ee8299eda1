/* `headers: { set, add, remove }` on a route and on a server: applied to every answer of the
 * route, its errors included (a file route's 404, a rate limit's 429, a proxy's 502), set
 * replacing the handler's field, add appending one more, remove deleting it; a server's rules
 * reach its routes and the answers no route gives; the engine's framing fields are refused by
 * the checker. `hostpool run` and `hostpool validate` on configs as a user writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test_admin.h"

static hp_test_server srv;

static int start_pool(void **state)
{
    char root[4200], text[6000];
    const char *tmp = hp_test_temp_dir();
    snprintf(root, sizeof root, "%s/www", tmp);
    if (hp_test_write_file(root, "files/a.txt", "a\n", 2) != 0) return -1;
    int closed_port, held = hp_test_hold_port(&closed_port); /* then let go: nothing listens */
    if (held < 0) return -1;
    close(held);
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: site\n"
             "    listen: 127.0.0.1:0\n"
             "    headers: { set: { X-Server: site } }\n"
             "    routes:\n"
             "      - match: { path: /api/ }\n"
             "        respond: { body: ok, headers: { content-type: text/plain, x-drop: 1,"
             " cache-control: private } }\n"
             "        headers:\n"
             "          set: { Cache-Control: no-store }\n"
             "          add: { X-Extra: [one, two] }\n"
             "          remove: [X-Drop, x-server]\n"
             "      - match: { path: /limited/ }\n"
             "        respond: { body: ok }\n"
             "        rate_limit: { requests: 1, per: 1h }\n"
             "        headers: { set: { X-Frame-Options: DENY } }\n"
             "      - match: { path: /files/ }\n"
             "        file: { root: \"%s\" }\n"
             "        headers: { set: { X-Frame-Options: DENY } }\n"
             "      - match: { path: /down/ }\n"
             "        proxy: { to: \"127.0.0.1:%d\" }\n"
             "        headers: { add: { X-Down: yes } }\n",
             root, closed_port);
    hp_test_admin admin; /* on a socket of the test's own */
    return hp_test_admin_start_text(&srv, text, &admin);
}

static int stop_pool(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static void get(const char *target, hp_test_response *r)
{
    char request[1024];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    assert_int_equal(hp_test_exchange(srv.port, request, r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void set_replaces_add_appends_remove_deletes(void **state)
{
    hp_test_response r;
    get("/api/x", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(hp_test_response_header_count(&r, "Cache-Control"), 1);
    assert_string_equal(hp_test_response_header(&r, "Cache-Control"), "no-store");
    assert_int_equal(hp_test_response_header_count(&r, "X-Extra"), 2);
    assert_null(hp_test_response_header(&r, "X-Drop"));
    assert_null(hp_test_response_header(&r, "X-Server")); /* the server's, removed by the route */
    assert_string_equal(hp_test_response_header(&r, "Content-Type"), "text/plain");
    assert_string_equal(r.body, "ok");
    hp_test_response_free(&r);
}

static void a_file_route_s_404_carries_its_headers(void **state)
{
    hp_test_response r;
    get("/files/missing.txt", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(hp_test_response_header(&r, "X-Frame-Options"), "DENY");
    assert_string_equal(hp_test_response_header(&r, "X-Server"), "site");
    hp_test_response_free(&r);
    get("/files/a.txt", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "X-Frame-Options"), "DENY");
    hp_test_response_free(&r);
}

static void a_rate_limit_s_429_carries_the_route_s_headers(void **state)
{
    hp_test_response r;
    get("/limited/", &r);
    assert_int_equal(r.status, 200);
    hp_test_response_free(&r);
    get("/limited/", &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(hp_test_response_header(&r, "X-Frame-Options"), "DENY");
    assert_non_null(hp_test_response_header(&r, "Retry-After"));
    hp_test_response_free(&r);
}

static void a_proxy_s_502_carries_the_route_s_headers(void **state)
{
    hp_test_response r;
    get("/down/", &r);
    assert_int_equal(r.status, 502);
    assert_string_equal(hp_test_response_header(&r, "X-Down"), "yes");
    hp_test_response_free(&r);
}

static void the_server_s_headers_reach_answers_no_route_gives(void **state)
{
    hp_test_response r;
    get("/nowhere", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(hp_test_response_header(&r, "X-Server"), "site");
    assert_null(hp_test_response_header(&r, "X-Frame-Options"));
    hp_test_response_free(&r);
}

/* `hostpool validate` on a config whose route names `field` in `rule`: exit 1 and a message
 * at the field. */
static void expect_refused(const char *rule, const char *field)
{
    char text[1024], config[4200];
    snprintf(text, sizeof text,
             "servers:\n"
             "  - name: s\n"
             "    listen: 127.0.0.1:0\n"
             "    routes:\n"
             "      - respond: { body: ok }\n"
             "        headers: { %s }\n",
             rule);
    const char *tmp = hp_test_temp_dir();
    snprintf(config, sizeof config, "%s/bad.yaml", tmp);
    assert_int_equal(hp_test_write_file(tmp, "bad.yaml", text, strlen(text)), 0);
    const char *argv[] = {hp_test_bin(), "validate", "--config", config, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, field) && !strstr(r.out, field))
        print_message("stdout: %s\nstderr: %s\n", r.out, r.err);
    assert_true(strstr(r.err, field) || strstr(r.out, field));
    assert_true(strstr(r.err, "engine's own field") || strstr(r.out, "engine's own field"));
    hp_test_run_free(&r);
}

static void framing_fields_cannot_be_set_added_or_removed(void **state)
{
    expect_refused("set: { Content-Length: \"5\" }", "Content-Length");
    expect_refused("remove: [transfer-encoding]", "transfer-encoding");
    expect_refused("add: { Connection: close }", "Connection");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_replaces_add_appends_remove_deletes),
        cmocka_unit_test(a_file_route_s_404_carries_its_headers),
        cmocka_unit_test(a_rate_limit_s_429_carries_the_route_s_headers),
        cmocka_unit_test(a_proxy_s_502_carries_the_route_s_headers),
        cmocka_unit_test(the_server_s_headers_reach_answers_no_route_gives),
        cmocka_unit_test(framing_fields_cannot_be_set_added_or_removed),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
