/* The command-line client: every verb of `hostpool` that talks to a running daemon's admin API
 * (ls, status, add, rm, start, stop, restart, reload, events, metrics), run as a subprocess
 * against `hostpool run` on a unix socket of the test's own, checked by its stdout, stderr and
 * exit status (0 done, 1 the call failed, 2 usage, 3 unreachable). One daemon serves the
 * group; a test that changes the pool puts it back. The events test stops the daemon, so it
 * comes last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test_admin.h"

#include <llhttp.h>
#include <uv.h>

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 24800
#define PORT_MAX 24849

typedef struct cli_daemon {
    hp_test_server srv;
    hp_test_admin admin;
    char address[4300]; /* "unix:PATH" for --admin */
    char config[4200];
    int web_port, api_port;
} cli_daemon;

static cli_daemon d;

/* ---- running the client ---- */

typedef hp_test_run_result run_result;

/* Runs HOSTPOOL_BIN with the arguments, then `extra` (NULL-terminated) after them. */
static run_result run_args(const char *stdin_path, const char *const *args,
                           const char *const *extra)
{
    const char *argv[64] = {hp_test_bin()};
    size_t n = 1;
    for (; *args && n < 60; args++) argv[n++] = *args;
    for (; extra && *extra && n < 62; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    return hp_test_run(argv, stdin_path, HP_TEST_DEADLINE_MS * 2);
}

static run_result run_list(const char *stdin_path, bool with_admin, const char *arg, va_list ap)
{
    const char *args[48];
    size_t n = 0;
    for (const char *a = arg; a && n < 47; a = va_arg(ap, const char *)) args[n++] = a;
    args[n] = NULL;
    const char *const admin[] = {"--admin", d.address, NULL};
    return run_args(stdin_path, args, with_admin ? admin : NULL);
}

/* `hostpool ARGS... --admin unix:OUR_SOCKET` */
static __attribute__((sentinel)) run_result cli(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    run_result r = run_list(NULL, true, arg, ap);
    va_end(ap);
    return r;
}

/* The same with stdin from a file. */
static __attribute__((sentinel)) run_result cli_stdin(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    run_result r = run_list(path, true, arg, ap);
    va_end(ap);
    return r;
}

/* `hostpool ARGS...` as they are (no --admin added). */
static __attribute__((sentinel)) run_result cli_bare(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    run_result r = run_list(NULL, false, arg, ap);
    va_end(ap);
    return r;
}

/* Asserts the exit status, showing what the command printed when it is not the one wanted. */
static void assert_status(const run_result *r, int want)
{
    if (r->status != want)
        fprintf(stderr, "exit status %d, wanted %d\n--- stdout:\n%s--- stderr:\n%s---\n", r->status,
                want, r->out, r->err);
    assert_int_equal(r->status, want);
}

static void assert_matches(const char *text, const char *pattern)
{
    if (!hp_test_matches(text, pattern))
        fprintf(stderr, "no match for /%s/ in:\n%s---\n", pattern, text);
    assert_true(hp_test_matches(text, pattern));
}

static void assert_has(const char *text, const char *part)
{
    if (!strstr(text, part)) fprintf(stderr, "\"%s\" not in:\n%s---\n", part, text);
    assert_non_null(strstr(text, part));
}

/* The line of `text` that starts with `start` ("web "), copied into `line`; false if none. */
static bool line_starting(const char *text, const char *start, char *line, size_t cap)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, start, strlen(start)) != 0) continue;
        snprintf(line, cap, "%.*s", (int)strcspn(p, "\n"), p);
        return true;
    }
    return false;
}

static size_t line_count(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++) n++;
    return n;
}

/* ---- the pool ---- */

/* web answers the Host web.localhost only; the others any Host. */
static void assert_port_answers(int port, const char *want)
{
    hp_test_assert_answers(port, port == d.web_port ? "web.localhost" : NULL, want);
}

static void api(const char *method, const char *path, const char *body, int want_status)
{
    hp_test_answer a = hp_test_admin_call(&d.admin, method, path, NULL, body);
    assert_int_equal(a.status, want_status);
    hp_test_answer_free(&a);
}

static void api_add(const char *name, int port)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"listen\":\"127.0.0.1:%d\","
             "\"routes\":[{\"respond\":{\"body\":\"%s\"}}]}",
             name, port, name);
    api("POST", "/servers", json, 201);
}

static void api_remove(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/servers/%s", name);
    api("DELETE", path, NULL, 200);
}

/* The daemon's config with `web_body` as web's answer and `extra` appended (YAML). */
static void write_config(const char *web_body, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: [web.localhost]\n"
             "    routes: [ { respond: { body: \"%s\" } } ]\n"
             "  - name: api\n"
             "    listen: 127.0.0.1:%d\n"
             "    expose: https://api.example.com\n"
             "    routes: [ { respond: { body: api } } ]\n"
             "%s",
             d.web_port, web_body, d.api_port, extra);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
}

/* A file of the temp dir with `text`; its path in `path`. */
static void temp_file(const char *name, const char *text, char *path, size_t cap)
{
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), name, text, strlen(text)), 0);
    snprintf(path, cap, "%s/%s", hp_test_temp_dir(), name);
}

static int start_daemon(void **state)
{
    d.web_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    d.api_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    write_config("web", "");
    snprintf(d.config, sizeof d.config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&d.srv, d.config, &d.admin), 0);
    snprintf(d.address, sizeof d.address, "unix:%s", d.admin.socket_path);
    return 0;
}

static int stop_daemon(void **state)
{
    hp_test_server_stop(&d.srv, SIGTERM, HP_TEST_DEADLINE_MS);
    return 0;
}

/* ---- ls ---- */

static void ls_prints_every_server_as_a_row_of_aligned_columns(void **state)
{
    run_result r = cli("ls", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^NAME +STATE +LISTEN +HOSTS +UPTIME +REQUESTS +ERRORS\n");
    char web[512], port[32];
    assert_true(line_starting(r.out, "web ", web, sizeof web));
    snprintf(port, sizeof port, "127.0.0.1:%d", d.web_port);
    assert_matches(web, "^web +running +127\\.0\\.0\\.1:[0-9]+ +web\\.localhost +[0-9]+s +");
    /* each value starts under its header */
    assert_int_equal(strstr(web, "running") - web, strstr(r.out, "STATE") - r.out);
    assert_int_equal(strstr(web, port) - web, strstr(r.out, "LISTEN") - r.out);
    assert_int_equal(strstr(web, "web.localhost") - web, strstr(r.out, "HOSTS") - r.out);
    char api_row[512];
    assert_true(line_starting(r.out, "api ", api_row, sizeof api_row));
    assert_matches(api_row, "^api +running +127\\.0\\.0\\.1:[0-9]+ +- +"); /* no hosts: "-" */
    assert_true(line_starting(r.out, "admin ", web, sizeof web));
    assert_has(web, d.address);
    assert_int_equal(line_count(r.out), 4);
    hp_test_run_free(&r);
}

static void ls_filters_by_name_bind_and_expose_exact_or_regex(void **state)
{
    run_result r = cli("ls", "--name", "web", NULL);
    assert_status(&r, 0);
    assert_int_equal(line_count(r.out), 2);
    assert_matches(r.out, "\nweb ");
    hp_test_run_free(&r);

    r = cli("ls", "--name", "~^(web|api)$", NULL);
    assert_status(&r, 0);
    assert_int_equal(line_count(r.out), 3);
    assert_false(hp_test_matches(r.out, "\nadmin "));
    hp_test_run_free(&r);

    char bind[64];
    snprintf(bind, sizeof bind, "--bind=127.0.0.1:%d", d.api_port);
    r = cli("ls", bind, NULL);
    assert_status(&r, 0);
    assert_int_equal(line_count(r.out), 2);
    assert_matches(r.out, "\napi ");
    hp_test_run_free(&r);

    r = cli("ls", "--expose", "~example\\.com$", "--name", "~a", NULL); /* filters intersect */
    assert_status(&r, 0);
    assert_int_equal(line_count(r.out), 2);
    assert_matches(r.out, "\napi ");
    hp_test_run_free(&r);
}

static void ls_with_a_bad_regex_prints_the_api_error_and_exits_1(void **state)
{
    run_result r = cli("ls", "--name", "~(", NULL);
    assert_status(&r, 1);
    assert_matches(r.err, "^hostpool: ls: 400 bad_query: invalid filter\n  name_re: ");
    assert_string_equal(r.out, "");
    hp_test_run_free(&r);
}

static void ls_json_prints_the_answer_as_json(void **state)
{
    run_result r = cli("ls", "--json", NULL);
    assert_status(&r, 0);
    json_t *answer = json_loads(r.out, 0, NULL);
    assert_non_null(answer);
    json_t *servers = json_object_get(answer, "servers");
    assert_int_equal(json_array_size(servers), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(servers, 1), "name")),
                        "web");
    json_decref(answer);
    hp_test_run_free(&r);
}

static void ls_takes_the_admin_address_from_HOSTPOOL_ADMIN(void **state)
{
    setenv("HOSTPOOL_ADMIN", d.address, 1);
    run_result r = cli_bare("ls", "--name", "api", NULL);
    unsetenv("HOSTPOOL_ADMIN");
    assert_status(&r, 0);
    assert_matches(r.out, "\napi ");
    hp_test_run_free(&r);
}

/* A server answering 500 to everything, so that each request counts as an error too. */
static void add_failing_server(const char *name, int port)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"listen\":\"127.0.0.1:%d\","
             "\"routes\":[{\"respond\":{\"status\":500,\"body\":\"no\"}}]}",
             name, port);
    api("POST", "/servers", json, 201);
}

/* Is the "counted" row of `hostpool ls` at 2 requests, 2 errors? */
static bool counted_twice(void *data)
{
    run_result r = cli("ls", "--name", "counted", NULL);
    bool yes =
        r.status == 0 && hp_test_matches(r.out, "\ncounted +running +[^ ]+ +- +[^ ]+ +2 +2\n");
    hp_test_run_free(&r);
    return yes;
}

static void ls_and_status_show_each_servers_request_and_error_counts(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    add_failing_server("counted", port);
    for (int i = 0; i < 2; i++) {
        hp_test_response resp;
        assert_int_equal(hp_test_exchange(port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 500);
        hp_test_response_free(&resp);
    }
    assert_true(hp_test_poll_until(counted_twice, NULL, HP_TEST_DEADLINE_MS));
    run_result r = cli("status", "counted", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "\nrequests: +2\nerrors: +2\n");
    hp_test_run_free(&r);
    api_remove("counted");
}

/* ---- status ---- */

/* Also while GET /health answers 503 (unknown until the first checks are done, or ko). */
static void status_shows_the_pool_health_and_servers_by_state(void **state)
{
    run_result r = cli("status", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^health: +(ok|warn|ko|unknown)\n");
    assert_matches(r.out, "\nservers: +3 \\(running 3\\)\n");
    hp_test_run_free(&r);
}

static void status_of_a_server_shows_its_state_ports_hosts_and_uptime(void **state)
{
    run_result r = cli("status", "web", NULL);
    assert_status(&r, 0);
    char listen[128];
    snprintf(listen, sizeof listen, "\nlisten: +127\\.0\\.0\\.1:%d \\(port %d\\)\n", d.web_port,
             d.web_port);
    assert_matches(r.out, "^name: +web\n");
    assert_matches(r.out, "\nstate: +running\n");
    assert_matches(r.out, listen);
    assert_matches(r.out, "\nhosts: +web\\.localhost\n");
    assert_matches(r.out, "\nexpose: +-\n");
    assert_matches(r.out, "\nuptime: +[0-9]+(s|m[0-9]{2}s)\n");
    assert_matches(r.out, "\nhealth: +[a-z]+\n");
    assert_matches(r.out, "\nlast error: +-\n");
    hp_test_run_free(&r);
}

static void status_of_an_unknown_server_exits_1_with_404(void **state)
{
    run_result r = cli("status", "nobody", NULL);
    assert_status(&r, 1);
    assert_string_equal(r.err, "hostpool: status: 404 not_found: no server named \"nobody\"\n");
    hp_test_run_free(&r);
}

/* ---- add ---- */

static void add_of_a_yaml_file_starts_the_server_and_ls_shows_it(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char yaml[256], path[4200], want[128];
    snprintf(yaml, sizeof yaml,
             "name: extra\n"
             "listen: 127.0.0.1:%d\n"
             "routes:\n"
             "  - respond: { body: extra }\n",
             port);
    temp_file("extra.yaml", yaml, path, sizeof path);
    run_result r = cli("add", "-f", path, NULL);
    assert_status(&r, 0);
    snprintf(want, sizeof want, "added extra: running on 127.0.0.1:%d\n", port);
    assert_string_equal(r.out, want);
    hp_test_run_free(&r);
    assert_port_answers(port, "extra");
    r = cli("ls", NULL);
    assert_matches(r.out, "\nextra +running ");
    hp_test_run_free(&r);
    api_remove("extra");
}

static void add_reads_json_from_stdin(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char json[256], path[4200];
    snprintf(json, sizeof json,
             "{\"name\": \"piped\", \"listen\": \"127.0.0.1:%d\",\n"
             " \"routes\": [{\"respond\": {\"body\": \"piped\"}}]}\n",
             port);
    temp_file("piped.json", json, path, sizeof path);
    run_result r = cli_stdin(path, "add", "--file=-", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^added piped: running on ");
    hp_test_run_free(&r);
    assert_port_answers(port, "piped");
    api_remove("piped");
}

static void add_of_a_bad_server_prints_every_error_and_exits_1(void **state)
{
    char path[4200];
    temp_file("bad.yaml",
              "name: broken\n"
              "listen: nowhere\n"
              "colour: red\n"
              "routes:\n"
              "  - respond: { status: many }\n",
              path, sizeof path);
    run_result r = cli("add", "-f", path, NULL);
    assert_status(&r, 1);
    assert_matches(r.err, "^hostpool: add: 400 invalid_server: 3 errors in the server\n");
    assert_has(r.err, "\n  (body): unknown key \"colour\"\n");
    assert_has(r.err, "\n  listen: expected host:port");
    assert_has(r.err, "\n  routes[0].respond.status: ");
    assert_int_equal(line_count(r.err), 4);
    hp_test_run_free(&r);
    r = cli("ls", "--name", "broken", NULL);
    assert_int_equal(line_count(r.out), 1); /* the header alone */
    hp_test_run_free(&r);
}

static void add_of_a_file_that_does_not_parse_names_its_line_and_column(void **state)
{
    char path[4200];
    temp_file("syntax.yaml", "name: x\nlisten: [127.0.0.1:1\n", path, sizeof path);
    run_result r = cli("add", "-f", path, NULL);
    assert_status(&r, 1);
    assert_matches(r.err, "syntax\\.yaml:[0-9]+:[0-9]+: ");
    assert_has(r.err, "hostpool add: 1 error in ");
    hp_test_run_free(&r);
    r = cli("add", "-f", "/nonexistent/server.yaml", NULL);
    assert_status(&r, 1);
    assert_has(r.err, "/nonexistent/server.yaml: ");
    hp_test_run_free(&r);
}

static void add_of_an_existing_name_exits_1_with_409_exists(void **state)
{
    char yaml[256], path[4200];
    snprintf(yaml, sizeof yaml, "name: web\nlisten: 127.0.0.1:%d\n",
             hp_test_free_port_in(PORT_MIN, PORT_MAX));
    temp_file("dup.yaml", yaml, path, sizeof path);
    run_result r = cli("add", "-f", path, NULL);
    assert_status(&r, 1);
    assert_string_equal(r.err,
                        "hostpool: add: 409 exists: a server named \"web\" already exists\n");
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
}

/* ---- rm ---- */

static void rm_removes_the_server(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    api_add("leaving", port);
    run_result r = cli("rm", "leaving", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "removed leaving\n");
    hp_test_run_free(&r);
    hp_test_assert_refuses(port);
    api("GET", "/servers/leaving", NULL, 404);
}

static void rm_of_an_unknown_server_exits_1_with_404(void **state)
{
    run_result r = cli("rm", "nobody", NULL);
    assert_status(&r, 1);
    assert_string_equal(r.err, "hostpool: rm: 404 not_found: no server named \"nobody\"\n");
    hp_test_run_free(&r);
}

/* ---- start, stop, restart ---- */

static void stop_start_and_restart_one_server_print_its_new_state(void **state)
{
    run_result r = cli("stop", "web", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "stopped web: stopped\n");
    hp_test_run_free(&r);
    hp_test_assert_refuses(d.web_port);
    r = cli("start", "web", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "started web: running\n");
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
    r = cli("restart", "web", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "restarted web: running\n");
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
    r = cli("stop", "nobody", NULL);
    assert_status(&r, 1);
    assert_has(r.err, "404 not_found");
    hp_test_run_free(&r);
}

static void stop_start_and_restart_all_act_on_every_server_but_admin(void **state)
{
    run_result r = cli("stop", "--all", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "stopped 2 of 2 servers\n");
    hp_test_run_free(&r);
    hp_test_assert_refuses(d.web_port);
    hp_test_assert_refuses(d.api_port);
    r = cli("start", "--all", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "started 2 of 2 servers\n");
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
    assert_port_answers(d.api_port, "api");
    r = cli("restart", "--all", "--json", NULL);
    assert_status(&r, 0);
    assert_string_equal(r.out, "{\"attempted\":2,\"failed\":[]}\n");
    hp_test_run_free(&r);
    assert_port_answers(d.api_port, "api");
}

static void start_all_names_each_server_that_failed_and_exits_1(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    api_add("squatted", port);
    api("POST", "/servers/squatted/stop", NULL, 200);
    int holder = hp_test_hold_port_at(port);
    assert_true(holder >= 0);
    run_result r = cli("start", "--all", NULL);
    close(holder);
    assert_status(&r, 1);
    assert_string_equal(r.out, "started 0 of 1 servers\n"); /* the others were running */
    assert_matches(r.err, "^hostpool: start: squatted: .*in use");
    hp_test_run_free(&r);
    api_remove("squatted");
}

/* ---- reload ---- */

static void reload_prints_the_server_it_replaced(void **state)
{
    write_config("web, second edition", "");
    run_result r = cli("reload", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^reloaded: [0-9]+ unchanged; replaced web\n$");
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web, second edition");
    write_config("web", "");
    r = cli("reload", NULL);
    assert_status(&r, 0);
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
}

static void reload_of_a_broken_config_lists_every_error_and_changes_nothing(void **state)
{
    write_config("web, never", "  - name: broken\n    listen: nowhere\n    colour: red\n");
    run_result r = cli("reload", NULL);
    write_config("web", "");
    assert_status(&r, 1);
    assert_matches(r.err, "^hostpool: reload: 400 invalid_config: 2 errors in the config: "
                          "nothing changed\n");
    assert_matches(r.err, "\n  [^\n]*pool\\.yaml:[0-9]+:[0-9]+: servers\\[2\\]\\.listen: ");
    assert_matches(r.err, "\n  [^\n]*pool\\.yaml:[0-9]+:[0-9]+: servers\\[2\\]: unknown key");
    assert_int_equal(line_count(r.err), 3);
    hp_test_run_free(&r);
    assert_port_answers(d.web_port, "web");
    api("GET", "/servers/broken", NULL, 404);
}

/* ---- metrics ---- */

static void metrics_prints_the_prometheus_text(void **state)
{
    run_result r = cli("metrics", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^# HELP hostpool_");
    assert_matches(r.out, "\n# TYPE hostpool_requests_total counter\n");
    assert_matches(r.out, "\nhostpool_[a-z_]+\\{server=\"web\"[^}]*\\} [0-9]");
    assert_string_equal(r.err, "");
    hp_test_run_free(&r);
}

/* ---- connecting ---- */

static void tcp_admin_needs_the_token_file(void **state)
{
    int admin_port = hp_test_free_port_in(PORT_MIN, PORT_MAX),
        port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char token[4200], config[4200], text[5400], address[64];
    temp_file("token", "s3cret\n", token, sizeof token);
    snprintf(text, sizeof text,
             "access_log: off\n"
             "admin: { listen: 127.0.0.1:%d, token_file: %s }\n"
             "servers:\n"
             "  - name: only\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: only } } ]\n",
             admin_port, token, port);
    temp_file("tcp.yaml", text, config, sizeof config);
    hp_test_server srv;
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, NULL), 0);
    snprintf(address, sizeof address, "127.0.0.1:%d", admin_port);

    run_result r = cli_bare("ls", "--admin", address, NULL);
    assert_status(&r, 1);
    assert_matches(r.err, "^hostpool: ls: 401 unauthorized: ");
    assert_has(r.err, "--token-file FILE"); /* what to do about it */
    hp_test_run_free(&r);
    r = cli_bare("ls", "--admin", address, "--token-file", token, NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "\nonly +running ");
    hp_test_run_free(&r);
    setenv("HOSTPOOL_TOKEN_FILE", token, 1);
    r = cli_bare("status", "only", "--admin", address, NULL);
    unsetenv("HOSTPOOL_TOKEN_FILE");
    assert_status(&r, 0);
    hp_test_run_free(&r);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void an_unreachable_daemon_exits_3_with_a_hint(void **state)
{
    char address[4300];
    snprintf(address, sizeof address, "unix:%s/nobody.sock", hp_test_temp_dir());
    run_result r = cli_bare("ls", "--admin", address, NULL);
    assert_status(&r, 3);
    char want[4600];
    snprintf(want, sizeof want,
             "hostpool: cannot reach the admin API at %s: No such file or directory (is the "
             "daemon running? use --admin ADDR)\n",
             address);
    assert_string_equal(r.err, want);
    hp_test_run_free(&r);
    int holder, port;
    assert_true((holder = hp_test_hold_port(&port)) >= 0);
    close(holder); /* a port nothing listens on */
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    r = cli_bare("reload", "--admin", address, NULL);
    assert_status(&r, 3);
    assert_has(r.err, "Connection refused");
    hp_test_run_free(&r);
}

static void usage_errors_exit_2_with_the_usage(void **state)
{
    static const char *const calls[][4] = {
        {"ls", "--bogus", NULL}, {"ls", "extra", NULL},    {"rm", NULL},
        {"start", NULL},         {"stop", "web", "--all"}, {"add", NULL},
        {"status", "a", "b"},    {"ls", "--name", NULL},   {"restart", "--all=yes", NULL},
        {"frobnicate", NULL},
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        run_result r = run_args(NULL, calls[i], NULL);
        assert_status(&r, 2);
        assert_has(r.err, "usage: hostpool ");
        assert_string_equal(r.out, "");
        hp_test_run_free(&r);
    }
}

/* ---- every command's options ---- */

/* A config whose admin API is on a socket of the test's own: a `run` that took a bad command
 * line would start here, not on the default socket. */
static void write_quiet_config(char *path, size_t cap)
{
    char text[4400];
    snprintf(text, sizeof text,
             "admin: { listen: \"unix:%s/quiet.sock\" }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: quiet\n"
             "    listen: 127.0.0.1:0\n"
             "    routes: [ { respond: { body: quiet } } ]\n",
             hp_test_temp_dir());
    temp_file("quiet.yaml", text, path, cap);
}

static void every_command_rejects_an_unknown_option_or_an_extra_argument_with_exit_2(void **state)
{
    char config[4200];
    write_quiet_config(config, sizeof config);
    const char *const calls[][9] = {
        {"run", "--config", config, "--admn", "unix:x.sock", NULL},
        {"run", "--config", config, "surplus", NULL},
        {"run", "--config", config, "--config", config, NULL},
        {"validate", "--config", config, config, NULL},
        {"validate", "--config", config, "--verbose", NULL},
        {"respond", "--listen", "127.0.0.1:0", "--root", ".", NULL}, /* file-server's */
        {"respond", "--listen", "127.0.0.1:0", "extra", NULL},
        {"respond", "--listen", "127.0.0.1:0", "--workers", "many", NULL},
        {"file-server", "--listen", "127.0.0.1:0", "--root", ".", "--body", "x", NULL},
        {"file-server", "--listen", "127.0.0.1:0", "--root", ".", "--no-acces-log", NULL},
        {"ls", "--name", "a", "--name", "b", NULL},
        {"version", "extra", NULL},
        /* limits beyond what the engine holds (4 GiB wrapped the 32-bit read buffer) */
        {"respond", "--listen", "127.0.0.1:0", "--max-header-bytes", "4294967295", NULL},
        {"respond", "--listen", "127.0.0.1:0", "--max-body-bytes", "2GiB", NULL},
        {"file-server", "--listen", "127.0.0.1:0", "--root", ".", "--idle-timeout", "25h", NULL},
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        run_result r = run_args(NULL, calls[i], NULL);
        char usage[64];
        snprintf(usage, sizeof usage, "\nusage: hostpool %s[ \n]", calls[i][0]);
        assert_status(&r, 2);
        assert_matches(r.err, usage);
        assert_string_equal(r.out, "");
        hp_test_run_free(&r);
    }
}

static void every_command_answers_help_with_its_own_usage_and_exit_0(void **state)
{
    static const char *const commands[] = {
        "run",   "validate", "respond", "file-server", "ls",     "status",  "add",    "rm",
        "start", "stop",     "restart", "reload",      "events", "metrics", "version"};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        for (int form = 0; form < 2; form++) {
            const char *const args[] = {commands[i], form ? "-h" : "--help", NULL};
            run_result r = run_args(NULL, args, NULL);
            char usage[64];
            snprintf(usage, sizeof usage, "^usage: hostpool %s[ \n]", commands[i]);
            assert_status(&r, 0);
            assert_matches(r.out, usage);
            assert_string_equal(r.err, "");
            hp_test_run_free(&r);
        }
    }
    /* --help wins over the rest of the line, and needs no daemon or config */
    run_result r = cli_bare("run", "--bogus", "--help", NULL);
    assert_status(&r, 0);
    assert_matches(r.out, "^usage: hostpool run ");
    hp_test_run_free(&r);
}

/* The version CMakeLists.txt gives the project: project(hostpool VERSION X.Y.Z ...). */
static void project_version(char *out, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/CMakeLists.txt", hp_test_source_dir());
    char *text = hp_test_read_file(path, NULL);
    assert_non_null(text);
    const char *v = strstr(text, "project(hostpool VERSION ");
    assert_non_null(v);
    v += strlen("project(hostpool VERSION ");
    snprintf(out, cap, "%.*s", (int)strcspn(v, " )"), v);
    free(text);
}

static void version_prints_hostpool_and_the_libraries_it_runs_with(void **state)
{
    char version[64], want[512];
    project_version(version, sizeof version);
    snprintf(want, sizeof want, "hostpool %s\nlibuv %s\nllhttp %d.%d.%d\n", version,
             uv_version_string(), LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
    for (int form = 0; form < 2; form++) {
        run_result r = cli_bare(form ? "version" : "--version", NULL);
        assert_status(&r, 0);
        assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
        assert_has(r.out, "\nTLS: none");
        assert_string_equal(r.err, "");
        hp_test_run_free(&r);
    }
}

/* ---- the single-server commands ---- */

static bool says_hangup_ignored(void *data)
{
    char *err = hp_test_server_stderr(data);
    bool yes = strstr(err, "hostpool: Hangup: ignored") != NULL;
    free(err);
    return yes;
}

/* A `kill -HUP` meant for the daemon reaches them too (pidof hostpool): they go on serving. */
static void respond_and_file_server_ignore_sighup(void **state)
{
    char root[4200];
    snprintf(root, sizeof root, "%s/examples/www", hp_test_source_dir());
    hp_test_server srv[2];
    assert_int_equal(hp_test_server_start_respond(&srv[0], "--no-access-log", NULL), 0);
    assert_int_equal(hp_test_server_startl(&srv[1], "file-server", "--listen", HP_TEST_LISTEN,
                                           "--root", root, "--no-access-log", NULL),
                     0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hp_test_server_signal(&srv[i], SIGHUP), 0);
        assert_true(hp_test_poll_until(says_hangup_ignored, &srv[i], HP_TEST_DEADLINE_MS));
        assert_true(hp_test_server_running(&srv[i]));
        hp_test_response resp;
        assert_int_equal(hp_test_exchange(srv[i].port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        hp_test_response_free(&resp);
        assert_int_equal(hp_test_server_stop(&srv[i], SIGTERM, HP_TEST_DEADLINE_MS), 0);
    }
}

/* ---- events (stops the daemon: last) ---- */

static bool following(void *data)
{
    char *err = hp_test_server_stderr(data);
    bool yes = strstr(err, "hostpool: events: following ") != NULL;
    free(err);
    return yes;
}

static void events_prints_each_event_as_it_comes_and_exits_0_when_the_daemon_stops(void **state)
{
    hp_test_server events, all;
    const char *const argv[] = {"events", "server.*", "--admin", d.address, NULL};
    const char *const all_argv[] = {"events", "--admin", d.address, NULL};
    assert_int_equal(hp_test_server_spawn(&events, argv), 0);
    assert_int_equal(hp_test_server_spawn(&all, all_argv), 0);
    assert_true(hp_test_poll_until(following, &events, HP_TEST_DEADLINE_MS));
    assert_true(hp_test_poll_until(following, &all, HP_TEST_DEADLINE_MS));
    run_result r = cli("stop", "api", NULL);
    assert_status(&r, 0);
    hp_test_run_free(&r);
    assert_non_null(
        hp_test_server_stdout_until(&events, "server.stopped  api\n", HP_TEST_DEADLINE_MS));
    r = cli("start", "api", NULL);
    assert_status(&r, 0);
    hp_test_run_free(&r);
    char started[64];
    snprintf(started, sizeof started, "server.started  api port %d\n", d.api_port);
    assert_non_null(hp_test_server_stdout_until(&events, started, HP_TEST_DEADLINE_MS));
    assert_non_null(hp_test_server_stdout_until(&all, started, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_server_stop(&d.srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_server_wait(&events, HP_TEST_DEADLINE_MS), 0);
    assert_null(strstr(events.out, "pool."));
    assert_non_null(hp_test_server_stdout_until(&all, "\npool.stopping\n", HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_server_wait(&all, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ls_prints_every_server_as_a_row_of_aligned_columns),
        cmocka_unit_test(ls_filters_by_name_bind_and_expose_exact_or_regex),
        cmocka_unit_test(ls_with_a_bad_regex_prints_the_api_error_and_exits_1),
        cmocka_unit_test(ls_json_prints_the_answer_as_json),
        cmocka_unit_test(ls_takes_the_admin_address_from_HOSTPOOL_ADMIN),
        cmocka_unit_test(ls_and_status_show_each_servers_request_and_error_counts),
        cmocka_unit_test(status_shows_the_pool_health_and_servers_by_state),
        cmocka_unit_test(status_of_a_server_shows_its_state_ports_hosts_and_uptime),
        cmocka_unit_test(status_of_an_unknown_server_exits_1_with_404),
        cmocka_unit_test(add_of_a_yaml_file_starts_the_server_and_ls_shows_it),
        cmocka_unit_test(add_reads_json_from_stdin),
        cmocka_unit_test(add_of_a_bad_server_prints_every_error_and_exits_1),
        cmocka_unit_test(add_of_a_file_that_does_not_parse_names_its_line_and_column),
        cmocka_unit_test(add_of_an_existing_name_exits_1_with_409_exists),
        cmocka_unit_test(rm_removes_the_server),
        cmocka_unit_test(rm_of_an_unknown_server_exits_1_with_404),
        cmocka_unit_test(stop_start_and_restart_one_server_print_its_new_state),
        cmocka_unit_test(stop_start_and_restart_all_act_on_every_server_but_admin),
        cmocka_unit_test(start_all_names_each_server_that_failed_and_exits_1),
        cmocka_unit_test(reload_prints_the_server_it_replaced),
        cmocka_unit_test(reload_of_a_broken_config_lists_every_error_and_changes_nothing),
        cmocka_unit_test(metrics_prints_the_prometheus_text),
        cmocka_unit_test(tcp_admin_needs_the_token_file),
        cmocka_unit_test(an_unreachable_daemon_exits_3_with_a_hint),
        cmocka_unit_test(usage_errors_exit_2_with_the_usage),
        cmocka_unit_test(every_command_rejects_an_unknown_option_or_an_extra_argument_with_exit_2),
        cmocka_unit_test(every_command_answers_help_with_its_own_usage_and_exit_0),
        cmocka_unit_test(version_prints_hostpool_and_the_libraries_it_runs_with),
        cmocka_unit_test(respond_and_file_server_ignore_sighup),
        cmocka_unit_test(events_prints_each_event_as_it_comes_and_exits_0_when_the_daemon_stops),
    };
    return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
