/* The `access_log` and `error_log` keys (src/config/config_logs.c): a mapping turns the access
 * log on with a path, a format and a buffer; a server's access_log replaces the top level's as
 * a whole; error_log's path and level; every wrong value an error at its position. */
#include "config_fixture.h"
#include "hp_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void a_server_access_log_replaces_the_top_level_one(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    int rc = config_fixture_load("logs.yaml",
                                 "access_log: { path: /tmp/all.log, format: combined }\n"
                                 "error_log: { path: /tmp/error.log, level: warning }\n"
                                 "servers:\n"
                                 "  - name: inherits\n"
                                 "    listen: 127.0.0.1:8301\n"
                                 "  - name: own\n"
                                 "    listen: 127.0.0.1:8302\n"
                                 "    access_log: { format: json, buffer: 4KiB }\n"
                                 "  - name: silent\n"
                                 "    listen: 127.0.0.1:8303\n"
                                 "    access_log: off\n",
                                 &c, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_true(c->servers[0].access_log);
    assert_string_equal(c->servers[0].access_log_output.path, "/tmp/all.log");
    assert_int_equal(c->servers[0].access_log_output.format, HP_ACCESS_LOG_COMBINED);
    assert_true(c->servers[1].access_log);
    assert_null(c->servers[1].access_log_output.path);
    assert_int_equal(c->servers[1].access_log_output.format, HP_ACCESS_LOG_JSON);
    assert_int_equal(c->servers[1].access_log_output.buffer_bytes, 4096);
    assert_false(c->servers[2].access_log);
    assert_string_equal(c->error_log.path, "/tmp/error.log");
    assert_int_equal(c->error_log.level, HP_LOG_WARN);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

static void wrong_log_settings_are_errors_at_their_values(void **state)
{
    char *errors = config_fixture_load_errors("logs.yaml",
                                              "access_log: { format: xml, buffer: 0, path: \"\" }\n"
                                              "error_log: { level: loud, size: 1 }\n"
                                              "servers:\n"
                                              "  - name: a\n"
                                              "    listen: 127.0.0.1:8304\n"
                                              "    access_log: {}\n");
    assert_string_equal(
        errors,
        "logs.yaml:1:23: access_log.format: expected default, combined or json, got \"xml\"\n"
        "logs.yaml:1:36: access_log.buffer: must be greater than 0\n"
        "logs.yaml:1:45: access_log.path: must not be empty\n"
        "logs.yaml:2:21: error_log.level: expected error, warning, info or debug, got \"loud\"\n"
        "logs.yaml:2:27: error_log: unknown key \"size\"\n"
        "logs.yaml:6:17: servers[0].access_log: expected a boolean, or a mapping of path, "
        "format and buffer, got a mapping\n");
    free(errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_server_access_log_replaces_the_top_level_one),
        cmocka_unit_test(wrong_log_settings_are_errors_at_their_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
