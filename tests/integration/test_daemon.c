/* `hostpool validate` and `hostpool run` on config files: every error with its position and
 * exit 1; the servers of a valid config all run, one whose port is taken fails alone, and
 * SIGTERM stops them all with exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test_admin.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 24600
#define FIXED_PORT_MAX 24699

static char config[4200];
static char admin[4200]; /* --admin: a socket of this test's own, never the default */

/* `hostpool run` on the config, with the admin API on this test's own socket. */
static int start_run(hp_test_server *srv)
{
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    return hp_test_server_startl(srv, "run", "--config", config, "--admin", admin, NULL);
}

static void write_config(const char *text)
{
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
}

/* Runs `hostpool validate --config FILE`; returns the exit code and its stderr in `err`. */
static int validate(char *err, size_t cap)
{
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "%s validate --config %s 2>&1", hp_test_bin(), config);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(err, 1, cap - 1, p);
    err[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void validate_lists_every_error_with_its_position(void **state)
{
    write_config("servers:\n"
                 "  - name: a\n"
                 "    listen: 127.0.0.1:70000\n"
                 "    routes:\n"
                 "      - respond: { status: 99 }\n"
                 "  - name: a\n"
                 "    listen: auto\n"
                 "    colour: red\n");
    char out[4096];
    assert_int_equal(validate(out, sizeof out), 1);
    assert_non_null(strstr(out, "pool.yaml:3:13: servers[0].listen: port 70000 out of range"));
    assert_non_null(strstr(out, "pool.yaml:5:28: servers[0].routes[0].respond.status:"));
    assert_non_null(strstr(out, "pool.yaml:6:11: servers[1].name: \"a\" is already used"));
    assert_non_null(strstr(out, "pool.yaml:8:5: servers[1]: unknown key \"colour\""));
    assert_non_null(strstr(out, "4 errors"));
}

static void validate_accepts_the_demo_config(void **state)
{
    snprintf(config, sizeof config, "%s/examples/hostpool.yaml", hp_test_source_dir());
    char out[1024];
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(hp_test_source_dir()), 0); /* the demo's file root is relative */
    int rc = validate(out, sizeof out);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "valid, 9 servers, 2 switchboards\n"));
}

static void run_starts_every_server_and_a_taken_port_fails_alone(void **state)
{
    int held_port;
    int holder = hp_test_hold_port(&held_port);
    assert_true(holder >= 0);
    int first = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX),
        third = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: 24500-24599 }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: first\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: one } } ]\n"
             "  - name: taken\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: two } } ]\n"
             "  - name: third\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: three } } ]\n",
             first, held_port, third);
    write_config(text);
    hp_test_server srv;
    assert_int_equal(start_run(&srv), 0);
    assert_int_equal(srv.port, first); /* the first ready line */
    hp_test_response r;
    assert_int_equal(hp_test_exchange(srv.port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, "one");
    hp_test_response_free(&r);
    assert_int_equal(hp_test_exchange(third, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, "three");
    hp_test_response_free(&r);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    char *err = hp_test_server_stderr(&srv);
    assert_non_null(strstr(err, "hostpool: taken failed to start:"));
    assert_non_null(strstr(err, "address already in use"));
    free(err);
    close(holder);
}

/* Port 0 prints the bound port; a server chosen by Host prints a name under localhost (a
 * wildcard as www.suffix), or the address and the Host to send; the expose URL follows. */
static void run_prints_a_url_a_client_can_open_for_every_address(void **state)
{
    int shared = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: plain\n"
             "    listen: 127.0.0.1:0\n"
             "    routes: [ { respond: { body: plain } } ]\n"
             "  - name: named\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: [\"*.apps.localhost\", one.apps.localhost]\n"
             "    routes: [ { respond: { body: named } } ]\n"
             "  - name: elsewhere\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: shop.example.com\n"
             "    expose: https://shop.example.com\n"
             "    routes: [ { respond: { body: shop } } ]\n",
             shared, shared);
    write_config(text);
    hp_test_server srv;
    assert_int_equal(start_run(&srv), 0);
    const char *out = hp_test_server_stdout_until(&srv, "servers running", HP_TEST_DEADLINE_MS);
    assert_non_null(out);
    char want[5400];
    snprintf(want, sizeof want,
             "hostpool: admin API on %s\n"
             "hostpool: listening on http://127.0.0.1:%d/ (plain)\n"
             "hostpool: listening on http://www.apps.localhost:%d/ (named)\n"
             "hostpool: listening on http://127.0.0.1:%d/ (elsewhere, Host: shop.example.com, "
             "exposed as https://shop.example.com)\n"
             "hostpool: 3 of 3 servers running (Ctrl+C stops them)\n",
             admin, srv.port, shared, shared);
    assert_string_equal(out, want);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(shared, "GET / HTTP/1.1\r\nHost: www.apps.localhost\r\n\r\n",
                                      &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_string_equal(r.body, "named");
    hp_test_response_free(&r);
    assert_int_equal(hp_test_exchange(shared, "GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n",
                                      &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_string_equal(r.body, "shop");
    hp_test_response_free(&r);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void run_refuses_to_start_on_a_config_error(void **state)
{
    write_config("servers:\n  - name: x\n    listen: nowhere\n");
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "%s run --config %s 2>&1", hp_test_bin(), config);
    FILE *p = popen(cmd, "r");
    char out[2048];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(out, "pool.yaml:3:13: servers[0].listen:"));
}

/* ---- when nothing could start ---- */

/* One server, on a port another socket holds. */
static int write_config_on_a_taken_port(void)
{
    int held_port, holder = hp_test_hold_port(&held_port);
    assert_true(holder >= 0);
    char text[512];
    snprintf(text, sizeof text,
             "access_log: off\n"
             "servers:\n"
             "  - name: squatted\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: never } } ]\n",
             held_port);
    write_config(text);
    return holder;
}

static void run_exits_1_when_no_server_could_start(void **state)
{
    int holder = write_config_on_a_taken_port();
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    const char *const argv[] = {hp_test_bin(), "run", "--config", config, "--admin", admin, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    close(holder);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "hostpool: squatted failed to start: "));
    assert_non_null(strstr(r.err, "hostpool: none of the 1 servers could start; stopping"));
    assert_null(strstr(r.out, "servers running"));
    hp_test_run_free(&r);
}

static bool says_running(void *data)
{
    return hp_test_server_stdout_until(data, "servers running", 50) != NULL;
}

static void keep_going_stays_up_when_no_server_could_start(void **state)
{
    int holder = write_config_on_a_taken_port();
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    hp_test_server srv;
    const char *const argv[] = {"run", "--config", config, "--admin", admin, "--keep-going", NULL};
    assert_int_equal(hp_test_server_spawn(&srv, argv), 0);
    assert_true(hp_test_poll_until(says_running, &srv, HP_TEST_DEADLINE_MS));
    assert_non_null(strstr(srv.out, "hostpool: 0 of 1 servers running"));
    close(holder);
    assert_true(hp_test_server_running(&srv));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* ---- the pid file ---- */

static void write_one_server_config(void)
{
    write_config("access_log: off\n"
                 "servers:\n"
                 "  - name: one\n"
                 "    listen: 127.0.0.1:0\n"
                 "    routes: [ { respond: { body: one } } ]\n");
}

/* `run` with --pid-file FILE, waited for until it says its servers run. */
static void start_with_pid_file(hp_test_server *srv, const char *pid_file, const char *admin_sock)
{
    snprintf(admin, sizeof admin, "unix:%s/%s", hp_test_temp_dir(), admin_sock);
    assert_int_equal(hp_test_server_startl(srv, "run", "--config", config, "--admin", admin,
                                           "--pid-file", pid_file, NULL),
                     0);
    assert_non_null(hp_test_server_stdout_until(srv, "servers running", HP_TEST_DEADLINE_MS));
}

static void assert_pid_file_holds(const char *path, pid_t pid)
{
    char want[32];
    snprintf(want, sizeof want, "%d\n", (int)pid);
    char *text = hp_test_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
}

static void run_writes_its_pid_file_once_running_and_removes_it_at_exit(void **state)
{
    write_one_server_config();
    char pid_file[4200];
    snprintf(pid_file, sizeof pid_file, "%s/hostpool.pid", hp_test_temp_dir());
    hp_test_server srv;
    start_with_pid_file(&srv, pid_file, "admin.sock");
    assert_pid_file_holds(pid_file, srv.pid);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(access(pid_file, F_OK), -1);
}

static void run_refuses_a_pid_file_a_running_hostpool_holds_and_replaces_a_stale_one(void **state)
{
    write_one_server_config();
    char pid_file[4200];
    snprintf(pid_file, sizeof pid_file, "%s/shared.pid", hp_test_temp_dir());
    hp_test_server first;
    start_with_pid_file(&first, pid_file, "first.sock");
    char second_admin[4300];
    snprintf(second_admin, sizeof second_admin, "unix:%s/second.sock", hp_test_temp_dir());
    const char *const argv[] = {hp_test_bin(), "run",        "--config", config, "--admin",
                                second_admin,  "--pid-file", pid_file,   NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    char want[4400];
    snprintf(want, sizeof want,
             "hostpool run: pid file %s: process %d, another hostpool, is running", pid_file,
             (int)first.pid);
    assert_non_null(strstr(r.err, want));
    hp_test_run_free(&r);
    assert_pid_file_holds(pid_file, first.pid); /* untouched */
    /* Killed, the first leaves its file behind: stale, it is replaced. */
    pid_t dead = first.pid;
    hp_test_server_kill(&first);
    assert_pid_file_holds(pid_file, dead);
    hp_test_server second;
    start_with_pid_file(&second, pid_file, "second.sock");
    assert_pid_file_holds(pid_file, second.pid);
    assert_int_equal(hp_test_server_stop(&second, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(access(pid_file, F_OK), -1);
}

static void run_writes_the_pid_file_the_config_names_unless_pid_file_is_given(void **state)
{
    char text[4600], from_config[4200], from_option[4200];
    snprintf(from_config, sizeof from_config, "%s/config.pid", hp_test_temp_dir());
    snprintf(from_option, sizeof from_option, "%s/option.pid", hp_test_temp_dir());
    snprintf(text, sizeof text,
             "pid_file: %s\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: one\n"
             "    listen: 127.0.0.1:0\n"
             "    routes: [ { respond: { body: one } } ]\n",
             from_config);
    write_config(text);
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    hp_test_server srv;
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, "--admin", admin, NULL),
                     0);
    assert_non_null(hp_test_server_stdout_until(&srv, "servers running", HP_TEST_DEADLINE_MS));
    assert_pid_file_holds(from_config, srv.pid);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(access(from_config, F_OK), -1);
    start_with_pid_file(&srv, from_option, "admin.sock");
    assert_pid_file_holds(from_option, srv.pid);
    assert_int_equal(access(from_config, F_OK), -1);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(access(from_option, F_OK), -1);
}

/* ---- the admin API's token from the command line ---- */

static void run_takes_the_admin_token_file_from_the_command_line(void **state)
{
    write_one_server_config();
    char token[4200];
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "run.token", "t0ken\n", 6), 0);
    snprintf(token, sizeof token, "%s/run.token", hp_test_temp_dir());
    hp_test_admin api = {.port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX)};
    char address[64];
    snprintf(address, sizeof address, "127.0.0.1:%d", api.port);
    hp_test_server srv;
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, "--admin", address,
                                           "--token-file", token, NULL),
                     0);
    hp_test_answer a = hp_test_admin_call(&api, "GET", "/servers", NULL, NULL);
    assert_int_equal(a.status, 401);
    hp_test_answer_free(&a);
    api.token = "t0ken";
    a = hp_test_admin_call(&api, "GET", "/servers/one", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    /* the file has no admin.token_file: a reload keeps the command line's, as it keeps --admin */
    a = hp_test_admin_call(&api, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_lists_every_error_with_its_position),
        cmocka_unit_test(validate_accepts_the_demo_config),
        cmocka_unit_test(run_starts_every_server_and_a_taken_port_fails_alone),
        cmocka_unit_test(run_prints_a_url_a_client_can_open_for_every_address),
        cmocka_unit_test(run_refuses_to_start_on_a_config_error),
        cmocka_unit_test(run_exits_1_when_no_server_could_start),
        cmocka_unit_test(keep_going_stays_up_when_no_server_could_start),
        cmocka_unit_test(run_writes_its_pid_file_once_running_and_removes_it_at_exit),
        cmocka_unit_test(run_refuses_a_pid_file_a_running_hostpool_holds_and_replaces_a_stale_one),
        cmocka_unit_test(run_writes_the_pid_file_the_config_names_unless_pid_file_is_given),
        cmocka_unit_test(run_takes_the_admin_token_file_from_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
