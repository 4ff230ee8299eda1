/* Runs every .case file of tests/data/http against `hostpool respond`.
 *
 * Each case is one cmocka test named after its file. Servers are shared: one
 * `hostpool respond --listen 127.0.0.1:0 --body "Hello, World!" --no-access-log ARGS` per
 * distinct `args:` line, started on first use (and restarted, with a note, if a case killed
 * it). For each case the runner opens a connection, writes the request steps, reads one
 * response per `expect:` status, and checks:
 *   - the statuses, in order (1xx interim responses are listed like any other);
 *   - on every final response, the engine's contract: an HTTP/1.1 status line, Date,
 *     X-Request-Id, and Content-Length or chunked framing (except 204 and 304);
 *   - on the last response: `body:`, `header:`, `header-match:` and `no-header:` lines;
 *   - `open: yes`: no response says Connection: close, and a following
 *     GET / HTTP/1.1 on the same connection gets 200 "Hello, World!";
 *     `open: no`: the last response says Connection: close and the server closes the
 *     connection, with nothing more sent, within the deadline.
 * A failing case prints its file name and every difference found.
 * HP_CASE=substring runs only the cases whose file name contains it.
 *
 * Time: each wait (a response, a close) has a short deadline, WAIT_MS, and the whole run a
 * budget, so that even a server that answers nothing fails every case well inside the ctest
 * timeout instead of being killed without a summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hp_case.h"
#include "hp_test.h"

#define MAX_SERVERS 64
#define WAIT_MS 3000
#define SUITE_BUDGET_MS 200000
#define MAX_ARGS 64

typedef struct shared_server {
    char *args;
    hp_test_server server;
    bool started;
} shared_server;

static int64_t suite_deadline;

/* The deadline of one wait: WAIT_MS, less when the suite's budget runs out. */
static int wait_ms(void)
{
    int64_t left = suite_deadline - hp_test_now_ms();
    return left > WAIT_MS ? WAIT_MS : left < 100 ? 100 : (int)left;
}

static shared_server servers[MAX_SERVERS];
static size_t server_count;

/* A growing text of the differences found in one case. */
typedef struct report {
    char text[16384];
    size_t len;
    int count;
} report;

static void note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(report *r, const char *fmt, ...)
{
    if (r->len + 8 >= sizeof r->text) return;
    r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len, "  - ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    va_end(ap);
    if (n > 0) r->len += (size_t)n;
    if (r->len >= sizeof r->text) r->len = sizeof r->text - 1;
    if (r->len + 1 < sizeof r->text) r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
    r->count++;
}

static int start_server(shared_server *s)
{
    char *copy = strdup(s->args);
    const char *argv[MAX_ARGS + 8] = {"respond", "--listen",   HP_TEST_LISTEN,
                                      "--body",  HP_TEST_BODY, "--no-access-log"};
    size_t n = 6;
    for (char *tok = strtok(copy, " \t"); tok && n < MAX_ARGS; tok = strtok(NULL, " \t"))
        argv[n++] = tok;
    argv[n] = NULL;
    int rc = hp_test_server_start(&s->server, argv, HP_TEST_DEADLINE_MS);
    free(copy);
    s->started = rc == 0;
    return rc;
}

/* The running server for `args`, started if needed; NULL (with a note) if it cannot start. */
static hp_test_server *server_for(const char *args, report *r)
{
    shared_server *s = NULL;
    for (size_t i = 0; i < server_count; i++)
        if (strcmp(servers[i].args, args) == 0) s = &servers[i];
    if (s == NULL) {
        if (server_count == MAX_SERVERS) {
            note(r, "more than %d distinct args lines", MAX_SERVERS);
            return NULL;
        }
        s = &servers[server_count++];
        s->args = strdup(args);
    }
    if (s->started && !hp_test_server_running(&s->server)) {
        char *err = hp_test_server_stderr(&s->server);
        fprintf(stderr,
                "note: the server for args \"%s\" had exited (status %d); restarting."
                " Its stderr:\n%s\n",
                args, s->server.exit_status, err);
        free(err);
        s->started = false;
    }
    if (!s->started && start_server(s) != 0) {
        note(r, "the server with args \"%s\" did not start", args);
        return NULL;
    }
    return &s->server;
}

static void stop_servers(void)
{
    for (size_t i = 0; i < server_count; i++) {
        if (servers[i].started)
            hp_test_server_stop(&servers[i].server, SIGTERM, HP_TEST_DEADLINE_MS);
        free(servers[i].args);
    }
    server_count = 0;
}

static void check_contract(report *r, size_t index, const hp_test_response *resp)
{
    if (resp->status < 200) return;
    if (resp->version_minor != 1)
        note(r, "response %zu: status line says HTTP/1.%d, not HTTP/1.1", index + 1,
             resp->version_minor);
    if (hp_test_response_header(resp, "Date") == NULL)
        note(r, "response %zu: no Date header", index + 1);
    if (hp_test_response_header(resp, "X-Request-Id") == NULL)
        note(r, "response %zu: no X-Request-Id header", index + 1);
    if (resp->status != 204 && resp->status != 304 &&
        hp_test_response_header(resp, "Content-Length") == NULL && !resp->chunked)
        note(r, "response %zu: neither Content-Length nor chunked", index + 1);
}

static void check_last(report *r, const hp_case *c, const hp_test_response *resp)
{
    if (c->has_body &&
        (resp->body_len != c->body_len || memcmp(resp->body, c->body, c->body_len) != 0))
        note(r, "body: expected \"%s\" (%zu bytes), got \"%.200s\" (%zu bytes)", c->body,
             c->body_len, resp->body, resp->body_len);
    for (size_t i = 0; i < c->check_count; i++) {
        const hp_case_check *check = &c->checks[i];
        const char *value = hp_test_response_header(resp, check->name);
        switch (check->kind) {
        case HP_CASE_HEADER_EQUALS:
            if (value == NULL || strcmp(value, check->value) != 0)
                note(r, "header %s: expected \"%s\", got %s%s%s", check->name, check->value,
                     value ? "\"" : "", value ? value : "none", value ? "\"" : "");
            break;
        case HP_CASE_HEADER_MATCHES:
            if (value == NULL || !hp_test_matches(value, check->value))
                note(r, "header %s: expected a match of /%s/, got %s%s%s", check->name,
                     check->value, value ? "\"" : "", value ? value : "none", value ? "\"" : "");
            break;
        case HP_CASE_HEADER_ABSENT:
            if (value != NULL) note(r, "header %s: expected none, got \"%s\"", check->name, value);
            break;
        }
    }
    bool says_close = hp_test_response_header_has(resp, "Connection", "close");
    if (c->open == HP_CASE_OPEN_NO && !says_close)
        note(r, "the last response does not say Connection: close, but the server must close");
}

/* Reads response `index` and checks it; returns false when nothing more can be read. */
static bool read_expected(report *r, const hp_case *c, hp_test_conn *conn, size_t index,
                          hp_test_response *last)
{
    hp_test_response resp;
    int rc = hp_test_read_response(conn, &resp, c->to_head[index], wait_ms());
    if (rc != HP_TEST_OK) {
        note(r, "response %zu: expected status %d, got no response (%s)%s%.200s", index + 1,
             c->expect[index], hp_test_result_name(rc), conn->len ? "; bytes received: " : "",
             conn->len ? conn->buf : "");
        return false;
    }
    if (resp.status != c->expect[index])
        note(r, "response %zu: expected status %d, got %d %s (body \"%.100s\")", index + 1,
             c->expect[index], resp.status, resp.reason, resp.body);
    check_contract(r, index, &resp);
    if (c->open == HP_CASE_OPEN_YES && hp_test_response_header_has(&resp, "Connection", "close"))
        note(r, "response %zu says Connection: close, but the connection must stay open",
             index + 1);
    hp_test_response_free(last);
    *last = resp;
    return true;
}

static void check_open(report *r, const hp_case *c, hp_test_conn *conn)
{
    if (c->open == HP_CASE_OPEN_NO) {
        int rc = hp_test_wait_closed(conn, wait_ms());
        if (rc == HP_TEST_TIMEOUT)
            note(r, "the server did not close the connection within the deadline");
        else if (rc == HP_TEST_EXTRA_BYTES)
            note(r, "the server sent more bytes after the last response: \"%.200s\"", conn->buf);
        return;
    }
    if (c->open == HP_CASE_OPEN_ANY) return;
    if (conn->len > 0) {
        note(r, "the server sent more bytes after the last response: \"%.200s\"", conn->buf);
        return;
    }
    static const char follow_up[] = "GET / HTTP/1.1\r\nHost: hostpool.test\r\n\r\n";
    hp_test_response resp;
    int rc = hp_test_send_str(conn, follow_up, wait_ms());
    if (rc == HP_TEST_OK) rc = hp_test_read_response(conn, &resp, false, wait_ms());
    if (rc != HP_TEST_OK) {
        note(r, "the connection did not stay open: a following GET got no response (%s)",
             hp_test_result_name(rc));
        return;
    }
    if (resp.status != 200 || strcmp(resp.body, HP_TEST_BODY) != 0)
        note(r, "a following GET on the same connection got %d \"%.100s\"", resp.status, resp.body);
    hp_test_response_free(&resp);
}

static void run_case(void **state)
{
    const hp_case *c = *state;
    if (c->error) fail_msg("case %s cannot be parsed: %s", c->name, c->error);

    report r = {.len = 0};
    hp_test_server *srv = server_for(c->args, &r);
    hp_test_conn conn = {.fd = -1};
    if (srv && hp_test_connect(&conn, srv->port, wait_ms()) != 0) {
        note(&r, "cannot connect to the server");
        srv = NULL;
    }
    if (srv) {
        hp_test_response last = {0};
        size_t next = 0;
        bool reading = true;
        for (size_t i = 0; i < c->step_count && reading; i++) {
            int rc = hp_test_send(&conn, c->steps[i].bytes, c->steps[i].len, wait_ms());
            if (rc == HP_TEST_TIMEOUT) note(&r, "sending step %zu timed out", i + 1);
            if (c->steps[i].await_response) {
                if (next == c->expect_count) {
                    note(&r, "\\{await} number %zu has no status left in expect", next + 1);
                    reading = false;
                    break;
                }
                reading = read_expected(&r, c, &conn, next++, &last);
            }
        }
        while (reading && next < c->expect_count)
            reading = read_expected(&r, c, &conn, next++, &last);
        if (reading) {
            check_last(&r, c, &last);
            check_open(&r, c, &conn);
        }
        hp_test_response_free(&last);
        hp_test_close(&conn);
        if (!hp_test_server_running(srv)) {
            char *err = hp_test_server_stderr(srv);
            note(&r, "the server exited (status %d) during this case; stderr:\n%s",
                 srv->exit_status, err);
            free(err);
        }
    }
    if (r.count > 0) {
        fprintf(stderr, "case %s (args \"%s\"): %d difference(s)\n%s", c->name, c->args, r.count,
                r.text);
        fail();
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int teardown_servers(void **state)
{
    stop_servers();
    return 0;
}

int main(void)
{
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/http", hp_test_data_dir());
    DIR *dir = opendir(dir_path);
    if (dir == NULL) {
        fprintf(stderr, "cannot open %s\n", dir_path);
        return 1;
    }
    const char *filter = getenv("HP_CASE");
    char **names = NULL;
    size_t count = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".case") != 0) continue;
        if (filter && strstr(e->d_name, filter) == NULL) continue;
        names = realloc(names, (count + 1) * sizeof *names);
        names[count++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof *names, by_name);

    hp_case *cases = calloc(count ? count : 1, sizeof *cases);
    struct CMUnitTest *tests = calloc(count ? count : 1, sizeof *tests);
    for (size_t i = 0; i < count; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir_path, names[i]);
        hp_case_load(path, &cases[i]);
        tests[i] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL, &cases[i]};
    }
    suite_deadline = hp_test_now_ms() + SUITE_BUDGET_MS;
    int failed = _cmocka_run_group_tests("http_cases", tests, count, NULL, teardown_servers);
    for (size_t i = 0; i < count; i++) {
        hp_case_free(&cases[i]);
        free(names[i]);
    }
    free(names);
    free(cases);
    free(tests);
    return failed;
}
