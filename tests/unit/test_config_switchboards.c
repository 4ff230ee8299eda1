/* The `switchboards:` list of a config (src/config/config_switchboards.c): what a valid entry
 * reads as, with its defaults, and every error at its file:line:column. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/config.h"
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

/* Loads `text`, which must be valid. */
static hp__config *load_valid(const char *name, const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    int status = config_fixture_load(name, text, &c, &errs);
    if (status != 0) {
        char *printed = config_fixture_errors(&errs);
        fprintf(stderr, "%s", printed);
        free(printed);
    }
    hp__config_errors_close(&errs);
    assert_int_equal(status, 0);
    return c;
}

static void an_entry_reads_with_its_defaults(void **state)
{
    hp__config *c = load_valid("ok.yaml", "switchboards:\n"
                                          "  - name: apps\n"
                                          "    listen: 127.0.0.1:8000\n"
                                          "    hosts: \"{name}.localhost\"\n"
                                          "    template: { file: { root: \"./sites/{name}\" } }\n");
    assert_int_equal(c->switchboard_count, 1);
    const hp__switchboard_model *m = &c->switchboards[0];
    assert_string_equal(m->name, "apps");
    assert_string_equal(m->listen, "127.0.0.1:8000");
    assert_int_equal(m->host_count, 1);
    assert_string_equal(m->hosts[0], "{name}.localhost");
    assert_null(m->fallback_header);
    assert_null(m->default_name);
    assert_null(m->allow_name);
    assert_null(m->allow_exists);
    assert_int_equal(m->max_servers, 50);
    assert_int_equal(m->idle_timeout_ms, 15 * 60 * 1000);
    assert_string_equal(m->file_root, "./sites/{name}");
    assert_null(m->process);
    hp__config_destroy(c);
}

static void every_setting_reads(void **state)
{
    hp__config *c =
        load_valid("all.yaml", "switchboards:\n"
                               "  - name: apps\n"
                               "    listen: 127.0.0.1:8000\n"
                               "    hosts: [\"{name}.localhost\", \"{name}.test\"]\n"
                               "    fallback_header: X-App-Name\n"
                               "    default: home\n"
                               "    allow: { name: \"^[a-z]+$\", exists: \"./apps/{name}\" }\n"
                               "    max_servers: 3\n"
                               "    idle_timeout: 0\n"
                               "    template:\n"
                               "      process: { command: [\"./run\", \"--port\", \"{port}\"], "
                               "cwd: \"./apps/{name}\" }\n");
    const hp__switchboard_model *m = &c->switchboards[0];
    assert_int_equal(m->host_count, 2);
    assert_string_equal(m->hosts[1], "{name}.test");
    assert_string_equal(m->fallback_header, "X-App-Name");
    assert_string_equal(m->default_name, "home");
    assert_string_equal(m->allow_name, "^[a-z]+$");
    assert_string_equal(m->allow_exists, "./apps/{name}");
    assert_int_equal(m->max_servers, 3);
    assert_int_equal(m->idle_timeout_ms, 0);
    assert_null(m->file_root);
    assert_non_null(m->process);
    assert_string_equal(m->process->cwd, "./apps/{name}");
    hp__config_destroy(c);
}

static void every_error_is_at_its_place(void **state)
{
    assert_errors(
        "bad.yaml",
        "servers:\n"
        "  - { name: web, listen: auto, routes: [ { respond: {} } ] }\n"
        "switchboards:\n"
        "  - name: web\n"
        "    listen: nowhere\n"
        "    hosts: [\"{name}.{name}.x\", \"x.localhost\"]\n"
        "    fallback_header: \"bad header\"\n"
        "    default: \"Not_Safe\"\n"
        "    allow: { name: \"(\", exists: \"./{nmae}\" }\n"
        "    max_servers: 0\n"
        "    idle_timeout: soon\n"
        "    template: { file: { root: \"./{port}\" } }\n"
        "    extra: 1\n"
        "  - name: b\n"
        "    listen: 127.0.0.1:1\n"
        "    hosts: \"{name}.b\"\n"
        "    template: { file: { root: r }, process: { command: [x] } }\n"
        "  - name: b\n"
        "    listen: auto\n"
        "    hosts: []\n",
        "bad.yaml:4:11: switchboards[0].name: \"web\" is already used by servers[0]\n"
        "bad.yaml:5:13: switchboards[0].listen: expected host:port, [ipv6]:port, a port or "
        "unix:PATH, got \"nowhere\"\n"
        "bad.yaml:6:13: switchboards[0].hosts[0]: \"{name}.{name}.x\" has two {name}\n"
        "bad.yaml:6:32: switchboards[0].hosts[1]: \"x.localhost\" has no {name}\n"
        "bad.yaml:7:22: switchboards[0].fallback_header: \"bad header\" is not a header name\n"
        "bad.yaml:8:14: switchboards[0].default: \"Not_Safe\" is not a safe name: 1 to 63 of "
        "a-z 0-9 -, not starting or ending with -\n"
        "bad.yaml:9:20: switchboards[0].allow.name: allow.name \"(\": Unmatched ( or \\(\n"
        "bad.yaml:9:33: switchboards[0].allow.exists: \"./{nmae}\": unknown placeholder {nmae} "
        "(known: {name}, {port})\n"
        "bad.yaml:10:18: switchboards[0].max_servers: 0 out of range (1-1000000)\n"
        "bad.yaml:11:19: switchboards[0].idle_timeout: \"soon\" is not a duration: a whole "
        "number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a bare number is seconds\n"
        "bad.yaml:12:31: switchboards[0].template.file.root: \"./{port}\": {port} is not known "
        "here\n"
        "bad.yaml:13:5: switchboards[0]: unknown key \"extra\"\n"
        "bad.yaml:17:15: switchboards[1].template: exactly one of \"file\" or \"process\" is "
        "required\n"
        "bad.yaml:18:5: switchboards[2]: \"template\" is required\n"
        "bad.yaml:18:11: switchboards[2].name: \"b\" is already used by switchboards[1]\n"
        "bad.yaml:19:13: switchboards[2].listen: expected host:port, [ipv6]:port, a port or "
        "unix:PATH, got \"auto\"\n"
        "bad.yaml:20:12: switchboards[2].hosts: at least one pattern is required\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_entry_reads_with_its_defaults),
        cmocka_unit_test(every_setting_reads),
        cmocka_unit_test(every_error_is_at_its_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
