/* Running out of file descriptors: more connections than RLIMIT_NOFILE allows leave the
 * workers idle (they stop accepting and retry, instead of spinning in an accept loop), the
 * connections already open are served, the admin API still answers, and once the flood is
 * gone new connections are accepted again. At start the soft limit is raised to the hard one,
 * and a warning says when the servers' max_connections add up to more than it. */
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
#include <unistd.h>

#include "hp_test.h"

/* The servers under test may open this many files: about 40 connections past their own. */
#define NOFILE 64
/* Connections of the flood: well past NOFILE. */
#define FLOOD 200
/* CPU time the server may use while the flood waits, over WINDOW_MS: an idle process uses
 * none; one spinning in an accept loop uses about a CPU per worker. */
#define CPU_BUDGET_MS 300
#define WINDOW_MS 1500

static hp_test_server srv;
static hp_test_conn flood[FLOOD];
static int flooding; /* connections of the flood open */

static void close_flood(void)
{
    while (flooding > 0) hp_test_close(&flood[--flooding]);
}

static int teardown(void **state)
{
    close_flood();
    hp_test_server_kill(&srv);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct cpu_watch {
    pid_t pid;
    long start_ms;
} cpu_watch;

static bool over_budget(void *data)
{
    cpu_watch *w = data;
    return hp_test_cpu_ms(w->pid) - w->start_ms > CPU_BUDGET_MS;
}

/* The server uses (almost) no CPU for WINDOW_MS: polled, so a spinning one fails early. */
static void assert_idle(void)
{
    cpu_watch w = {srv.pid, hp_test_cpu_ms(srv.pid)};
    bool spun = hp_test_poll_until(over_budget, &w, WINDOW_MS);
    if (spun)
        fprintf(stderr, "the server used %ld ms of CPU in less than %d ms\n",
                hp_test_cpu_ms(srv.pid) - w.start_ms, WINDOW_MS);
    assert_false(spun);
}

/* The descriptors `pid` has open (/proc/PID/fd). */
static int open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static bool out_of_fds(void *data)
{
    return open_fds(srv.pid) >= NOFILE - 1; /* the last one may be free for a moment */
}

/* Connects FLOOD times, then waits until the server holds every descriptor it may open. */
static void open_flood(void)
{
    while (flooding < FLOOD) {
        assert_int_equal(hp_test_connect(&flood[flooding], srv.port, HP_TEST_DEADLINE_MS), 0);
        flooding++;
    }
    assert_true(hp_test_poll_until(out_of_fds, NULL, HP_TEST_DEADLINE_MS));
}

/* Closes the flood but its last connection, which has waited in the kernel's backlog. */
static hp_test_conn *close_flood_but_the_last(void)
{
    hp_test_conn *last = &flood[--flooding];
    close_flood();
    return last;
}

static void read_answer(hp_test_conn *conn, const char *body)
{
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, body);
    hp_test_response_free(&resp);
}

static void expect_answer(hp_test_conn *conn, const char *body)
{
    assert_int_equal(hp_test_send_str(conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    read_answer(conn, body);
}

typedef struct stderr_wait {
    const hp_test_server *srv;
    const char *text;
} stderr_wait;

static bool stderr_has(void *data)
{
    stderr_wait *w = data;
    char *err = hp_test_server_stderr(w->srv);
    bool found = strstr(err, w->text) != NULL;
    free(err);
    return found;
}

static size_t count_in_stderr(const char *text)
{
    char *err = hp_test_server_stderr(&srv);
    size_t n = 0;
    for (const char *p = err; (p = strstr(p, text)) != NULL; p += strlen(text)) n++;
    free(err);
    return n;
}

static void start_respond(unsigned soft, unsigned hard, const char *max_connections)
{
    const char *argv[] = {"respond",
                          "--listen",
                          HP_TEST_LISTEN,
                          "--body",
                          HP_TEST_BODY,
                          "--workers",
                          "2",
                          "--no-access-log",
                          "--max-connections",
                          max_connections,
                          NULL};
    assert_int_equal(hp_test_server_start_nofile(&srv, argv, soft, hard, HP_TEST_DEADLINE_MS), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
a_flood_past_the_descriptor_limit_leaves_the_workers_idle_and_is_served_after(void **state)
{
    start_respond(NOFILE, NOFILE, "10000");
    hp_test_conn early;
    assert_int_equal(hp_test_connect(&early, srv.port, HP_TEST_DEADLINE_MS), 0);
    expect_answer(&early, HP_TEST_BODY); /* accepted, kept alive through the flood */
    open_flood();
    assert_idle();
    expect_answer(&early, HP_TEST_BODY); /* what is open is served meanwhile */
    /* A connection past the limit waits (it is not accepted only to be closed), and is served
     * once the others are gone. */
    assert_int_equal(hp_test_send_str(&flood[FLOOD - 1], HP_TEST_GET, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    hp_test_conn *last = close_flood_but_the_last();
    read_answer(last, HP_TEST_BODY);
    hp_test_close(last);
    stderr_wait starved = {&srv, "cannot accept connections: too many open files"};
    assert_true(hp_test_poll_until(stderr_has, &starved, HP_TEST_DEADLINE_MS));
    /* Each worker says once that it is short of descriptors, and once that it is no longer. */
    stderr_wait again = {&srv, "accepting connections again"};
    assert_true(hp_test_poll_until(stderr_has, &again, HP_TEST_DEADLINE_MS));
    assert_in_range(count_in_stderr("cannot accept connections"), 1, 2);
    hp_test_close(&early);
}

static void the_admin_api_answers_while_a_flood_holds_every_descriptor(void **state)
{
    char config[4200], admin[4200], yaml[8600];
    snprintf(admin, sizeof admin, "%s/admin.sock", hp_test_temp_dir());
    snprintf(yaml, sizeof yaml,
             "workers: 2\n"
             "admin: { listen: \"unix:%s\" }\n"
             "limits: { header_timeout: 60s }\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: %s\n"
             "    routes: [ { respond: { body: web } } ]\n",
             admin, HP_TEST_LISTEN);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", yaml, strlen(yaml)), 0);
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    const char *argv[] = {"run", "--config", config, NULL};
    assert_int_equal(hp_test_server_start_nofile(&srv, argv, NOFILE, NOFILE, HP_TEST_DEADLINE_MS),
                     0);
    open_flood();
    assert_idle();
    /* Several calls: the reserve descriptor comes back after each. */
    for (int i = 0; i < 3; i++) {
        hp_test_response resp;
        assert_int_equal(hp_test_exchange_unix(admin,
                                               "GET /servers/web HTTP/1.1\r\nHost: admin\r\n\r\n",
                                               &resp, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        assert_non_null(strstr(resp.body, "\"web\""));
        hp_test_response_free(&resp);
    }
    hp_test_conn *last = close_flood_but_the_last();
    expect_answer(last, "web");
    hp_test_close(last);
    stderr_wait starved = {&srv, "cannot accept connections: too many open files"};
    assert_true(hp_test_poll_until(stderr_has, &starved, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void the_soft_descriptor_limit_is_raised_to_the_hard_one_at_start(void **state)
{
    start_respond(NOFILE, 4 * NOFILE, "10");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/limits", (int)srv.pid);
    char *limits = hp_test_read_file(path, NULL);
    assert_non_null(limits);
    assert_true(hp_test_matches(limits, "Max open files +256 +256 +files"));
    free(limits);
}

static void a_warning_says_once_that_max_connections_exceed_the_descriptor_limit(void **state)
{
    start_respond(NOFILE, NOFILE, "10000");
    /* Two workers x (10000 connections + the listening socket) on the one address. */
    assert_int_equal(count_in_stderr("the servers may hold up to 20002 connections"), 1);
    assert_int_equal(count_in_stderr("more than the 64 files this process may open"), 1);
    hp_test_server_kill(&srv);
    start_respond(NOFILE, NOFILE, "10"); /* 22 fit */
    assert_int_equal(count_in_stderr("the servers may hold"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            a_flood_past_the_descriptor_limit_leaves_the_workers_idle_and_is_served_after,
            teardown),
        cmocka_unit_test_teardown(the_admin_api_answers_while_a_flood_holds_every_descriptor,
                                  teardown),
        cmocka_unit_test_teardown(the_soft_descriptor_limit_is_raised_to_the_hard_one_at_start,
                                  teardown),
        cmocka_unit_test_teardown(
            a_warning_says_once_that_max_connections_exceed_the_descriptor_limit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
