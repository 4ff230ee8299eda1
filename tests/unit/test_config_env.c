/* Environment variables in a config file's values (src/config/config_env.c): ${NAME},
 * ${NAME:-default}, $$ for a '$', a lone '$' kept; values expanded before the checker reads
 * them (a port, a boolean from a variable); an unset variable without a default is an error at
 * its file:line:column, every one of them reported. */
#include "config_fixture.h"
#include "hp_test.h"

#include "handlers/kinds.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static hp__config *load_ok(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = config_fixture_load("env.yaml", text, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    hp__config_errors_close(&errs);
    return config;
}

static const char *body_of(const hp__config *c, size_t server)
{
    const hp__respond_model *m = c->servers[server].routes[0].model;
    return m->body;
}

static void variable_and_default_are_expanded_in_strings_and_numbers(void **state)
{
    setenv("HP_TEST_ENV_PORT", "8123", 1);
    setenv("HP_TEST_ENV_NAME", "world", 1);
    unsetenv("HP_TEST_ENV_UNSET");
    setenv("HP_TEST_ENV_EMPTY", "", 1);
    hp__config *c = load_ok("access_log: ${HP_TEST_ENV_LOG:-off}\n"
                            "servers:\n"
                            "  - name: a\n"
                            "    listen: 127.0.0.1:${HP_TEST_ENV_PORT}\n"
                            "    routes: [ { respond: { body: \"hello ${HP_TEST_ENV_NAME}, "
                            "${HP_TEST_ENV_UNSET:-nobody} ${HP_TEST_ENV_EMPTY:-empty}\" } } ]\n");
    assert_string_equal(c->servers[0].listen[0], "127.0.0.1:8123");
    assert_string_equal(body_of(c, 0), "hello world, nobody empty");
    assert_false(c->access_log);
    hp__config_destroy(c);
}

static void double_dollar_is_a_dollar_and_a_lone_dollar_is_kept(void **state)
{
    hp__config *c =
        load_ok("servers:\n"
                "  - name: a\n"
                "    listen: 127.0.0.1:8124\n"
                "    routes: [ { respond: { body: \"$$HOME costs $5, ^a$ $${X} $\" } } ]\n");
    assert_string_equal(body_of(c, 0), "$HOME costs $5, ^a$ ${X} $");
    hp__config_destroy(c);
}

static void unset_variables_are_each_an_error_at_their_position(void **state)
{
    unsetenv("HP_TEST_ENV_MISSING");
    unsetenv("HP_TEST_ENV_GONE");
    char *errors = config_fixture_load_errors(
        "env.yaml", "servers:\n"
                    "  - name: a\n"
                    "    listen: 127.0.0.1:8125\n"
                    "    routes:\n"
                    "      - respond: { body: \"${HP_TEST_ENV_MISSING}\" }\n"
                    "      - respond: { body: \"x${HP_TEST_ENV_GONE}\" }\n"
                    "      - respond: { body: \"${1BAD}\" }\n");
    assert_non_null(strstr(errors, "env.yaml:5:26: servers[0].routes[0].respond.body: "
                                   "${HP_TEST_ENV_MISSING} is not set (and has no default)\n"));
    assert_non_null(strstr(errors, "env.yaml:6:26: servers[0].routes[1].respond.body: "
                                   "${HP_TEST_ENV_GONE} is not set (and has no default)\n"));
    assert_non_null(strstr(errors, "env.yaml:7:26: servers[0].routes[2].respond.body: "
                                   "\"${1BAD}\" is not ${NAME} or ${NAME:-default}\n"));
    free(errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variable_and_default_are_expanded_in_strings_and_numbers),
        cmocka_unit_test(double_dollar_is_a_dollar_and_a_lone_dollar_is_kept),
        cmocka_unit_test(unset_variables_are_each_an_error_at_their_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
