/* Zero drop: while a client process keeps server A busy (four keep-alive connections and a
 * new connection per round), the pool is changed around it: 50 reloads that change server B,
 * 100 add/remove cycles of other servers, and then A itself is replaced 50 times. No request
 * to A may fail and, until A itself is replaced, none of its connections may be closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test_admin.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 23700
#define PORT_MAX 23799

#define KEPT_CONNECTIONS 4
#define LOAD_MAX_SECONDS 120 /* the client gives up on its own after this */

/* ---- the client process ---- */

typedef struct load_counts {
    long ok;          /* 200 from A */
    long failed;      /* anything else: no answer, another status, a reset */
    long kept_closed; /* a keep-alive connection the server closed */
    char first_error[160];
} load_counts;

static void note_failure(load_counts *c, const char *what, int result)
{
    if (c->failed++ == 0)
        snprintf(c->first_error, sizeof c->first_error, "%s: %s", what,
                 hp_test_result_name(result));
}

/* One request on `conn`; a response other than 200 "a..." is a failure. */
static int one_request(hp_test_conn *conn, const char *request, load_counts *c, const char *what)
{
    int rc = hp_test_send_str(conn, request, HP_TEST_DEADLINE_MS);
    hp_test_response r;
    if (rc == HP_TEST_OK) rc = hp_test_read_response(conn, &r, false, HP_TEST_DEADLINE_MS);
    if (rc != HP_TEST_OK) {
        note_failure(c, what, rc);
        return rc;
    }
    if (r.status == 200 && r.body[0] == 'a')
        c->ok++;
    else
        note_failure(c, what, HP_TEST_MALFORMED);
    hp_test_response_free(&r);
    return HP_TEST_OK;
}

static bool told_to_stop(int stop_fd)
{
    struct pollfd p = {stop_fd, POLLIN, 0};
    return poll(&p, 1, 0) != 0; /* the parent closed its end (or died) */
}

static void run_load(int port, int stop_fd, int result_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    load_counts c = {0};
    hp_test_conn kept[KEPT_CONNECTIONS];
    for (int i = 0; i < KEPT_CONNECTIONS; i++) hp_test_connect(&kept[i], port, HP_TEST_DEADLINE_MS);
    bool ready_sent = false;
    int64_t give_up = hp_test_now_ms() + LOAD_MAX_SECONDS * 1000;
    while (!told_to_stop(stop_fd) && hp_test_now_ms() < give_up) {
        for (int i = 0; i < KEPT_CONNECTIONS; i++) {
            if (one_request(&kept[i], HP_TEST_GET, &c, "keep-alive") == HP_TEST_OK && !kept[i].eof)
                continue;
            c.kept_closed++;
            hp_test_close(&kept[i]);
            hp_test_connect(&kept[i], port, HP_TEST_DEADLINE_MS);
        }
        hp_test_conn fresh;
        if (hp_test_connect(&fresh, port, HP_TEST_DEADLINE_MS) != 0) {
            note_failure(&c, "connect", HP_TEST_CLOSED);
        } else {
            one_request(&fresh, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &c,
                        "new connection");
            hp_test_close(&fresh);
        }
        if (!ready_sent && c.ok > 0) ready_sent = write(result_fd, "r", 1) == 1;
    }
    if (write(result_fd, &c, sizeof c) != sizeof c) _exit(2);
    _exit(0);
}

typedef struct load {
    pid_t pid;
    int stop_fd;   /* closing it stops the client */
    int result_fd; /* "r" once it is under way, then its load_counts */
} load;

static void load_start(load *l, int port)
{
    int stop[2], result[2];
    assert_int_equal(pipe(stop), 0);
    assert_int_equal(pipe(result), 0);
    fflush(NULL);
    l->pid = fork();
    assert_true(l->pid >= 0);
    if (l->pid == 0) {
        close(stop[1]);
        close(result[0]);
        run_load(port, stop[0], result[1]);
    }
    close(stop[0]);
    close(result[1]);
    l->stop_fd = stop[1];
    l->result_fd = result[0];
    char ready;
    struct pollfd p = {l->result_fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, HP_TEST_DEADLINE_MS), 1);
    assert_int_equal(read(l->result_fd, &ready, 1), 1);
}

static load_counts load_stop(load *l)
{
    close(l->stop_fd);
    load_counts c = {0};
    struct pollfd p = {l->result_fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 3 * HP_TEST_DEADLINE_MS), 1);
    assert_int_equal(read(l->result_fd, &c, sizeof c), sizeof c);
    close(l->result_fd);
    int status;
    assert_int_equal(waitpid(l->pid, &status, 0), l->pid);
    return c;
}

/* ---- changing the pool ---- */

typedef struct fixture {
    hp_test_server srv;
    hp_test_admin admin;
    int port_a, port_b;
} fixture;

static void write_config(const fixture *f, int b_version)
{
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: a\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: a } } ]\n"
             "  - name: b\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: b%d } } ]\n",
             f->port_a, f->port_b, b_version);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
}

static void expect(fixture *f, const char *method, const char *path, const char *body, int status)
{
    hp_test_answer a = hp_test_admin_call(&f->admin, method, path, NULL, body);
    if (a.status != status) fprintf(stderr, "%s %s: %d %s\n", method, path, a.status, a.body);
    assert_int_equal(a.status, status);
    hp_test_answer_free(&a);
}

static void reload_changing_b(fixture *f, int times)
{
    for (int i = 1; i <= times; i++) {
        write_config(f, i);
        hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
        assert_int_equal(a.status, 200);
        assert_string_equal(
            json_string_value(json_array_get(json_object_get(a.json, "replaced"), 0)), "b");
        assert_int_equal(json_integer_value(json_object_get(a.json, "unchanged")), 1);
        hp_test_answer_free(&a);
    }
}

static void add_and_remove_others(fixture *f, int times)
{
    for (int i = 0; i < times; i++) {
        int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"other%d\",\"listen\":\"127.0.0.1:%d\","
                 "\"routes\":[{\"respond\":{\"body\":\"o\"}}]}",
                 i, port);
        expect(f, "POST", "/servers", body, 201);
        char path[64];
        snprintf(path, sizeof path, "/servers/other%d", i);
        expect(f, "DELETE", path, NULL, 200);
    }
}

static void replace_a(fixture *f, int times)
{
    for (int i = 0; i < times; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"a\",\"listen\":\"127.0.0.1:%d\","
                 "\"routes\":[{\"respond\":{\"body\":\"a%d\"}}]}",
                 f->port_a, i);
        expect(f, "PUT", "/servers/a", body, 200);
    }
}

static void report(const char *phase, const load_counts *c)
{
    print_message("%s: %ld requests answered, %ld failed, %ld keep-alive connections closed%s%s\n",
                  phase, c->ok, c->failed, c->kept_closed, c->failed ? "; first: " : "",
                  c->first_error);
}

/* ---- tests ---- */

static void changing_other_servers_under_load_drops_nothing_and_closes_nothing(void **state)
{
    fixture *f = *state;
    load l;
    load_start(&l, f->port_a);
    reload_changing_b(f, 50);
    add_and_remove_others(f, 100);
    load_counts c = load_stop(&l);
    report("reloads and add/remove", &c);
    assert_true(c.ok > 0);
    assert_int_equal(c.failed, 0);
    assert_int_equal(c.kept_closed, 0);
}

static void replacing_the_loaded_server_itself_fails_no_request(void **state)
{
    fixture *f = *state;
    load l;
    load_start(&l, f->port_a);
    replace_a(f, 50);
    load_counts c = load_stop(&l);
    report("replacing a", &c);
    assert_true(c.ok > 0);
    assert_int_equal(c.failed, 0);
}

static int start(void **state)
{
    static fixture f;
    f.port_a = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    f.port_b = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    write_config(&f, 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&f.srv, config, &f.admin), 0);
    *state = &f;
    return 0;
}

static int stop(void **state)
{
    fixture *f = *state;
    assert_int_equal(hp_test_server_stop(&f->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changing_other_servers_under_load_drops_nothing_and_closes_nothing),
        cmocka_unit_test(replacing_the_loaded_server_itself_fails_no_request),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
