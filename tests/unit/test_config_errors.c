/* Config errors (src/config/): every problem of a file is reported, each as
 * "file:line:column: path: message"; syntax errors carry the parser's position (jansson's
 * for JSON, libyaml's for YAML); repeated keys, unknown keys and repeated server names. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/node.h"
#include "hostpool/errors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void assert_errors(const char *name, const char *text, const char *expected)
{
    char *got = config_fixture_load_errors(name, text);
    assert_string_equal(got, expected);
    free(got);
}

static void every_error_of_a_file_is_reported_in_document_order(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config/errors.yaml", hp_test_data_dir());
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = (hp__config *)1;
    assert_int_equal(hp__config_load_file(path, &c, &errs), HP_ECONFIG);
    assert_null(c);
    assert_int_equal(errs.count, 5);
    const char *expected[] = {
        "3:19: limits.header_timeout: \"10 sec\" is not a duration: a whole number followed by "
        "ms, s, m or h (250ms, 10s, 15m, 1h); a bare number is seconds",
        "6:13: servers[0].listen: port 70000 out of range",
        "8:9: servers[0].routes[0]: exactly one of respond, file, redirect, metrics, health, "
        "proxy, websocket is required",
        "9:11: servers[1].name: \"api\" is already used by servers[0]",
        "11:5: servers[1]: unknown key \"colour\"",
    };
    for (size_t i = 0; i < errs.count; i++) {
        char want[8192];
        snprintf(want, sizeof want, "%s:%s", path, expected[i]);
        char *line = hp__config_error_format(&errs.items[i]);
        assert_string_equal(line, want);
        free(line);
    }
    /* The parts are also kept apart (for the admin API's error details). */
    assert_string_equal(errs.items[1].path, "servers[0].listen");
    assert_string_equal(errs.items[1].message, "port 70000 out of range");
    assert_int_equal(errs.items[1].line, 6);
    assert_int_equal(errs.items[1].column, 13);
    hp__config_errors_close(&errs);
}

static void types_ranges_and_required_keys_are_all_reported(void **state)
{
    assert_errors(
        "types.yaml",
        "workers: [1]\n"
        "admin: { listen: 10.0.0.1:2019 }\n"
        "ports: { range: 30000-20000 }\n"
        "access_log: maybe\n"
        "servers:\n"
        "  - name: \"bad name\"\n"
        "    listen: { port: 80 }\n"
        "    expose: ftp://x\n"
        "    hosts: [\"ok.example\", \"bad_host\"]\n"
        "    routes:\n"
        "      - match: { path: api, methods: [GET, FETCH] }\n"
        "        respond: { status: \"200\", headers: { \"bad name\": x } }\n"
        "      - redirect: { status: 305 }\n"
        "      - file: {}\n"
        "  - listen: [example.com:80, \"[::1]:99999\", \"::1:80\", \"[::1]\"]\n"
        "    limits: { max_body_bytes: 0, idle_timeout: 10 sec, max_header_bytes: 8GiB, "
        "max_headers: many }\n"
        "    routes: {}\n",
        "types.yaml:1:10: workers: expected auto or a number of workers, got a list\n"
        "types.yaml:2:18: admin.listen: a TCP admin address requires admin.token_file (and it is "
        "not on loopback)\n"
        "types.yaml:3:17: ports.range: the first port is above the last\n"
        "types.yaml:4:13: access_log: expected on or off, got \"maybe\"\n"
        "types.yaml:6:11: servers[0].name: \"bad name\" is not a valid name: 1 to 64 of A-Z a-z "
        "0-9 . _ -\n"
        "types.yaml:7:13: servers[0].listen: expected a string or a list, got a mapping\n"
        "types.yaml:8:13: servers[0].expose: expected http:// or https:// followed by "
        "host[:port], got \"ftp://x\"\n"
        "types.yaml:9:27: servers[0].hosts[1]: \"bad_host\" is not a host name or a *.suffix "
        "wildcard\n"
        "types.yaml:11:24: servers[0].routes[0].match.path: must start with \"/\"\n"
        "types.yaml:11:44: servers[0].routes[0].match.methods[1]: unknown method \"FETCH\"\n"
        "types.yaml:12:28: servers[0].routes[0].respond.status: expected an integer, got "
        "\"200\"\n"
        "types.yaml:12:46: servers[0].routes[0].respond.headers.bad name: \"bad name\" is not a "
        "header name\n"
        "types.yaml:13:19: servers[0].routes[1].redirect: \"location\" is required\n"
        "types.yaml:13:29: servers[0].routes[1].redirect.status: 305 is not a redirect status "
        "(301, 302, 303, 307, 308)\n"
        "types.yaml:14:15: servers[0].routes[2].file: \"root\" is required\n"
        "types.yaml:15:5: servers[1]: \"name\" is required\n"
        "types.yaml:15:14: servers[1].listen[0]: host \"example.com\" is not an IP address, "
        "localhost or *\n"
        "types.yaml:15:30: servers[1].listen[1]: port 99999 out of range\n"
        "types.yaml:15:45: servers[1].listen[2]: an IPv6 address is written in brackets: "
        "[::1]:8080\n"
        "types.yaml:15:55: servers[1].listen[3]: expected [ipv6]:port, got \"[::1]\"\n"
        "types.yaml:16:31: servers[1].limits.max_body_bytes: must be greater than 0\n"
        "types.yaml:16:48: servers[1].limits.idle_timeout: \"10 sec\" is not a duration: a whole "
        "number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a bare number is seconds\n"
        "types.yaml:16:74: servers[1].limits.max_header_bytes: \"8GiB\" is too large (at most "
        "1MiB)\n"
        "types.yaml:16:93: servers[1].limits.max_headers: expected an integer, got \"many\"\n"
        "types.yaml:17:13: servers[1].routes: expected a list, got a mapping\n");
}

static void match_path_that_is_no_path_is_reported(void **state)
{
    assert_errors("paths.yaml",
                  "servers:\n"
                  "  - name: a\n"
                  "    listen: auto\n"
                  "    routes:\n"
                  "      - match: { path: /../etc }\n"
                  "        respond: {}\n"
                  "      - match: { path: \"/100%\" }\n"
                  "        respond: {}\n"
                  "      - match: { path: \"/a%00\" }\n"
                  "        respond: {}\n"
                  "      - match: { path: \"/%73ecret//./\" }\n"
                  "        respond: {}\n",
                  "paths.yaml:5:24: servers[0].routes[0].match.path: not a path: a '%' must "
                  "start an escape (%25 for itself), no %00, and \"..\" must not climb above "
                  "\"/\"\n"
                  "paths.yaml:7:24: servers[0].routes[1].match.path: not a path: a '%' must "
                  "start an escape (%25 for itself), no %00, and \"..\" must not climb above "
                  "\"/\"\n"
                  "paths.yaml:9:24: servers[0].routes[2].match.path: not a path: a '%' must "
                  "start an escape (%25 for itself), no %00, and \"..\" must not climb above "
                  "\"/\"\n");
}

static void json_syntax_error_has_janssons_line_and_column(void **state)
{
    assert_errors("bad.json", "{\n  \"workers\": 2,\n}\n",
                  "bad.json:3:1: string or '}' expected near '}'\n");
    assert_errors("bad2.json", "{\"servers\": [\n  {\"name\": \"a\" \"listen\": \"auto\"}\n]}\n",
                  "bad2.json:2:23: '}' expected near '\"listen\"'\n");
}

static void yaml_syntax_error_has_line_and_column(void **state)
{
    assert_errors("bad.yaml", "workers: 2\nadmin:\n  listen: \"unix:x\n",
                  "bad.yaml:4:1: found unexpected end of stream (while scanning a quoted scalar "
                  "started at 3:11)\n");
    assert_errors("indent.yaml", "servers:\n  - name: a\n   listen: auto\n",
                  "indent.yaml:3:4: did not find expected '-' indicator (while parsing a block "
                  "collection started at 2:3)\n");
}

static void repeated_keys_are_errors_and_the_rest_is_still_checked(void **state)
{
    assert_errors("dup.yaml",
                  "workers: 2\n"
                  "servers:\n"
                  "  - name: a\n"
                  "    listen: nope\n"
                  "    name: b\n"
                  "workers: 3\n",
                  "dup.yaml:4:13: servers[0].listen: expected host:port, [ipv6]:port, a port or "
                  "unix:PATH, got \"nope\"\n"
                  "dup.yaml:5:5: servers[0].name: duplicate key \"name\" (first at line 3)\n"
                  "dup.yaml:6:1: workers: duplicate key \"workers\" (first at line 1)\n");
    assert_errors("dup.json", "{\"workers\": 2, \"workers\": 3}",
                  "dup.json:1:24: duplicate object key near '\"workers\"'\n");
    /* Inside a dropped value, paths are still whole; a key must be a scalar. */
    assert_errors("nested.yaml",
                  "servers:\n"
                  "  - name: a\n"
                  "    listen: auto\n"
                  "    limits: { idle_timeout: 1s }\n"
                  "    limits: { idle_timeout: 2s, idle_timeout: 3s }\n"
                  "? [x]\n"
                  ": 1\n",
                  "nested.yaml:5:5: servers[0].limits: duplicate key \"limits\" (first at line 4)\n"
                  "nested.yaml:5:33: servers[0].limits.idle_timeout: duplicate key "
                  "\"idle_timeout\" (first at line 5)\n"
                  "nested.yaml:6:3: mapping keys must be scalars\n");
    /* A repeated key alone is enough to refuse the file. */
    assert_errors("dup2.yaml", "workers: 2\nworkers: 2\n",
                  "dup2.yaml:2:1: workers: duplicate key \"workers\" (first at line 1)\n");
}

static void unknown_keys_are_errors_at_every_level(void **state)
{
    assert_errors("unknown.yaml",
                  "foo: 1\n"
                  "switchboards: []\n"
                  "admin: { listen: unix:x, tokenfile: t }\n"
                  "limits: { max_bodies: 1 }\n"
                  "servers:\n"
                  "  - name: s\n"
                  "    listen: auto\n"
                  "    limits: { max_servers: 5 }\n"
                  "    routes:\n"
                  "      - match: { path: /, verbs: [GET] }\n"
                  "        respond: { stauts: 200 }\n"
                  "      - proxy: { upstream: api }\n",
                  "unknown.yaml:1:1: unknown key \"foo\"\n"
                  "unknown.yaml:3:26: admin: unknown key \"tokenfile\" (did you mean "
                  "\"token_file\"?)\n"
                  "unknown.yaml:4:11: limits: unknown key \"max_bodies\"\n"
                  "unknown.yaml:8:15: servers[0].limits: max_servers is a pool limit: set it in "
                  "the top-level limits\n"
                  "unknown.yaml:10:27: servers[0].routes[0].match: unknown key \"verbs\"\n"
                  "unknown.yaml:11:20: servers[0].routes[0].respond: unknown key \"stauts\" (did "
                  "you mean \"status\"?)\n"
                  "unknown.yaml:12:28: servers[0].routes[1].proxy.upstream: no upstream named "
                  "\"api\"\n");
}

static void a_key_one_slip_from_a_known_one_gets_a_suggestion(void **state)
{
    assert_errors("slips.yaml",
                  "limts: { max_body_bytes: 1KiB }\n"
                  "Workers: 2\n"
                  "healht: { rise: 2 }\n"
                  "limits: { max_headr_byts: 1KiB, max_server: 9, idle_timeot: 1s }\n"
                  "servers:\n"
                  "  - nmae: a\n"
                  "    listen: auto\n"
                  "    limits: { max_server: 1 }\n"
                  "    routes: [ { respnod: {}, macth: {} } ]\n",
                  "slips.yaml:1:1: unknown key \"limts\" (did you mean \"limits\"?)\n"
                  "slips.yaml:2:1: unknown key \"Workers\" (did you mean \"workers\"?)\n"
                  "slips.yaml:3:1: unknown key \"healht\" (did you mean \"health\"?)\n"
                  "slips.yaml:4:11: limits: unknown key \"max_headr_byts\" (did you mean "
                  "\"max_header_bytes\"?)\n"
                  "slips.yaml:4:33: limits: unknown key \"max_server\" (did you mean "
                  "\"max_servers\"?)\n"
                  "slips.yaml:4:48: limits: unknown key \"idle_timeot\" (did you mean "
                  "\"idle_timeout\"?)\n"
                  "slips.yaml:6:5: servers[0]: unknown key \"nmae\" (did you mean \"name\"?)\n"
                  "slips.yaml:6:5: servers[0]: \"name\" is required\n"
                  "slips.yaml:8:15: servers[0].limits: unknown key \"max_server\"\n"
                  "slips.yaml:9:15: servers[0].routes[0]: exactly one of respond, file, "
                  "redirect, metrics, health, proxy, websocket is required\n"
                  "slips.yaml:9:17: servers[0].routes[0]: unknown key \"respnod\" (did you mean "
                  "\"respond\"?)\n"
                  "slips.yaml:9:30: servers[0].routes[0]: unknown key \"macth\" (did you mean "
                  "\"match\"?)\n");
    /* Nothing near: no guess. */
    assert_errors("far.yaml", "colour: red\nlim: {}\n",
                  "far.yaml:1:1: unknown key \"colour\"\nfar.yaml:2:1: unknown key \"lim\"\n");
}

/* metrics and health have no settings: only an empty mapping. */
static void metrics_and_health_take_no_settings(void **state)
{
    assert_errors("none.yaml",
                  "servers:\n"
                  "  - name: a\n"
                  "    listen: auto\n"
                  "    routes:\n"
                  "      - metrics: { path: /x }\n"
                  "      - health: [1]\n"
                  "      - metrics: {}\n"
                  "      - health: {}\n",
                  "none.yaml:5:20: servers[0].routes[0].metrics: unknown key \"path\"\n"
                  "none.yaml:6:17: servers[0].routes[1].health: expected a mapping, got a list\n");
}

static void a_tab_in_yaml_indentation_is_said_in_plain_words(void **state)
{
    static const char *const files[][2] = {
        {"servers:\n\t- name: a\n", "2:1"},
        {"servers:\n  - name: a\n\tlisten: auto\n", "3:1"},
        {"servers:\n  - name: a\n    listen: auto\n  \troutes: []\n", "4:3"},
        {"\xc3\xa9t\xc3\xa9:\n  a: 1\n\tb: 2\n", "3:1"}, /* columns count characters */
        {"a: |\n\tx\n", "2:1"},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char want[256];
        snprintf(want, sizeof want,
                 "tabs.yaml:%s: tabs are not allowed for indentation in YAML; use spaces\n",
                 files[i][1]);
        assert_errors("tabs.yaml", files[i][0], want);
    }
    /* A tab inside a value or after a key is no indentation: fine. */
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(config_fixture_load("tab_ok.yaml", "access_log:\toff\n", &c, &errs), 0);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

static void repeated_server_names_name_the_first_user(void **state)
{
    assert_errors("names.yaml",
                  "servers:\n"
                  "  - { name: a, listen: auto }\n"
                  "  - { name: b, listen: auto }\n"
                  "  - { name: a, listen: auto }\n"
                  "  - { name: b, listen: auto }\n",
                  "names.yaml:4:13: servers[2].name: \"a\" is already used by servers[0]\n"
                  "names.yaml:5:13: servers[3].name: \"b\" is already used by servers[1]\n");
}

static void health_settings_are_checked(void **state)
{
    assert_errors("health.yaml",
                  "health:\n"
                  "  interval: 0s\n"
                  "  rise: 0\n"
                  "  fall: 5000\n"
                  "  timeout: 1s\n",
                  "health.yaml:2:13: health.interval: must be greater than 0\n"
                  "health.yaml:3:9: health.rise: 0 out of range (1-1000)\n"
                  "health.yaml:4:9: health.fall: 5000 out of range (1-1000)\n"
                  "health.yaml:5:3: health: unknown key \"timeout\"\n");
    assert_errors("health2.yaml", "health: { interval: soon, rise: 4, fall: three }\n",
                  "health2.yaml:1:21: health.interval: \"soon\" is not a duration: a whole "
                  "number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a bare number is "
                  "seconds\n"
                  "health2.yaml:1:42: health.fall: expected an integer, got \"three\"\n");
    assert_errors("health3.yaml", "health: 2s\n",
                  "health3.yaml:1:9: health: expected a mapping, got \"2s\"\n");
}

static void odd_documents_are_refused_clearly(void **state)
{
    assert_errors("alias.yaml", "a: &x 1\nb: *x\n",
                  "alias.yaml:2:4: aliases are not supported (*x)\n");
    assert_errors("list.yaml", "- a\n- b\n", "list.yaml:1:1: expected a mapping, got a list\n");
    assert_errors("two.yaml", "workers: 1\n---\nworkers: 2\n",
                  "two.yaml:2:1: a config file holds one document\n");
    assert_errors("more.yaml",
                  "limits: { max_servers: 1 }\nservers: [{name: a, listen: auto}, "
                  "{name: b, listen: auto}]\n",
                  "more.yaml:2:10: servers: 2 servers, more than limits.max_servers (1)\n");
}

static void nesting_is_limited(void **state)
{
    char text[256] = "a: ";
    for (int i = 0; i < 70; i++) strcat(text, "[");
    for (int i = 0; i < 70; i++) strcat(text, "]");
    strcat(text, "\n");
    assert_errors("deep.yaml", text, "deep.yaml:1:68: nesting deeper than 64 levels\n");
}

static void json_files_have_positions_in_validation_errors(void **state)
{
    assert_errors("port.json",
                  "{\"servers\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:70000\"}]}",
                  "port.json:1:38: servers[0].listen: port 70000 out of range\n");
}

static void missing_file_is_one_error_without_position(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c;
    assert_int_equal(hp__config_load_file("/nonexistent/hostpool.yaml", &c, &errs), HP_ECONFIG);
    assert_null(c);
    char *printed = config_fixture_errors(&errs);
    assert_string_equal(printed,
                        "/nonexistent/hostpool.yaml: cannot open: No such file or directory\n");
    free(printed);
    hp__config_errors_close(&errs);
}

static void errors_of_a_jansson_tree_have_paths_but_no_positions(void **state)
{
    json_t *json = json_loads("{\"servers\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:70000\"},"
                              " {\"name\": \"a\", \"listen\": \"auto\", \"x\": 1}]}",
                              0, NULL);
    assert_non_null(json);
    hp__cfg_node *root = hp__cfg_node_from_json(json);
    json_decref(json);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c;
    assert_int_equal(hp__config_load_node(root, NULL, &c, &errs), HP_ECONFIG);
    assert_null(c);
    char *printed = config_fixture_errors(&errs);
    assert_string_equal(printed, "servers[0].listen: port 70000 out of range\n"
                                 "servers[1]: unknown key \"x\"\n"
                                 "servers[1].name: \"a\" is already used by servers[0]\n");
    free(printed);
    hp__config_errors_close(&errs);
    hp__cfg_node_destroy(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_error_of_a_file_is_reported_in_document_order),
        cmocka_unit_test(types_ranges_and_required_keys_are_all_reported),
        cmocka_unit_test(match_path_that_is_no_path_is_reported),
        cmocka_unit_test(json_syntax_error_has_janssons_line_and_column),
        cmocka_unit_test(yaml_syntax_error_has_line_and_column),
        cmocka_unit_test(repeated_keys_are_errors_and_the_rest_is_still_checked),
        cmocka_unit_test(unknown_keys_are_errors_at_every_level),
        cmocka_unit_test(a_key_one_slip_from_a_known_one_gets_a_suggestion),
        cmocka_unit_test(a_tab_in_yaml_indentation_is_said_in_plain_words),
        cmocka_unit_test(repeated_server_names_name_the_first_user),
        cmocka_unit_test(health_settings_are_checked),
        cmocka_unit_test(odd_documents_are_refused_clearly),
        cmocka_unit_test(nesting_is_limited),
        cmocka_unit_test(json_files_have_positions_in_validation_errors),
        cmocka_unit_test(missing_file_is_one_error_without_position),
        cmocka_unit_test(metrics_and_health_take_no_settings),
        cmocka_unit_test(errors_of_a_jansson_tree_have_paths_but_no_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
