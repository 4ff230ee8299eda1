/* Log files of `hostpool run`: access_log with a path and a format (combined: Apache/nginx
 * combined then "server" "host"; json: one object per line), per server or from the top level
 * (a server's wins); each worker buffers its lines and writes them once per loop iteration, so
 * tests poll the file; SIGUSR1 reopens every log file after a rename (logrotate); a reload
 * moves a server's lines to its new access_log path; a buffer too
 * small for a line drops it and counts it (hostpool_access_log_dropped_total); error_log takes
 * the daemon's messages, filtered by level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 27300
#define PORT_MAX 27349

static hp_test_server srv;

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static char *temp_path(const char *name)
{
    static char paths[8][4200];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", hp_test_temp_dir(), name);
    return p;
}

static void start(const char *config_text)
{
    assert_int_equal(
        hp_test_write_file(hp_test_temp_dir(), "logs.yaml", config_text, strlen(config_text)), 0);
    char address[4300];
    snprintf(address, sizeof address, "unix:%s", temp_path("admin.sock"));
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", temp_path("logs.yaml"),
                                           "--admin", address, NULL),
                     0);
}

static void get(int port, const char *request)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response_free(&r);
}

typedef struct file_wait {
    const char *path;
    const char *text;
} file_wait;

static bool file_has(void *data)
{
    file_wait *w = data;
    char *text = hp_test_read_file(w->path, NULL);
    bool found = text && strstr(text, w->text);
    free(text);
    return found;
}

/* The file's text once it holds `text` (owned), or a failure at the deadline. */
static char *wait_file(const char *path, const char *text)
{
    file_wait w = {path, text};
    if (!hp_test_poll_until(file_has, &w, HP_TEST_DEADLINE_MS))
        fail_msg("%s never held \"%s\"", path, text);
    return hp_test_read_file(path, NULL);
}

static bool stderr_has(void *data)
{
    char *err = hp_test_server_stderr(&srv);
    bool found = strstr(err, data) != NULL;
    free(err);
    return found;
}

static void combined_and_json_lines_go_to_the_top_level_file_or_the_servers_own(void **state)
{
    int port_a = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    int port_j = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    snprintf(config, sizeof config,
             "access_log: { path: %s, format: combined }\n"
             "servers:\n"
             "  - name: a\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: hello } } ]\n"
             "  - name: j\n"
             "    listen: 127.0.0.1:%d\n"
             "    access_log: { path: %s, format: json }\n"
             "    routes: [ { respond: { body: json } } ]\n",
             temp_path("access.log"), port_a, port_j, temp_path("j.log"));
    start(config);
    get(port_a, "GET /a?x=1 HTTP/1.1\r\nHost: a.test\r\nReferer: http://r.test/\r\n"
                "User-Agent: agent \"7\"\r\n\r\n");
    get(port_j, "GET /j/p?q=2 HTTP/1.1\r\nHost: j.test\r\nUser-Agent: ua\r\n\r\n");
    char *combined = wait_file(temp_path("access.log"), "\n");
    assert_true(hp_test_matches(
        combined,
        "^127\\.0\\.0\\.1 - - \\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [-+][0-9]{4}\\] "
        "\"GET /a\\?x=1 HTTP/1\\.1\" 200 5 \"http://r\\.test/\" \"agent \\\\x227\\\\x22\" "
        "\"a\" \"a\\.test\"\n$"));
    char *text = wait_file(temp_path("j.log"), "\n");
    json_error_t error;
    json_t *line = json_loads(text, 0, &error);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "server")), "j");
    assert_string_equal(json_string_value(json_object_get(line, "host")), "j.test");
    assert_string_equal(json_string_value(json_object_get(line, "client")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(line, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(line, "path")), "/j/p");
    assert_string_equal(json_string_value(json_object_get(line, "query")), "q=2");
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
    assert_int_equal(json_integer_value(json_object_get(line, "bytes")), 4);
    assert_true(json_is_real(json_object_get(line, "duration")));
    assert_int_equal(strlen(json_string_value(json_object_get(line, "request_id"))), 20);
    assert_true(json_is_null(json_object_get(line, "upstream")));
    assert_true(json_is_null(json_object_get(line, "referer")));
    assert_string_equal(json_string_value(json_object_get(line, "user_agent")), "ua");
    assert_true(hp_test_matches(json_string_value(json_object_get(line, "time")),
                                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"));
    json_decref(line);
    /* Neither went to stderr. */
    char *err = hp_test_server_stderr(&srv);
    assert_null(strstr(err, "GET /"));
    free(err);
    free(text);
    free(combined);
}

static void sigusr1_reopens_the_file_after_a_rename(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    snprintf(config, sizeof config,
             "servers:\n"
             "  - name: r\n"
             "    listen: 127.0.0.1:%d\n"
             "    access_log: { path: %s }\n"
             "    routes: [ { respond: { body: r } } ]\n",
             port, temp_path("rotated.log"));
    start(config);
    get(port, "GET /before HTTP/1.1\r\nHost: r\r\n\r\n");
    free(wait_file(temp_path("rotated.log"), "GET /before"));
    assert_int_equal(rename(temp_path("rotated.log"), temp_path("rotated.log.1")), 0);
    assert_int_equal(hp_test_server_signal(&srv, SIGUSR1), 0);
    assert_true(hp_test_poll_until(stderr_has, "log files reopened", HP_TEST_DEADLINE_MS));
    get(port, "GET /after HTTP/1.1\r\nHost: r\r\n\r\n");
    char *now = wait_file(temp_path("rotated.log"), "GET /after");
    assert_null(strstr(now, "GET /before"));
    char *old = hp_test_read_file(temp_path("rotated.log.1"), NULL);
    assert_non_null(strstr(old, "GET /before"));
    assert_null(strstr(old, "GET /after"));
    free(old);
    free(now);
}

/* The error_log is reopened by SIGUSR1 too: the message saying so goes to the new file. */
static void sigusr1_reopens_the_error_log_after_a_rename(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    snprintf(config, sizeof config,
             "error_log: { path: %s }\n"
             "servers:\n"
             "  - name: e\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: e } } ]\n",
             temp_path("errors.log"), port);
    start(config);
    get(port, "GET / HTTP/1.1\r\nHost: e\r\n\r\n"); /* it runs */
    assert_int_equal(rename(temp_path("errors.log"), temp_path("errors.log.1")), 0);
    assert_int_equal(hp_test_server_signal(&srv, SIGUSR1), 0);
    free(wait_file(temp_path("errors.log"), "log files reopened"));
    char *old = hp_test_read_file(temp_path("errors.log.1"), NULL);
    assert_non_null(old);
    assert_null(strstr(old, "log files reopened"));
    free(old);
}

static void a_reload_moves_a_servers_access_log_to_its_new_path(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    const char *form = "servers:\n"
                       "  - name: m\n"
                       "    listen: 127.0.0.1:%d\n"
                       "    access_log: { path: %s }\n"
                       "    routes: [ { respond: { body: m } } ]\n";
    snprintf(config, sizeof config, form, port, temp_path("first.log"));
    start(config);
    get(port, "GET /one HTTP/1.1\r\nHost: m\r\n\r\n");
    free(wait_file(temp_path("first.log"), "GET /one"));
    snprintf(config, sizeof config, form, port, temp_path("second.log"));
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "logs.yaml", config, strlen(config)),
                     0);
    assert_int_equal(hp_test_server_signal(&srv, SIGHUP), 0);
    assert_true(hp_test_poll_until(stderr_has, "replaced m", HP_TEST_DEADLINE_MS));
    get(port, "GET /two HTTP/1.1\r\nHost: m\r\n\r\n");
    free(wait_file(temp_path("second.log"), "GET /two"));
    char *first = hp_test_read_file(temp_path("first.log"), NULL);
    assert_null(strstr(first, "GET /two"));
    free(first);
}

typedef struct metric_wait {
    int port;
    const char *sample;
} metric_wait;

static bool metrics_have(void *data)
{
    metric_wait *w = data;
    hp_test_response r;
    if (hp_test_exchange(w->port, "GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n", &r,
                         HP_TEST_DEADLINE_MS) != HP_TEST_OK)
        return false;
    bool found = r.body && strstr(r.body, w->sample);
    hp_test_response_free(&r);
    return found;
}

static void a_line_larger_than_the_buffer_is_dropped_and_counted(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    int metrics_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    snprintf(config, sizeof config,
             "servers:\n"
             "  - name: d\n"
             "    listen: 127.0.0.1:%d\n"
             "    access_log: { path: %s, buffer: 16 }\n"
             "    routes: [ { respond: { body: d } } ]\n"
             "  - name: m\n"
             "    listen: 127.0.0.1:%d\n"
             "    access_log: off\n"
             "    routes: [ { metrics: {} } ]\n",
             port, temp_path("dropped.log"), metrics_port);
    start(config);
    for (int i = 0; i < 3; i++) get(port, "GET /x HTTP/1.1\r\nHost: d\r\n\r\n");
    char sample[4400];
    snprintf(sample, sizeof sample, "hostpool_access_log_dropped_total{file=\"%s\"} 3\n",
             temp_path("dropped.log"));
    metric_wait w = {metrics_port, sample};
    assert_true(hp_test_poll_until(metrics_have, &w, HP_TEST_DEADLINE_MS));
    char *text = hp_test_read_file(temp_path("dropped.log"), NULL);
    assert_string_equal(text, "");
    free(text);
}

/* limits.max_connections so large that the daemon warns about descriptors (a warning). */
static void start_with_error_log(const char *level, const char *name)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char config[2048];
    snprintf(config, sizeof config,
             "workers: 4\n"
             "error_log: { path: %s, level: %s }\n"
             "access_log: off\n"
             "limits: { max_connections: 1000000 }\n"
             "servers:\n"
             "  - name: e\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: e } } ]\n",
             temp_path(name), level, port);
    start(config);
}

static void error_log_takes_the_messages_its_level_lets_through(void **state)
{
    start_with_error_log("warning", "warn.log");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    char *text = hp_test_read_file(temp_path("warn.log"), NULL);
    assert_non_null(strstr(text, "hostpool: warning: the servers may hold up to"));
    assert_non_null(strstr(text, "hostpool: stopped\n"));
    free(text);
    char *err = hp_test_server_stderr(&srv);
    assert_string_equal(err, "");
    free(err);

    start_with_error_log("error", "error.log");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    text = hp_test_read_file(temp_path("error.log"), NULL);
    assert_null(strstr(text, "warning"));
    assert_non_null(strstr(text, "hostpool: stopped\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            combined_and_json_lines_go_to_the_top_level_file_or_the_servers_own, kill_server),
        cmocka_unit_test_teardown(sigusr1_reopens_the_file_after_a_rename, kill_server),
        cmocka_unit_test_teardown(sigusr1_reopens_the_error_log_after_a_rename, kill_server),
        cmocka_unit_test_teardown(a_reload_moves_a_servers_access_log_to_its_new_path, kill_server),
        cmocka_unit_test_teardown(a_line_larger_than_the_buffer_is_dropped_and_counted,
                                  kill_server),
        cmocka_unit_test_teardown(error_log_takes_the_messages_its_level_lets_through, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
