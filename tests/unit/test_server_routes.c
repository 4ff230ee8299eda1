/* Server creation checks and route matching (src/http/server.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "http/server.h"

#include <llhttp.h>
#include <string.h>

static hp_server_config base_config(const char *const *listen, const hp_route_config *routes,
                                    size_t route_count)
{
    hp_server_config c = {.name = "s",
                          .listen = listen,
                          .listen_count = 1,
                          .routes = routes,
                          .route_count = route_count};
    hp_limits_init(&c.limits);
    return c;
}

static hp_request request(int method, const char *path)
{
    hp_request r = {.method_id = method, .path = {path, strlen(path)}};
    return r;
}

static void first_route_with_matching_prefix_and_method_wins(void **state)
{
    static const char *const get[] = {"GET", "HEAD"};
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_handler *api = hp_respond_handler_create(200, "api", 3, NULL, 0);
    hp_handler *all = hp_respond_handler_create(200, "all", 3, NULL, 0);
    hp_route_config routes[] = {
        {.path_prefix = "/api/", .methods = get, .method_count = 2, .handler = api},
        {.handler = all}};
    hp_server_config c = base_config(listen, routes, 2);
    hp_server *s;
    assert_int_equal(hp_server_create(&c, &s, NULL, 0), 0);
    bool mismatch;
    hp_request r = request(HTTP_GET, "/api/x");
    assert_ptr_equal(hp__server_route(s, &r, &mismatch)->handler, api);
    r = request(HTTP_POST, "/api/x");
    assert_ptr_equal(hp__server_route(s, &r, &mismatch)->handler, all);
    r = request(HTTP_GET, "/other");
    assert_ptr_equal(hp__server_route(s, &r, &mismatch)->handler, all);
    hp_server_destroy(s);
}

static void method_mismatch_is_reported_when_no_route_matches(void **state)
{
    static const char *const get[] = {"GET"};
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_handler *h = hp_respond_handler_create(200, "x", 1, NULL, 0);
    hp_route_config routes[] = {
        {.path_prefix = "/a", .methods = get, .method_count = 1, .handler = h}};
    hp_server_config c = base_config(listen, routes, 1);
    hp_server *s;
    assert_int_equal(hp_server_create(&c, &s, NULL, 0), 0);
    bool mismatch;
    hp_request r = request(HTTP_DELETE, "/a");
    assert_null(hp__server_route(s, &r, &mismatch));
    assert_true(mismatch);
    r = request(HTTP_GET, "/b");
    assert_null(hp__server_route(s, &r, &mismatch));
    assert_false(mismatch);
    hp_server_destroy(s);
}

/* Requests are matched in their normalized form (core/url_path.h), so is the prefix: a prefix
 * spelled with escapes, dot segments or repeated slashes guards what it names. */
static void prefix_is_matched_in_its_normalized_form(void **state)
{
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_handler *guard = hp_respond_handler_create(403, "no", 2, NULL, 0);
    hp_handler *all = hp_respond_handler_create(200, "all", 3, NULL, 0);
    hp_route_config routes[] = {{.path_prefix = "//%73ecret/./x/../", .handler = guard},
                                {.handler = all}};
    hp_server_config c = base_config(listen, routes, 2);
    hp_server *s;
    assert_int_equal(hp_server_create(&c, &s, NULL, 0), 0);
    bool mismatch;
    hp_request r = request(HTTP_GET, "/secret/f");
    assert_ptr_equal(hp__server_route(s, &r, &mismatch)->handler, guard);
    r = request(HTTP_GET, "/secretary");
    assert_ptr_equal(hp__server_route(s, &r, &mismatch)->handler, all);
    hp_server_destroy(s);
}

static void prefix_that_is_no_path_is_a_config_error(void **state)
{
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_handler *h = hp_respond_handler_create(200, "x", 1, NULL, 0);
    hp_route_config routes[] = {{.path_prefix = "/../x", .handler = h},
                                {.path_prefix = "/100%", .handler = h},
                                {.path_prefix = "api", .handler = h}};
    hp_server_config c = base_config(listen, routes, 3);
    hp_server *s = NULL;
    char err[512];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_null(s);
    assert_string_equal(err, "routes[0].path_prefix: \"/../x\" is not a path (it must start with "
                             "'/', stay under the root, and escape '%' as %25); "
                             "routes[1].path_prefix: \"/100%\" is not a path (it must start with "
                             "'/', stay under the root, and escape '%' as %25); "
                             "routes[2].path_prefix: \"api\" is not a path (it must start with "
                             "'/', stay under the root, and escape '%' as %25)");
    hp_handler_destroy(h);
}

static void unknown_method_name_is_a_config_error_naming_the_route(void **state)
{
    static const char *const bad[] = {"GET", "FETCH"};
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_handler *h = hp_respond_handler_create(200, "x", 1, NULL, 0);
    hp_route_config routes[] = {{.methods = bad, .method_count = 2, .handler = h}};
    hp_server_config c = base_config(listen, routes, 1);
    hp_server *s = NULL;
    char err[128];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_null(s);
    assert_string_equal(err, "routes[0].methods[1]: unknown method FETCH");
    hp_handler_destroy(h); /* still ours after a failed create */
}

static void server_without_listen_address_is_refused(void **state)
{
    hp_server_config c = base_config(NULL, NULL, 0);
    c.listen_count = 0;
    hp_server *s = NULL;
    char err[128];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_string_equal(err, "listen: at least one address required");
}

/* A C caller (or a command-line option) gets the bounds the config checker applies: a
 * max_header_bytes near 4 GiB wrapped the 32-bit read buffer of every connection. */
static void limits_over_what_the_engine_holds_are_refused(void **state)
{
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_server_config c = base_config(listen, NULL, 0);
    c.limits.max_header_bytes = 4294963200u;
    c.limits.max_headers = HP_LIMIT_MAX_HEADERS + 1;
    c.limits.max_body_bytes = HP_LIMIT_MAX_BODY_BYTES + 1;
    c.limits.max_connections = HP_LIMIT_MAX_CONNECTIONS + 1;
    c.limits.idle_timeout_ms = UINT64_MAX;
    hp_server *s = NULL;
    char err[512];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_null(s);
    assert_string_equal(err, "limits: max_header_bytes and max_target_bytes are at most 1048576; "
                             "limits: max_headers is at most 10000; "
                             "limits: max_body_bytes is at most 1073741824; "
                             "limits: max_connections is at most 1000000; "
                             "limits: timeouts are at most 86400000 ms");
    c.limits = (hp_limits){0};
    hp_limits_init(&c.limits);
    c.limits.max_header_bytes = HP_LIMIT_MAX_HEADER_BYTES;
    c.limits.idle_timeout_ms = HP_LIMIT_MAX_TIMEOUT_MS;
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), 0);
    hp_server_destroy(s);
}

static void every_error_of_a_config_is_reported_at_once(void **state)
{
    static const char *const listen[] = {"127.0.0.1:0", "nowhere", NULL};
    static const char *const hosts[] = {"ok.test", "bad host"};
    static const char *const methods[] = {"BREW"};
    hp_route_config routes[] = {{.methods = methods, .method_count = 1, .handler = NULL}};
    hp_server_config c = base_config(listen, routes, 1);
    c.name = "";
    c.listen_count = 3;
    c.hosts = hosts;
    c.host_count = 2;
    c.limits.max_headers = 0;
    hp_server *s = NULL;
    char err[512];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_null(s);
    assert_string_equal(err, "name: required; "
                             "listen[1]: \"nowhere\" is not an address (host:port); "
                             "listen[2]: \"\" is not an address (host:port); "
                             "hosts[1]: \"bad host\" is not a host name or *.suffix; "
                             "routes[0]: a handler is required; "
                             "routes[0].methods[0]: unknown method BREW; "
                             "limits: sizes and counts must be positive");
}

static void errors_that_do_not_fit_are_cut_at_the_buffer(void **state)
{
    static const char *const listen[] = {"a", "b", "c"};
    hp_server_config c = base_config(listen, NULL, 0);
    c.listen_count = 3;
    hp_server *s = NULL;
    char err[40];
    assert_int_equal(hp_server_create(&c, &s, err, sizeof err), HP_ECONFIG);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_memory_equal(err, "listen[0]: \"a\" is not an address (host:", sizeof err - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_route_with_matching_prefix_and_method_wins),
        cmocka_unit_test(method_mismatch_is_reported_when_no_route_matches),
        cmocka_unit_test(prefix_is_matched_in_its_normalized_form),
        cmocka_unit_test(prefix_that_is_no_path_is_a_config_error),
        cmocka_unit_test(unknown_method_name_is_a_config_error_naming_the_route),
        cmocka_unit_test(server_without_listen_address_is_refused),
        cmocka_unit_test(limits_over_what_the_engine_holds_are_refused),
        cmocka_unit_test(every_error_of_a_config_is_reported_at_once),
        cmocka_unit_test(errors_that_do_not_fit_are_cut_at_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
