/* A port another process listens on is never shared: SO_REUSEPORT would let any process of the
 * same user join the first one's socket group, and the two would split its connections. The
 * second server fails with "address already in use" (and the second command exits 1),
 * whichever hostpool command each one is, and the first keeps every request. A server of the
 * same process may still take an address another one left a moment ago (a reload that renames
 * a server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 25100
#define FIXED_PORT_MAX 25149
/* Requests that must all reach the first server: sharing would send about half elsewhere. */
#define REQUESTS 20

static hp_test_server first;

/* It does not run yet: nothing for the teardown to kill or close. */
static int setup(void **state)
{
    first = (hp_test_server){.stdout_fd = -1};
    return 0;
}

static int teardown(void **state)
{
    hp_test_server_kill(&first);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void start_respond(hp_test_server *srv, const char *body)
{
    assert_int_equal(hp_test_server_startl(srv, "respond", "--listen", HP_TEST_LISTEN, "--body",
                                           body, "--no-access-log", NULL),
                     0);
}

typedef struct path {
    char text[4200];
} path;

/* The config file `name`.yaml: one server `server` on `listen` answering `body`, the admin API
 * on `name`.sock. */
static path write_config(const char *name, const char *server, const char *listen, const char *body)
{
    path p;
    char yaml[9000];
    snprintf(yaml, sizeof yaml,
             "admin: { listen: \"unix:%s/%s.sock\" }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: %s\n"
             "    listen: \"%s\"\n"
             "    routes: [ { respond: { body: %s } } ]\n",
             hp_test_temp_dir(), name, server, listen, body);
    char file[64];
    snprintf(file, sizeof file, "%s.yaml", name);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), file, yaml, strlen(yaml)), 0);
    snprintf(p.text, sizeof p.text, "%s/%s", hp_test_temp_dir(), file);
    return p;
}

static void start_run(hp_test_server *srv, path config)
{
    assert_int_equal(hp_test_server_startl(srv, "run", "--config", config.text, NULL), 0);
}

static void expect_body(int port, const char *body)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, body);
    hp_test_response_free(&resp);
}

/* Every request, each on a new connection, reaches the server that answers `body`. */
static void expect_every_request_answered_by(int port, const char *body)
{
    for (int i = 0; i < REQUESTS; i++) expect_body(port, body);
}

/* `hostpool respond` on `port`, which another process holds: it exits 1 at once, saying why. */
static void expect_respond_refused(int port)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *argv[] = {hp_test_bin(), "respond", "--listen", listen, "--body", "second", NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    if (r.status != 1)
        fprintf(stderr, "status %d; stdout: %s; stderr: %s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "address already in use"));
    assert_null(strstr(r.out, "listening"));
    hp_test_run_free(&r);
}

/* `hostpool run` with its one server on `port`, which another process holds: that server
 * fails, saying why, and as no server could start, run exits 1. */
static void expect_run_server_refused(int port)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    path config = write_config("b", "web", listen, "second");
    const char *argv[] = {hp_test_bin(), "run", "--config", config.text, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    char expected[128];
    snprintf(expected, sizeof expected, "web failed to start: listen %s: address already in use",
             listen);
    if (r.status != 1 || !strstr(r.err, expected))
        fprintf(stderr, "status %d; stdout: %s; stderr: %s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, expected));
    assert_null(strstr(r.out, "listening"));
    hp_test_run_free(&r);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void respond_on_the_port_of_a_respond_fails_and_the_first_keeps_every_request(void **state)
{
    start_respond(&first, "first");
    expect_respond_refused(first.port);
    expect_every_request_answered_by(first.port, "first");
}

static void run_on_the_port_of_a_respond_fails_that_server(void **state)
{
    start_respond(&first, "first");
    expect_run_server_refused(first.port);
    expect_every_request_answered_by(first.port, "first");
}

static void respond_on_the_port_of_a_daemon_fails(void **state)
{
    start_run(&first, write_config("a", "web", HP_TEST_LISTEN, "first"));
    expect_respond_refused(first.port);
    expect_every_request_answered_by(first.port, "first");
}

static void run_on_the_port_of_a_daemon_fails_that_server(void **state)
{
    start_run(&first, write_config("a", "web", HP_TEST_LISTEN, "first"));
    expect_run_server_refused(first.port);
    expect_every_request_answered_by(first.port, "first");
}

typedef struct answer_wait {
    int port;
    const char *body;
} answer_wait;

static bool answers_with(void *data)
{
    answer_wait *w = data;
    hp_test_response resp;
    if (hp_test_exchange(w->port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS) != HP_TEST_OK)
        return false;
    bool same = resp.status == 200 && strcmp(resp.body, w->body) == 0;
    hp_test_response_free(&resp);
    return same;
}

/* The reload stops `old` and starts `new` on its address at once, while the workers may still
 * be closing old's sockets: those are this process's, so the trial bind's failure is ignored. */
static void a_reload_that_renames_a_server_keeps_its_fixed_port(void **state)
{
    int port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    assert_true(port > 0);
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    start_run(&first, write_config("a", "old", listen, "old"));
    expect_body(port, "old");
    write_config("a", "new", listen, "new");
    assert_int_equal(hp_test_server_signal(&first, SIGHUP), 0);
    answer_wait w = {port, "new"};
    assert_true(hp_test_poll_until(answers_with, &w, HP_TEST_DEADLINE_MS));
    char *err = hp_test_server_stderr(&first);
    assert_null(strstr(err, "address already in use"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            respond_on_the_port_of_a_respond_fails_and_the_first_keeps_every_request, setup,
            teardown),
        cmocka_unit_test_setup_teardown(run_on_the_port_of_a_respond_fails_that_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(respond_on_the_port_of_a_daemon_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(run_on_the_port_of_a_daemon_fails_that_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_reload_that_renames_a_server_keeps_its_fixed_port, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
