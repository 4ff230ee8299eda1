/* Loading valid configs (src/config/config.c): every value of the example read right from
 * YAML and from JSON, defaults, durations and sizes, listen forms, and trees from jansson. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/node.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The checked settings of a route's handler (handlers/kinds.h). */
static const hp__respond_model *respond_of(const hp__config_route *r)
{
    return r->model;
}

static const hp__file_model *file_of(const hp__config_route *r)
{
    return r->model;
}

static const hp__redirect_model *redirect_of(const hp__config_route *r)
{
    return r->model;
}

static hp__config *load_data(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config/%s", hp_test_data_dir(), name);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = hp__config_load_file(path, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(errs.count, 0);
    assert_non_null(config);
    hp__config_errors_close(&errs);
    return config;
}

static hp__config *load_text(const char *name, const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = config_fixture_load(name, text, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_non_null(config);
    hp__config_errors_close(&errs);
    return config;
}

/* Every value of tests/data/config/valid.yaml (and valid.json, the same config). */
static void assert_example(const hp__config *c)
{
    assert_int_equal(c->workers, 0);
    assert_string_equal(c->admin.listen, "unix:hostpool.sock");
    assert_string_equal(c->admin.token_file, "admin.token");
    assert_int_equal(c->ports.lo, 21000);
    assert_int_equal(c->ports.hi, 21999);
    assert_int_equal(c->max_servers, 500);
    assert_int_equal(c->limits.header_timeout_ms, 5000);
    assert_int_equal(c->limits.idle_timeout_ms, 60000);
    assert_int_equal(c->limits.write_timeout_ms, 15000);
    assert_int_equal(c->limits.drain_timeout_ms, 250);
    assert_int_equal(c->limits.max_header_bytes, 32 * 1024);
    assert_int_equal(c->limits.max_target_bytes, 4 * 1024);
    assert_int_equal(c->limits.max_headers, 50);
    assert_int_equal(c->limits.max_body_bytes, 2 * 1024 * 1024);
    assert_int_equal(c->limits.max_connections, 5000);
    assert_false(c->access_log);
    assert_int_equal(c->health.interval_ms, 5000);
    assert_int_equal(c->health.rise, 3);
    assert_int_equal(c->health.fall, 4);
    assert_int_equal(c->server_count, 3);

    const hp__config_server *hello = &c->servers[0];
    assert_string_equal(hello->name, "hello");
    assert_int_equal(hello->listen_count, 1);
    assert_string_equal(hello->listen[0], "127.0.0.1:8081");
    assert_string_equal(hello->expose, "http://localhost:8081");
    assert_int_equal(hello->host_count, 2);
    assert_string_equal(hello->hosts[0], "hello.localhost");
    assert_string_equal(hello->hosts[1], "*.hello.localhost");
    assert_memory_equal(&hello->limits, &c->limits, sizeof c->limits);
    assert_false(hello->access_log);
    assert_string_equal(hello->path, "servers[0]");
    assert_int_equal(hello->route_count, 1);
    const hp__config_route *r = &hello->routes[0];
    assert_string_equal(r->path_prefix, "/");
    assert_int_equal(r->method_count, 2);
    assert_string_equal(r->methods[0], "GET");
    assert_string_equal(r->methods[1], "HEAD");
    assert_ptr_equal(r->kind, &hp__respond_kind);
    assert_int_equal(respond_of(r)->status, 200);
    assert_int_equal(respond_of(r)->body_len, 13);
    assert_string_equal(respond_of(r)->body, "Hello, World!");
    assert_int_equal(respond_of(r)->header_count, 1);
    assert_string_equal(respond_of(r)->headers[0], "content-type");
    assert_string_equal(respond_of(r)->headers[1], "text/plain");

    const hp__config_server *site = &c->servers[1];
    assert_string_equal(site->name, "site");
    assert_int_equal(site->listen_count, 3);
    assert_string_equal(site->listen[0], "127.0.0.1:8080");
    assert_string_equal(site->listen[1], "[::1]:8080");
    assert_string_equal(site->listen[2], "auto");
    assert_null(site->expose);
    assert_int_equal(site->host_count, 1);
    assert_string_equal(site->hosts[0], "site.localhost"); /* lowercased */
    /* Overridden limits, the others inherited from the top level. */
    assert_int_equal(site->limits.idle_timeout_ms, 5000);
    assert_int_equal(site->limits.max_body_bytes, 64 * 1024);
    assert_int_equal(site->limits.header_timeout_ms, 5000);
    assert_int_equal(site->limits.max_connections, 5000);
    assert_int_equal(site->route_count, 2);
    r = &site->routes[0];
    assert_string_equal(r->path_prefix, "/old/");
    assert_int_equal(r->method_count, 0);
    assert_ptr_equal(r->kind, &hp__redirect_kind);
    assert_int_equal(redirect_of(r)->status, 301);
    assert_string_equal(redirect_of(r)->location, "https://example.com");
    assert_true(redirect_of(r)->keep_path);
    r = &site->routes[1];
    assert_null(r->path_prefix);
    assert_ptr_equal(r->kind, &hp__file_kind);
    assert_string_equal(file_of(r)->root, "./www");
    assert_string_equal(file_of(r)->index, "home.html");

    const hp__config_server *empty = &c->servers[2];
    assert_string_equal(empty->name, "empty");
    assert_int_equal(empty->route_count, 0);
    assert_int_equal(empty->host_count, 0);
}

static void example_yaml_loads_with_every_value(void **state)
{
    hp__config *c = load_data("valid.yaml");
    assert_example(c);
    /* Positions are kept for errors found later (building a server). */
    assert_int_equal(c->servers[1].pos.line, 29);
    assert_int_equal(c->servers[1].pos.column, 5);
    assert_int_equal(file_of(&c->servers[1].routes[1])->root_pos.line, 36);
    assert_int_equal(file_of(&c->servers[1].routes[1])->root_pos.column, 23);
    hp__config_destroy(c);
}

static void example_json_loads_the_same_config(void **state)
{
    hp__config *c = load_data("valid.json");
    assert_example(c);
    assert_int_equal(c->servers[1].pos.line, 32);
    assert_int_equal(c->servers[1].pos.column, 5);
    hp__config_destroy(c);
}

static void empty_file_is_every_default(void **state)
{
    hp__config *c = load_text("empty.yaml", "# nothing here\n");
    hp_limits defaults;
    hp_limits_init(&defaults);
    assert_int_equal(c->workers, 0);
    assert_string_equal(c->admin.listen, "unix:hostpool.sock");
    assert_null(c->admin.token_file);
    assert_null(c->pid_file);
    assert_int_equal(c->ports.lo, 20000);
    assert_int_equal(c->ports.hi, 20999);
    assert_memory_equal(&c->limits, &defaults, sizeof defaults);
    assert_int_equal(c->max_servers, 1000);
    assert_true(c->access_log);
    assert_int_equal(c->health.interval_ms, 2000); /* the pool's: src/core/health.h */
    assert_int_equal(c->health.rise, 2);
    assert_int_equal(c->health.fall, 3);
    assert_int_equal(c->server_count, 0);
    hp__config_destroy(c);

    c = load_text("empty.json", "{}");
    assert_int_equal(c->server_count, 0);
    assert_true(c->access_log);
    hp__config_destroy(c);
}

static void durations_and_sizes_take_every_unit(void **state)
{
    hp__config *c = load_text("units.yaml", "limits:\n"
                                            "  header_timeout: 250ms\n"
                                            "  idle_timeout: 15m\n"
                                            "  write_timeout: 3\n" /* bare: seconds */
                                            "  drain_timeout: 0s\n"
                                            "  max_header_bytes: 16KiB\n"
                                            "  max_target_bytes: 512\n" /* bare: bytes */
                                            "  max_body_bytes: \"1GiB\"\n"
                                            "servers:\n"
                                            "  - name: s\n"
                                            "    listen: auto\n"
                                            "    limits: { header_timeout: 2h, max_headers: 7 }\n");
    assert_int_equal(c->limits.header_timeout_ms, 250);
    assert_int_equal(c->limits.idle_timeout_ms, 15 * 60 * 1000);
    assert_int_equal(c->limits.write_timeout_ms, 3000);
    assert_int_equal(c->limits.drain_timeout_ms, 0);
    assert_int_equal(c->limits.max_header_bytes, 16384);
    assert_int_equal(c->limits.max_target_bytes, 512);
    assert_int_equal(c->limits.max_body_bytes, 1024 * 1024 * 1024);
    assert_int_equal(c->servers[0].limits.header_timeout_ms, 2 * 3600 * 1000);
    assert_int_equal(c->servers[0].limits.max_headers, 7);
    assert_int_equal(c->servers[0].limits.idle_timeout_ms, 15 * 60 * 1000);
    hp__config_destroy(c);
}

static void listen_is_a_string_a_list_or_auto(void **state)
{
    hp__config *c = load_text("listen.yaml", "servers:\n"
                                             "  - name: one\n"
                                             "    listen: 127.0.0.1:8080\n"
                                             "  - name: many\n"
                                             "    listen: [\"[::1]:0\", localhost:9000, \"*:80\", "
                                             "\":81\", 0.0.0.0:65535]\n"
                                             "  - name: auto\n"
                                             "    listen: auto\n"
                                             "  - name: auto-list\n"
                                             "    listen:\n"
                                             "      - auto\n"
                                             "      - 127.0.0.1:0\n");
    assert_int_equal(c->server_count, 4);
    assert_int_equal(c->servers[0].listen_count, 1);
    assert_string_equal(c->servers[0].listen[0], "127.0.0.1:8080");
    assert_int_equal(c->servers[1].listen_count, 5);
    assert_string_equal(c->servers[1].listen[0], "[::1]:0");
    assert_string_equal(c->servers[1].listen[1], "localhost:9000");
    assert_string_equal(c->servers[1].listen[2], "*:80");
    assert_string_equal(c->servers[1].listen[3], ":81");
    assert_string_equal(c->servers[1].listen[4], "0.0.0.0:65535");
    assert_int_equal(c->servers[2].listen_count, 1);
    assert_string_equal(c->servers[2].listen[0], "auto");
    assert_int_equal(c->servers[3].listen_count, 2);
    assert_string_equal(c->servers[3].listen[0], "auto");
    assert_string_equal(c->servers[3].listen[1], "127.0.0.1:0");
    hp__config_destroy(c);
}

static void workers_admin_and_defaults_of_handlers(void **state)
{
    hp__config *c = load_text("misc.yaml", "workers: 3\n"
                                           "admin: { listen: 127.0.0.1:2019, token_file: t }\n"
                                           "access_log: on\n"
                                           "servers:\n"
                                           "  - name: a.b_c-1\n"
                                           "    listen: auto\n"
                                           "    routes:\n"
                                           "      - respond: {}\n"
                                           "      - redirect: { location: /x }\n"
                                           "      - respond: { body: 404, status: 404 }\n");
    assert_int_equal(c->workers, 3);
    assert_string_equal(c->admin.listen, "127.0.0.1:2019");
    assert_string_equal(c->admin.token_file, "t");
    assert_true(c->servers[0].access_log);
    const hp__config_route *r = c->servers[0].routes;
    assert_int_equal(respond_of(&r[0])->status, 200);
    assert_null(respond_of(&r[0])->body);
    assert_int_equal(redirect_of(&r[1])->status, 302);
    assert_false(redirect_of(&r[1])->keep_path);
    assert_int_equal(respond_of(&r[2])->status, 404);
    assert_string_equal(respond_of(&r[2])->body, "404"); /* a plain scalar is a string here */
    hp__config_destroy(c);
}

static void pid_file_is_a_path_or_none(void **state)
{
    hp__config *c = load_text("pid.yaml", "pid_file: run/hostpool.pid\n");
    assert_string_equal(c->pid_file, "run/hostpool.pid");
    hp__config_destroy(c);
    c = load_text("pid.json", "{\"pid_file\": \"/tmp/hostpool.pid\"}");
    assert_string_equal(c->pid_file, "/tmp/hostpool.pid");
    hp__config_destroy(c);
    char *errors = config_fixture_load_errors(
        "pid_bad.yaml", "pid_file: \"\"\nlimits: { pid_file: x }\nservers: [{pid_file: x}]\n");
    assert_string_equal(errors, "pid_bad.yaml:1:11: pid_file: must not be empty\n"
                                "pid_bad.yaml:2:11: limits: unknown key \"pid_file\"\n"
                                "pid_bad.yaml:3:11: servers[0]: \"name\" is required\n"
                                "pid_bad.yaml:3:11: servers[0]: \"listen\" is required\n"
                                "pid_bad.yaml:3:12: servers[0]: unknown key \"pid_file\"\n");
    free(errors);
    errors = config_fixture_load_errors("pid_list.yaml", "pid_file: [a]\n");
    assert_string_equal(errors, "pid_list.yaml:1:11: pid_file: expected a string, got a list\n");
    free(errors);
}

static void tree_from_jansson_loads_like_a_file(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config/valid.json", hp_test_data_dir());
    json_error_t error;
    json_t *json = json_load_file(path, 0, &error);
    assert_non_null(json);
    hp__cfg_node *root = hp__cfg_node_from_json(json);
    json_decref(json);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(hp__config_load_node(root, NULL, &c, &errs), 0);
    assert_example(c);
    assert_int_equal(c->servers[1].pos.line, 0); /* no positions */
    hp__config_destroy(c);
    hp__cfg_node_destroy(root);
    hp__config_errors_close(&errs);
}

static void json_that_libyaml_cannot_read_still_loads(void **state)
{
    /* An escaped surrogate pair is valid JSON that libyaml refuses: the tree comes from
     * jansson's value instead. */
    hp__config *c =
        load_text("emoji.json", "{\"servers\": [{\"name\": \"a\", \"listen\": \"auto\", "
                                "\"routes\": [{\"respond\": {\"body\": \"\\ud83d\\ude00\"}}]}]}");
    assert_string_equal(respond_of(&c->servers[0].routes[0])->body, "\xf0\x9f\x98\x80");
    assert_int_equal(c->servers[0].pos.line, 0);
    hp__config_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_yaml_loads_with_every_value),
        cmocka_unit_test(example_json_loads_the_same_config),
        cmocka_unit_test(empty_file_is_every_default),
        cmocka_unit_test(durations_and_sizes_take_every_unit),
        cmocka_unit_test(listen_is_a_string_a_list_or_auto),
        cmocka_unit_test(workers_admin_and_defaults_of_handlers),
        cmocka_unit_test(pid_file_is_a_path_or_none),
        cmocka_unit_test(tree_from_jansson_loads_like_a_file),
        cmocka_unit_test(json_that_libyaml_cannot_read_still_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
