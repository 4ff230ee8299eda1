/* The `compress` key of a server and of a route (src/config/config_compress.c): each field
 * checked at its file:line:column, true / false / {} and a full policy carried into the
 * server's config. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void bad_compress_fields_are_reported_at_their_position(void **state)
{
    char *got = config_fixture_load_errors(
        "gz.yaml", "servers:\n"
                   "  - name: a\n"
                   "    listen: 127.0.0.1:8080\n"
                   "    compress: { level: 10, min_bytes: 0, types: [text, \"*/json\"] }\n"
                   "    routes:\n"
                   "      - compress: maybe\n"
                   "        respond: { body: ok }\n"
                   "      - compress: { types: text/html, lvl: 3 }\n"
                   "        respond: { body: ok }\n");
    const char *want =
        "gz.yaml:4:24: servers[0].compress.level: 10 out of range (1-9)\n"
        "gz.yaml:4:39: servers[0].compress.min_bytes: must be greater than 0\n"
        "gz.yaml:4:50: servers[0].compress.types[0]: \"text\" is not a media type (type/subtype, "
        "or type/* for any subtype)\n"
        "gz.yaml:4:56: servers[0].compress.types[1]: \"*/json\" is not a media type "
        "(type/subtype, or type/* for any subtype)\n"
        "gz.yaml:6:19: servers[0].routes[0].compress: expected true, false or a mapping, got "
        "\"maybe\"\n"
        "gz.yaml:8:28: servers[0].routes[1].compress.types: expected a list of media types, got "
        "\"text/html\"\n"
        "gz.yaml:8:39: servers[0].routes[1].compress: unknown key \"lvl\"\n";
    assert_string_equal(got, want);
    free(got);
}

static void a_process_server_cannot_compress(void **state)
{
    char *got = config_fixture_load_errors("proc.yaml", "servers:\n"
                                                        "  - name: app\n"
                                                        "    listen: 127.0.0.1:8080\n"
                                                        "    compress: true\n"
                                                        "    process: { command: [./app] }\n");
    assert_string_equal(got, "proc.yaml:4:5: servers[0]: a process server's answers are its "
                             "process's: compress them there\n");
    free(got);
}

static void policies_reach_the_server_config(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(config_fixture_load("ok.yaml",
                                         "servers:\n"
                                         "  - name: a\n"
                                         "    listen: 127.0.0.1:8080\n"
                                         "    compress: true\n"
                                         "    routes:\n"
                                         "      - compress: false\n"
                                         "        respond: { body: ok }\n"
                                         "      - compress: { types: [text/csv], min_bytes: 1KiB, "
                                         "level: 9 }\n"
                                         "        respond: { body: ok }\n"
                                         "      - compress: {}\n"
                                         "        respond: { body: ok }\n"
                                         "  - name: b\n"
                                         "    listen: 127.0.0.1:8081\n"
                                         "    compress: false\n"
                                         "    routes:\n"
                                         "      - respond: { body: ok }\n",
                                         &c, &errs),
                     0);
    const hp_compress_config *server = c->servers[0].compress;
    assert_non_null(server);
    assert_false(server->off);
    assert_int_equal(server->level, 0); /* the defaults are the library's */
    assert_true(c->servers[0].routes[0].compress->off);
    const hp_compress_config *own = c->servers[0].routes[1].compress;
    assert_int_equal(own->type_count, 1);
    assert_string_equal(own->types[0], "text/csv");
    assert_int_equal(own->min_bytes, 1024);
    assert_int_equal(own->level, 9);
    assert_false(c->servers[0].routes[2].compress->off);
    assert_null(c->servers[1].compress);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_compress_fields_are_reported_at_their_position),
        cmocka_unit_test(a_process_server_cannot_compress),
        cmocka_unit_test(policies_reach_the_server_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
