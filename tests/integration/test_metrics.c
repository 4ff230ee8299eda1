/* Metrics of `hostpool run`, scraped from the admin API (GET /metrics on its unix socket) and
 * from a route of a server (`metrics: {}`): requests by exact status code (200, 404, 413 by a
 * limit), a client gone mid-request counted as aborted, the histogram's count, nothing left in
 * flight, `promtool check metrics` accepting the text (when promtool is installed), the
 * request and error counts of the admin API's server JSON, counts of a name that go on across
 * a replace and a restart, and the health route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hp_test.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 24850
#define FIXED_PORT_MAX 24899

static char config[4200];
static char admin_socket[4200];

typedef struct pool_daemon {
    hp_test_server srv;
    int port;
} pool_daemon;

/* `hostpool run` with one server "web" on a fixed port: /hello answers 200, /metrics and
 * /health are the pool's, anything else 404; bodies above 1 KiB are refused with 413. */
static void daemon_start(pool_daemon *d)
{
    d->port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    assert_true(d->port > 0);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "health: { interval: 100ms, rise: 1 }\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:%d\n"
             "    limits: { max_body_bytes: 1KiB }\n"
             "    routes:\n"
             "      - { match: { path: /hello }, respond: { body: hi } }\n"
             "      - { match: { path: /metrics }, metrics: {} }\n"
             "      - { match: { path: /health }, health: {} }\n",
             d->port);
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    snprintf(admin_socket, sizeof admin_socket, "%s/admin.sock", hp_test_temp_dir());
    char admin[4300];
    snprintf(admin, sizeof admin, "unix:%s", admin_socket);
    assert_int_equal(
        hp_test_server_startl(&d->srv, "run", "--config", config, "--admin", admin, NULL), 0);
    assert_int_equal(d->srv.port, d->port);
}

static void daemon_stop(pool_daemon *d)
{
    assert_int_equal(hp_test_server_stop(&d->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* An admin API call over its unix socket; returns curl's output (owned). */
static char *admin_call(const char *method, const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "http://admin%s", path);
    const char *args[] = {"-s", "--unix-socket", admin_socket, "-X", method, url, NULL, NULL, NULL};
    if (body) args[6] = "--data-binary", args[7] = body;
    char *out = NULL;
    int rc = hp_test_curl(args, &out, NULL, HP_TEST_DEADLINE_MS);
    if (rc != 0) free(out);
    assert_int_equal(rc, 0);
    return out;
}

/* The value of the sample whose line starts with `series` ("name{labels}"), or -1. */
static long long sample(const char *text, const char *series)
{
    size_t len = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
        if (strncmp(line, series, len) == 0 && line[len] == ' ') return atoll(line + len + 1);
    }
    return -1;
}

typedef struct wanted {
    const char *series;
    long long value;
    char *last; /* the last scrape */
} wanted;

static bool scrape_shows(void *data)
{
    wanted *w = data;
    free(w->last);
    w->last = admin_call("GET", "/metrics", NULL);
    return sample(w->last, w->series) == w->value;
}

/* Scrapes until `series` has `value` (the server counts a request when it ends, which a client
 * may see before it happens); returns the last scrape (owned). */
static char *scrape_until(const char *series, long long value)
{
    wanted w = {series, value, NULL};
    if (hp_test_poll_until(scrape_shows, &w, HP_TEST_DEADLINE_MS)) return w.last;
    fprintf(stderr, "test_metrics: the last scrape:\n%s", w.last);
    free(w.last);
    fail_msg("%s never became %lld", series, value);
    return NULL;
}

static void get(int port, const char *path, int status)
{
    char request[256];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: web\r\n\r\n", path);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, status);
    hp_test_response_free(&r);
}

/* A request whose body never ends: the client goes away once the server has read its part. */
static void abort_mid_body(int port)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&c,
                                      "POST /hello HTTP/1.1\r\nHost: web\r\nContent-Length: 100\r\n"
                                      "\r\n0123456789",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(&c, HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
}

static void post_too_large(int port)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port,
                                      "POST /hello HTTP/1.1\r\nHost: web\r\n"
                                      "Content-Length: 5000\r\n\r\n",
                                      &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 413);
    hp_test_response_free(&r);
}

static bool promtool_installed(void)
{
    return system("command -v promtool >/dev/null 2>&1") == 0;
}

/* Runs `promtool check metrics` on `text`; returns its exit code. */
static int promtool_check(const char *text)
{
    char path[4300], cmd[8800];
    snprintf(path, sizeof path, "%s/metrics.txt", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "metrics.txt", text, strlen(text)), 0);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void scrape_counts_each_status_code_aborts_and_leaves_nothing_in_flight(void **state)
{
    pool_daemon d;
    daemon_start(&d);
    for (int i = 0; i < 5; i++) get(d.port, "/hello", 200);
    get(d.port, "/nope", 404);
    get(d.port, "/nope", 404);
    post_too_large(d.port);
    abort_mid_body(d.port);
    char *text = scrape_until("hostpool_requests_aborted_total{server=\"web\"}", 1);
    assert_int_equal(sample(text, "hostpool_requests_total{server=\"web\",code=\"200\"}"), 5);
    assert_int_equal(sample(text, "hostpool_requests_total{server=\"web\",code=\"404\"}"), 2);
    assert_int_equal(sample(text, "hostpool_requests_total{server=\"web\",code=\"413\"}"), 1);
    assert_int_equal(sample(text, "hostpool_request_duration_seconds_count{server=\"web\"}"), 8);
    assert_int_equal(
        sample(text, "hostpool_request_duration_seconds_bucket{server=\"web\",le=\"+Inf\"}"), 8);
    assert_int_equal(sample(text, "hostpool_requests_in_flight{server=\"web\"}"), 0);
    assert_int_equal(sample(text, "hostpool_server_up{server=\"web\"}"), 1);
    assert_int_equal(sample(text, "hostpool_server_state{server=\"web\",state=\"running\"}"), 1);
    assert_int_equal(sample(text, "hostpool_servers{state=\"running\"}"), 2); /* and admin */
    assert_int_equal(sample(text, "hostpool_events_total{topic=\"server.started\"}"), 2);
    assert_true(sample(text, "hostpool_bytes_received_total{server=\"web\"}") > 0);
    assert_true(sample(text, "process_open_fds") > 0);
    if (promtool_installed())
        assert_int_equal(promtool_check(text), 0);
    else
        fprintf(stderr, "test_metrics: promtool is not installed; its check was skipped\n");
    free(text);
    char *server = admin_call("GET", "/servers/web", NULL);
    assert_non_null(strstr(server, "\"requests\":8,\"errors\":1}"));
    free(server);
    daemon_stop(&d);
}

static void a_metrics_route_answers_prometheus_text(void **state)
{
    pool_daemon d;
    daemon_start(&d);
    get(d.port, "/hello", 200);
    /* Counted once its exchange ended, which the client may see after the answer. */
    free(scrape_until("hostpool_requests_total{server=\"web\",code=\"200\"}", 1));
    hp_test_response r;
    assert_int_equal(hp_test_exchange(d.port, "GET /metrics HTTP/1.1\r\nHost: web\r\n\r\n", &r,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(hp_test_response_header(&r, "Content-Type"),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(sample(r.body, "hostpool_requests_total{server=\"web\",code=\"200\"}"), 1);
    hp_test_response_free(&r);
    assert_int_equal(hp_test_exchange(d.port, "POST /metrics HTTP/1.1\r\nHost: web\r\n\r\n", &r,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 405);
    hp_test_response_free(&r);
    daemon_stop(&d);
}

static bool health_is_ok(void *data)
{
    hp_test_response r;
    int port = *(int *)data;
    if (hp_test_exchange(port, "GET /health HTTP/1.1\r\nHost: web\r\n\r\n", &r,
                         HP_TEST_DEADLINE_MS) != HP_TEST_OK)
        return false;
    bool ok = r.status == 200 && strstr(r.body, "\"health\":\"ok\"") != NULL;
    hp_test_response_free(&r);
    return ok;
}

static void the_health_route_answers_200_once_the_pool_is_healthy(void **state)
{
    pool_daemon d;
    daemon_start(&d);
    assert_true(hp_test_poll_until(health_is_ok, &d.port, HP_TEST_DEADLINE_MS));
    daemon_stop(&d);
}

static void counts_of_a_name_go_on_across_replace_and_restart(void **state)
{
    pool_daemon d;
    daemon_start(&d);
    get(d.port, "/hello", 200);
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"web\",\"listen\":\"127.0.0.1:%d\",\"routes\":[{\"respond\":"
             "{\"body\":\"v2\"}}]}",
             d.port);
    free(admin_call("PUT", "/servers/web", body));
    get(d.port, "/hello", 200);
    free(admin_call("POST", "/servers/web/restart", NULL));
    get(d.port, "/other", 200); /* the new version answers every path */
    char *text = scrape_until("hostpool_requests_total{server=\"web\",code=\"200\"}", 3);
    assert_int_equal(sample(text, "hostpool_server_restarts_total{server=\"web\"}"), 1);
    assert_int_equal(sample(text, "hostpool_events_total{topic=\"server.replaced\"}"), 1);
    free(text);
    daemon_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scrape_counts_each_status_code_aborts_and_leaves_nothing_in_flight),
        cmocka_unit_test(a_metrics_route_answers_prometheus_text),
        cmocka_unit_test(the_health_route_answers_200_once_the_pool_is_healthy),
        cmocka_unit_test(counts_of_a_name_go_on_across_replace_and_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
