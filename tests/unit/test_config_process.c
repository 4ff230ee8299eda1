/* `process:` in a config (src/config/config_process.c): a server's supervised process is read
 * with its defaults and every setting, every problem is reported at its file:line:column, a
 * switchboard's template may use {name} but no port, and `process` with `routes` is refused. */
#include "config/config_check.h"
#include "config/config_process.h"
#include "config/parse.h"
#include "config_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SERVER "servers:\n  - name: app\n    listen: 127.0.0.1:0\n"

static void assert_errors(const char *text, const char *expected)
{
    char *got = config_fixture_load_errors("p.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

static hp__config *load_ok(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    int rc = config_fixture_load("ok.yaml", text, &c, &errs);
    if (rc) {
        char *printed = config_fixture_errors(&errs);
        fail_msg("%s", printed);
    }
    hp__config_errors_close(&errs);
    return c;
}

static void a_process_with_only_a_command_takes_every_default(void **state)
{
    hp__config *c = load_ok(SERVER "    process: { command: [./app, --port, \"{port}\"] }\n");
    const hp__process_model *m = c->servers[0].process;
    assert_non_null(m);
    assert_int_equal(m->config.command_count, 3);
    assert_string_equal(m->config.command[0], "./app");
    assert_string_equal(m->config.command[2], "{port}");
    assert_null(m->config.cwd);
    assert_int_equal(m->config.env_count, 0);
    assert_int_equal(m->config.port, 0); /* auto */
    assert_null(m->config.ready_path);   /* tcp */
    assert_int_equal(m->config.boot_timeout_ms, 30000);
    assert_int_equal(m->config.stop_timeout_ms, 10000);
    assert_int_equal(m->config.queue, 100);
    assert_int_equal(m->config.restart.policy, HP_RESTART_PERMANENT);
    assert_int_equal(m->config.restart.initial_ms, 100);
    assert_int_equal(m->config.restart.max_ms, 5000);
    assert_int_equal(m->config.restart.factor_milli, 2000);
    assert_int_equal(m->config.restart.jitter_ppm, 100000);
    assert_int_equal(m->config.restart.max_restarts, 10);
    assert_int_equal(m->config.restart.within_ms, 60000);
    assert_int_equal(c->servers[0].route_count, 0);
    hp__config_destroy(c);
}

static void every_process_setting_is_read(void **state)
{
    hp__config *c = load_ok(SERVER "    process:\n"
                                   "      command: [bin/server]\n"
                                   "      cwd: ./apps/one\n"
                                   "      env: { PORT: \"{port}\", MODE: 3 }\n"
                                   "      port: 3000\n"
                                   "      ready: { path: /health }\n"
                                   "      boot_timeout: 5s\n"
                                   "      stop_timeout: 250ms\n"
                                   "      queue: 7\n"
                                   "      restart: { policy: transient, initial: 50ms, max: 1m, "
                                   "factor: 1.5, jitter: 0, max_restarts: 0, within: 2m }\n");
    const hp_process_config *p = &c->servers[0].process->config;
    assert_string_equal(p->cwd, "./apps/one");
    assert_int_equal(p->env_count, 2);
    assert_string_equal(p->env[0], "PORT={port}");
    assert_string_equal(p->env[1], "MODE=3");
    assert_int_equal(p->port, 3000);
    assert_string_equal(p->ready_path, "/health");
    assert_int_equal(p->boot_timeout_ms, 5000);
    assert_int_equal(p->stop_timeout_ms, 250);
    assert_int_equal(p->queue, 7);
    assert_int_equal(p->restart.policy, HP_RESTART_TRANSIENT);
    assert_int_equal(p->restart.initial_ms, 50);
    assert_int_equal(p->restart.max_ms, 60000);
    assert_int_equal(p->restart.factor_milli, 1500);
    assert_int_equal(p->restart.jitter_ppm, HP_RESTART_NONE); /* none: 0 would take the default */
    assert_int_equal(p->restart.max_restarts, HP_RESTART_NONE);
    assert_int_equal(p->restart.within_ms, 120000);
    hp__config_destroy(c);
}

static void a_copy_of_a_process_config_is_deep_with_its_defaults(void **state)
{
    const char *command[] = {"prog", "{port}"};
    const char *env[] = {"A=1"};
    hp_process_config from = {.command = command,
                              .command_count = 2,
                              .env = env,
                              .env_count = 1,
                              .cwd = "/tmp",
                              .ready_path = "/up",
                              .port = 9};
    hp__process_model m;
    hp__process_model_copy(&m, &from);
    assert_ptr_not_equal(m.config.command[0], command[0]);
    assert_string_equal(m.config.command[1], "{port}");
    assert_string_equal(m.config.env[0], "A=1");
    assert_string_equal(m.config.cwd, "/tmp");
    assert_string_equal(m.config.ready_path, "/up");
    assert_int_equal(m.config.port, 9);
    assert_int_equal(m.config.queue, 100);
    assert_int_equal(m.config.restart.max_restarts, 10);
    hp__process_model_free(&m);
    hp__process_model_free(&m); /* zeroed: a no-op */
}

static void a_missing_or_empty_command_is_refused(void **state)
{
    assert_errors(SERVER "    process: { cwd: /srv }\n",
                  "p.yaml:4:14: servers[0].process: \"command\" is required: the program and "
                  "its arguments\n");
    assert_errors(SERVER "    process: { command: [] }\n",
                  "p.yaml:4:25: servers[0].process.command: expected a list of 1 to 1024 "
                  "strings (the program and its arguments), got a list\n");
    assert_errors(SERVER "    process: { command: ./app }\n",
                  "p.yaml:4:25: servers[0].process.command: expected a list of 1 to 1024 "
                  "strings (the program and its arguments), got \"./app\"\n");
    assert_errors(SERVER "    process: { command: [\"\", x] }\n",
                  "p.yaml:4:26: servers[0].process.command[0]: the program is empty\n");
}

static void bad_settings_are_reported_where_they_are_written(void **state)
{
    assert_errors(SERVER "    process:\n"
                         "      command: [./app, \"{prot}\"]\n"
                         "      env: { 1BAD: x, OK: \"{name}\" }\n"
                         "      port: 70000\n"
                         "      ready: { path: /up, tcp: true }\n"
                         "      boot_timeout: 0s\n"
                         "      queue: 0\n"
                         "      restart: { policy: sometimes, initial: 2s, max: 1s, factor: 0.5, "
                         "jitter: 1, max_restarts: 1001 }\n"
                         "      user: nobody\n",
                  "p.yaml:5:24: servers[0].process.command[1]: \"{prot}\": unknown placeholder "
                  "{prot} (known: {name}, {port})\n"
                  "p.yaml:6:14: servers[0].process.env: \"1BAD\" is not an environment "
                  "variable name: a letter or '_', then letters, digits or '_'\n"
                  "p.yaml:6:27: servers[0].process.env.OK: {name} is known only in a "
                  "switchboard's template\n"
                  "p.yaml:7:13: servers[0].process.port: 70000 out of range (1-65535)\n"
                  "p.yaml:8:14: servers[0].process.ready: exactly one of path (GET it until "
                  "2xx) or tcp: true is required\n"
                  "p.yaml:9:21: servers[0].process.boot_timeout: must be greater than 0\n"
                  "p.yaml:10:14: servers[0].process.queue: 0 out of range (1-100000)\n"
                  "p.yaml:11:26: servers[0].process.restart.policy: expected permanent, "
                  "transient or temporary, got \"sometimes\"\n"
                  "p.yaml:11:55: servers[0].process.restart.max: must not be below initial\n"
                  "p.yaml:11:67: servers[0].process.restart.factor: expected a number from 1 "
                  "to 1000 (2, 1.5), got \"0.5\"\n"
                  "p.yaml:11:80: servers[0].process.restart.jitter: expected a number from 0 "
                  "to below 1 (0.1), got \"1\"\n"
                  "p.yaml:11:97: servers[0].process.restart.max_restarts: 1001 out of range "
                  "(0-1000)\n"
                  "p.yaml:12:7: servers[0].process: unknown key \"user\"\n");
}

static void ready_needs_a_path_or_tcp(void **state)
{
    assert_errors(SERVER "    process: { command: [a], ready: { tcp: false } }\n",
                  "p.yaml:4:44: servers[0].process.ready.tcp: tcp: false would never be ready: "
                  "give a path instead\n");
    assert_errors(SERVER "    process: { command: [a], ready: { path: health } }\n",
                  "p.yaml:4:45: servers[0].process.ready.path: expected a path starting with "
                  "\"/\" without spaces, got \"health\"\n");
}

static void a_process_server_with_routes_is_refused(void **state)
{
    assert_errors(SERVER "    process: { command: [./app] }\n"
                         "    routes:\n"
                         "      - respond: { body: hi }\n",
                  "p.yaml:5:5: servers[0]: a process server has no routes: its process answers "
                  "every request\n");
}

/* Reads `text`'s `process` mapping as a switchboard's template would. */
static char *template_errors(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__cfg_node *root = hp__cfg_parse_yaml(text, strlen(text), "t.yaml", &errs);
    assert_non_null(root);
    hp_config_check c = {.file = "t.yaml", .errs = &errs};
    hp__process_model m;
    bool ok = hp__config_read_process(&c, hp__cfg_mapping_get(root, "process"), true, &m);
    assert_int_equal(ok, errs.count == 0);
    char *printed = config_fixture_errors(&errs);
    hp__process_model_free(&m);
    hp__cfg_node_destroy(root);
    hp__config_errors_close(&errs);
    return printed;
}

static void a_template_may_name_the_name_but_not_a_port(void **state)
{
    char *got = template_errors("process:\n"
                                "  command: [./app, --name, \"{name}\", --port, \"{port}\"]\n"
                                "  cwd: ./apps/{name}\n"
                                "  env: { APP: \"{name}\" }\n");
    assert_string_equal(got, "");
    free(got);
    got = template_errors("process: { command: [./app], port: 3000 }\n");
    assert_string_equal(got, "t.yaml:1:36: process.port: a switchboard's process takes its port "
                             "from ports.range: use {port} in its command or env\n");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_process_with_only_a_command_takes_every_default),
        cmocka_unit_test(every_process_setting_is_read),
        cmocka_unit_test(a_copy_of_a_process_config_is_deep_with_its_defaults),
        cmocka_unit_test(a_missing_or_empty_command_is_refused),
        cmocka_unit_test(bad_settings_are_reported_where_they_are_written),
        cmocka_unit_test(ready_needs_a_path_or_tcp),
        cmocka_unit_test(a_process_server_with_routes_is_refused),
        cmocka_unit_test(a_template_may_name_the_name_but_not_a_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
