/* The checked form of a document (src/config/node.h, config.c): the checker marks every
 * scalar with what it read it as, and the JSON of a checked tree, which the admin API keeps
 * as the running config, is that form whatever the source spelled (`name: 5` is "5", `off`
 * is false, `0404` is 404). A checked form checks the same again, and JSON reals never read
 * as integers. */
#include "hp_test.h"

#include "config/config.h"
#include "config/parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static hp__cfg_node *parse_yaml(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__cfg_node *root = hp__cfg_parse_yaml(text, strlen(text), "test.yaml", &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(errs.count, 0);
    hp__config_errors_close(&errs);
    return root;
}

static void check(hp__cfg_node *root)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config;
    int rc = hp__config_load_node(root, "test", &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    hp__config_destroy(config);
    hp__config_errors_close(&errs);
}

/* Every scalar value (not the keys) of a checked tree was read by the checker. */
static void assert_all_read(const hp__cfg_node *n)
{
    if (n->kind == HP__CFG_SCALAR) {
        char *path = hp__cfg_node_path(n);
        if (n->read == HP__CFG_UNREAD) fail_msg("%s (\"%s\") was not read", path, n->text);
        free(path);
    }
    for (size_t i = 0; i < n->count; i++) assert_all_read(n->items[i]);
}

static char *json_text(const hp__cfg_node *root)
{
    json_t *json = hp__cfg_node_to_json(root);
    char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(json);
    return text;
}

static void every_scalar_of_a_valid_config_is_read_by_the_checker(void **state)
{
    char path[4096];
    const char *files[] = {"tests/data/config/valid.yaml", "tests/data/config/valid.json",
                           "examples/hostpool.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", hp_test_source_dir(), files[i]);
        hp__config_errors errs;
        hp__config_errors_init(&errs);
        hp__cfg_node *root = hp__cfg_parse_file(path, &errs);
        assert_non_null(root);
        check(root);
        assert_all_read(root);
        hp__cfg_node_destroy(root);
        hp__config_errors_close(&errs);
    }
}

static const char yaml_spellings[] = "workers: auto\n"
                                     "access_log: off\n"
                                     "limits: { max_header_bytes: 16KiB, max_body_bytes: 1024, "
                                     "max_headers: 050, idle_timeout: \"90\" }\n"
                                     "servers:\n"
                                     "  - name: 5\n"
                                     "    listen: [auto]\n"
                                     "    hosts: 1.50\n"
                                     "    routes:\n"
                                     "      - respond: { status: 0404, body: 200, headers: "
                                     "{ x-on: on, x-null: \"~\" } }\n"
                                     "      - redirect: { location: /, keep_path: Yes }\n"
                                     "  - name: true\n"
                                     "    listen: auto\n"
                                     "    routes: ~\n";

static const char checked_spellings[] =
    "{\"access_log\":false,"
    "\"limits\":{\"idle_timeout\":90,\"max_body_bytes\":1024,\"max_header_bytes\":\"16KiB\","
    "\"max_headers\":50},"
    "\"servers\":[{\"hosts\":\"1.50\",\"listen\":[\"auto\"],\"name\":\"5\","
    "\"routes\":[{\"respond\":{\"body\":\"200\",\"headers\":{\"x-null\":\"~\",\"x-on\":\"on\"},"
    "\"status\":404}},{\"redirect\":{\"keep_path\":true,\"location\":\"/\"}}]},"
    "{\"listen\":\"auto\",\"name\":\"true\",\"routes\":null}],"
    "\"workers\":\"auto\"}";

static void the_json_of_a_checked_tree_is_what_the_checker_read(void **state)
{
    hp__cfg_node *root = parse_yaml(yaml_spellings);
    check(root);
    char *text = json_text(root);
    assert_string_equal(text, checked_spellings);
    free(text);
    hp__cfg_node_destroy(root);
}

static void a_checked_form_checks_the_same_again(void **state)
{
    hp__cfg_node *root = parse_yaml(yaml_spellings);
    check(root);
    json_t *json = hp__cfg_node_to_json(root);
    hp__cfg_node *again = hp__cfg_node_from_json(json);
    json_decref(json);
    check(again);
    char *text = json_text(again);
    assert_string_equal(text, checked_spellings);
    free(text);
    hp__cfg_node_destroy(again);
    hp__cfg_node_destroy(root);
}

static void an_unchecked_tree_keeps_what_yaml_implies(void **state)
{
    /* `hostpool add -f` sends a tree nobody checked: plain numbers go as numbers. */
    hp__cfg_node *root = parse_yaml("name: 5\nbody: \"5\"\nflag: on\nnothing: ~\n");
    char *text = json_text(root);
    assert_string_equal(text, "{\"body\":\"5\",\"flag\":\"on\",\"name\":5,\"nothing\":null}");
    free(text);
    hp__cfg_node_destroy(root);
}

static void a_server_body_is_checked_into_strings_where_strings_are_read(void **state)
{
    json_t *body = json_loads("{\"name\":5,\"listen\":\"127.0.0.1:0\",\"hosts\":[1.5],"
                              "\"routes\":[{\"respond\":{\"body\":true,\"status\":201}}]}",
                              0, NULL);
    hp__cfg_node *map = hp__cfg_node_from_json(body);
    json_decref(body);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config defaults = {0};
    hp_limits_init(&defaults.limits);
    hp__config_server *server;
    assert_int_equal(hp__config_load_server_node(map, &defaults, &server, &errs), 0);
    assert_string_equal(server->name, "5");
    assert_string_equal(server->hosts[0], "1.5");
    char *text = json_text(map);
    assert_string_equal(text, "{\"hosts\":[\"1.5\"],\"listen\":\"127.0.0.1:0\",\"name\":\"5\","
                              "\"routes\":[{\"respond\":{\"body\":\"true\",\"status\":201}}]}");
    free(text);
    hp__config_server_destroy(server);
    hp__config_errors_close(&errs);
    hp__cfg_node_destroy(map);
}

static void json_reals_keep_their_shortest_text_and_a_fraction(void **state)
{
    static const struct {
        const char *json, *text;
    } reals[] = {{"5.0", "5.0"},   {"-2.50", "-2.5"},
                 {"0.1", "0.1"},   {"1e300", "1e+300"},
                 {"1e2", "100.0"}, {"0.30000000000000004", "0.30000000000000004"}};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
        json_t *json = json_loads(reals[i].json, JSON_DECODE_ANY, NULL);
        hp__cfg_node *n = hp__cfg_node_from_json(json);
        assert_string_equal(n->text, reals[i].text);
        assert_false(n->quoted);
        hp__cfg_node_destroy(n);
        json_decref(json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_scalar_of_a_valid_config_is_read_by_the_checker),
        cmocka_unit_test(the_json_of_a_checked_tree_is_what_the_checker_read),
        cmocka_unit_test(a_checked_form_checks_the_same_again),
        cmocka_unit_test(an_unchecked_tree_keeps_what_yaml_implies),
        cmocka_unit_test(a_server_body_is_checked_into_strings_where_strings_are_read),
        cmocka_unit_test(json_reals_keep_their_shortest_text_and_a_fraction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
