/* Process servers through the daemon (`hostpool run`): a `servers:` entry with `process:` is a
 * program hostpool starts on a port of its range and proxies to. Its first request waits for a
 * program that boots slowly, a crash loop answers 503 with Retry-After while it backs off, then
 * 503 once the policy gave up (state failed) until a start boots it again, a request past the
 * queue of a booting program gets 503, a running server's health is its program's, a program
 * that never becomes ready answers 504, no child outlives the daemon, stopped by SIGTERM or killed,
 * and a process server added and replaced through the admin API answers from its new program. GET
 * /servers/NAME and `hostpool status NAME` show the program.
 * The app is `hostpool respond` (no WebSocket: the upgrade through a process server is not
 * tested here, for want of a backend that answers one and can be the child). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_test_admin.h"

static char config[4300];

/* Writes a config of one server `app`, listening on an automatic port of 25500-25559, whose
 * `process:` block is `process` (indented by six spaces), and starts the daemon. */
static void start_app(hp_test_server *srv, hp_test_admin *admin, const char *process)
{
    char text[4096];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: 25500-25559 }\n"
             "access_log: off\n"
             "health: { interval: 100ms, rise: 1, fall: 1 }\n"
             "servers:\n"
             "  - name: app\n"
             "    listen: auto\n"
             "    process:\n%s",
             process);
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    assert_int_equal(hp_test_admin_start(srv, config, admin), 0);
}

/* `command:` running `hostpool respond` on {port} with body `body` after the shell `before`
 * (a script of its own: "sleep 0.5;", a test that exits). */
static void respond_command(char *out, size_t cap, const char *before, const char *body)
{
    snprintf(out, cap,
             "      command: [/bin/sh, -c, \"%s exec %s respond --listen 127.0.0.1:{port} "
             "--body %s\"]\n",
             before, hp_test_bin(), body);
}

static json_t *process_of_server(const hp_test_admin *admin, const char *name, hp_test_answer *a)
{
    char path[128];
    snprintf(path, sizeof path, "/servers/%s", name);
    *a = hp_test_admin_call(admin, "GET", path, NULL, NULL);
    assert_int_equal(a->status, 200);
    json_t *process = json_object_get(a->json, "process");
    assert_true(json_is_object(process));
    return process;
}

static json_t *process_of(const hp_test_admin *admin, hp_test_answer *a)
{
    return process_of_server(admin, "app", a);
}

static int pid_of_server(const hp_test_admin *admin, const char *name)
{
    hp_test_answer a;
    int pid = (int)json_integer_value(json_object_get(process_of_server(admin, name, &a), "pid"));
    hp_test_answer_free(&a);
    return pid;
}

static bool process_gone(void *data)
{
    pid_t pid = *(pid_t *)data;
    return kill(pid, 0) == -1 && errno == ESRCH;
}

static void a_process_server_answers_through_hostpool(void **state)
{
    char command[1024];
    respond_command(command, sizeof command, "", "hi");
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin, command);
    hp_test_assert_answers(srv.port, NULL, "hi");
    hp_test_answer a;
    json_t *process = process_of(&admin, &a);
    assert_string_equal(json_string_value(json_object_get(a.json, "state")), "running");
    assert_string_equal(json_string_value(json_object_get(process, "state")), "ready");
    assert_true(json_integer_value(json_object_get(process, "pid")) > 0);
    json_int_t port = json_integer_value(json_object_get(process, "port"));
    assert_true(port >= 25500 && port <= 25559 && port != srv.port);
    assert_int_equal(json_integer_value(json_object_get(process, "restarts")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(process, "command"), 0)),
                        "/bin/sh");
    hp_test_answer_free(&a);
    char cmd[8800], out[2048];
    snprintf(cmd, sizeof cmd, "%s status --admin unix:%s app 2>&1", hp_test_bin(),
             admin.socket_path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    out[fread(out, 1, sizeof out - 1, f)] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "process:    ready, pid "));
    assert_non_null(strstr(out, "command:    /bin/sh -c "));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void the_first_request_to_a_program_that_boots_slowly_succeeds(void **state)
{
    char command[1024];
    respond_command(command, sizeof command, "sleep 0.5;", "slow");
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin, command);
    hp_test_assert_answers(srv.port, NULL, "slow"); /* sent at once: it waits for the boot */
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

typedef struct probe {
    int port;
    int status;
    char retry_after[32];
    char body[512];
} probe;

static void get(probe *p)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(p->port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    p->status = r.status;
    const char *retry = hp_test_response_header(&r, "Retry-After");
    snprintf(p->retry_after, sizeof p->retry_after, "%s", retry ? retry : "");
    snprintf(p->body, sizeof p->body, "%s", r.body);
    hp_test_response_free(&r);
}

static bool backing_off(void *data)
{
    probe *p = data;
    get(p);
    return p->status == 503 && p->retry_after[0];
}

static bool answered(void *data)
{
    probe *p = data;
    get(p);
    return p->status == 200;
}

typedef struct admin_state {
    const hp_test_admin *admin;
    const char *want;
} admin_state;

/* GET /servers/app's `field` is `want`. */
static bool server_field_is(const admin_state *s, const char *field)
{
    hp_test_answer a = hp_test_admin_call(s->admin, "GET", "/servers/app", NULL, NULL);
    const char *value = json_string_value(json_object_get(a.json, field));
    bool in = a.status == 200 && value && strcmp(value, s->want) == 0;
    hp_test_answer_free(&a);
    return in;
}

static bool server_in_state(void *data)
{
    return server_field_is(data, "state");
}

/* A process server's health is its program's (a connect to its port), not its listener's. */
static bool server_health_is(void *data)
{
    return server_field_is(data, "health");
}

static void a_crash_loop_backs_off_then_gives_up_until_a_start(void **state)
{
    char flag[4400], before[4600], command[6000], process[8192];
    snprintf(flag, sizeof flag, "%s/fixed", hp_test_temp_dir());
    snprintf(before, sizeof before, "test -f %s || exit 3;", flag);
    respond_command(command, sizeof command, before, "back");
    snprintf(process, sizeof process,
             "%s      restart: { initial: 300ms, max: 1s, jitter: 0, max_restarts: 2 }\n", command);
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin, process);
    probe p = {.port = srv.port};
    assert_true(hp_test_poll_until(backing_off, &p, HP_TEST_DEADLINE_MS));
    assert_true(atoi(p.retry_after) >= 1);
    assert_non_null(strstr(p.body, "\"server\": \"app\""));
    admin_state failed = {&admin, "failed"};
    assert_true(hp_test_poll_until(server_in_state, &failed, HP_TEST_DEADLINE_MS));
    get(&p);
    assert_int_equal(p.status, 503);
    assert_string_equal(p.retry_after, "");
    assert_non_null(strstr(p.body, "gave up"));
    hp_test_answer a;
    json_t *proc = process_of(&admin, &a);
    assert_string_equal(json_string_value(json_object_get(proc, "state")), "failed");
    hp_test_answer_free(&a);

    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "fixed", "", 0), 0);
    a = hp_test_admin_call(&admin, "POST", "/servers/app/start", NULL, NULL);
    assert_int_equal(a.status / 100, 2);
    hp_test_answer_free(&a);
    assert_true(hp_test_poll_until(answered, &p, HP_TEST_DEADLINE_MS));
    assert_string_equal(p.body, "back");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void a_running_process_servers_health_follows_its_program(void **state)
{
    /* The program runs until the flag exists; killed then, it crashes at each restart, backing
     * off for seconds while the server stays running and its own address still answers. */
    char flag[4400], before[4600], command[6000], process[8192];
    snprintf(flag, sizeof flag, "%s/broken", hp_test_temp_dir());
    snprintf(before, sizeof before, "test -f %s && exit 3;", flag);
    respond_command(command, sizeof command, before, "up");
    snprintf(process, sizeof process, "%s      restart: { initial: 5s, max: 5s }\n", command);
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin, process);
    hp_test_assert_answers(srv.port, NULL, "up");
    admin_state ok = {&admin, "ok"}, ko = {&admin, "ko"}, running = {&admin, "running"};
    assert_true(hp_test_poll_until(server_health_is, &ok, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "broken", "", 0), 0);
    assert_int_equal(kill(pid_of_server(&admin, "app"), SIGKILL), 0);
    assert_true(hp_test_poll_until(server_health_is, &ko, HP_TEST_DEADLINE_MS));
    assert_true(server_in_state(&running));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* Sends GET / on `c` (connected to `port`). */
static void send_get(hp_test_conn *c, int port)
{
    assert_int_equal(hp_test_connect(c, port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
}

static void past_its_queue_a_request_to_a_booting_program_gets_503(void **state)
{
    char command[1024], process[2048];
    respond_command(command, sizeof command, "sleep 1;", "late");
    snprintf(process, sizeof process, "%s      queue: 1\n", command);
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin, process);
    /* Both come while it boots: one waits (the queue holds one), the other is refused. */
    hp_test_conn a, b;
    send_get(&a, srv.port);
    send_get(&b, srv.port);
    hp_test_response ra, rb;
    assert_int_equal(hp_test_read_response(&a, &ra, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&b, &rb, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    const hp_test_response *waited = ra.status == 200 ? &ra : &rb;
    const hp_test_response *refused = ra.status == 200 ? &rb : &ra;
    assert_int_equal(waited->status, 200);
    assert_string_equal(waited->body, "late");
    assert_int_equal(refused->status, 503);
    assert_non_null(strstr(refused->body, "queue is full"));
    hp_test_response_free(&ra);
    hp_test_response_free(&rb);
    hp_test_close(&a);
    hp_test_close(&b);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void a_program_that_never_becomes_ready_answers_504(void **state)
{
    hp_test_server srv;
    hp_test_admin admin;
    start_app(&srv, &admin,
              "      command: [/bin/sleep, \"30\"]\n"
              "      boot_timeout: 300ms\n"
              "      restart: { policy: temporary }\n");
    probe p = {.port = srv.port};
    get(&p);
    assert_int_equal(p.status, 504);
    assert_non_null(strstr(p.body, "boot_timeout"));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void no_child_outlives_a_daemon_stopped_or_killed(void **state)
{
    char command[1024];
    respond_command(command, sizeof command, "", "hi");
    const int signals[] = {SIGTERM, SIGKILL};
    for (size_t i = 0; i < 2; i++) {
        hp_test_server srv;
        hp_test_admin admin;
        start_app(&srv, &admin, command);
        hp_test_assert_answers(srv.port, NULL, "hi");
        pid_t child = pid_of_server(&admin, "app");
        assert_true(child > 0);
        assert_int_equal(kill(child, 0), 0);
        hp_test_server_stop(&srv, signals[i], HP_TEST_DEADLINE_MS);
        assert_true(hp_test_poll_until(process_gone, &child, HP_TEST_DEADLINE_MS));
    }
}

/* The JSON of a process server `p` on an automatic listen address whose program answers
 * `body`. */
static void process_server_json(char *out, size_t cap, const char *body)
{
    snprintf(out, cap,
             "{\"name\": \"p\", \"listen\": \"auto\", \"process\": {\"command\": "
             "[\"%s\", \"respond\", \"--listen\", \"127.0.0.1:{port}\", \"--body\", "
             "\"%s\"]}}",
             hp_test_bin(), body);
}

static void
a_process_server_added_then_replaced_through_the_api_answers_from_its_new_program(void **state)
{
    const char *text = "workers: 1\n"
                       "ports: { range: 25500-25559 }\n"
                       "access_log: off\n"
                       "servers:\n"
                       "  - name: base\n"
                       "    listen: auto\n"
                       "    routes: [ { respond: { body: base } } ]\n";
    snprintf(config, sizeof config, "%s/api.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "api.yaml", text, strlen(text)), 0);
    hp_test_server srv;
    hp_test_admin admin;
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
    char body[2048];
    process_server_json(body, sizeof body, "one");
    hp_test_answer a = hp_test_admin_call(&admin, "POST", "/servers", NULL, body);
    assert_int_equal(a.status, 201);
    int port = (int)json_integer_value(
        json_object_get(json_array_get(json_object_get(a.json, "listen"), 0), "port"));
    hp_test_answer_free(&a);
    hp_test_assert_answers(port, NULL, "one");
    pid_t old = pid_of_server(&admin, "p");

    process_server_json(body, sizeof body, "two");
    a = hp_test_admin_call(&admin, "PUT", "/servers/p", NULL, body);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    hp_test_assert_answers(port, NULL, "two"); /* waits for the new program, never a 503 */
    assert_true(hp_test_poll_until(process_gone, &old, HP_TEST_DEADLINE_MS));
    a = hp_test_admin_call(&admin, "GET", "/config", NULL, NULL);
    assert_non_null(strstr(a.body, "\"process\":{\"command\":["));
    hp_test_answer_free(&a);
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static void process_errors_are_placed_by_validate(void **state)
{
    const char *text = "servers:\n"
                       "  - name: app\n"
                       "    listen: auto\n"
                       "    process: { command: [./app, \"{nmae}\"], queue: 0 }\n";
    snprintf(config, sizeof config, "%s/bad.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "bad.yaml", text, strlen(text)), 0);
    char cmd[8800], out[2048];
    snprintf(cmd, sizeof cmd, "%s validate --config %s 2>&1", hp_test_bin(), config);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    assert_non_null(strstr(out, "bad.yaml:4:33: servers[0].process.command[1]: \"{nmae}\": "
                                "unknown placeholder {nmae}"));
    assert_non_null(strstr(out, "bad.yaml:4:51: servers[0].process.queue: 0 out of range"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_process_server_answers_through_hostpool),
        cmocka_unit_test(the_first_request_to_a_program_that_boots_slowly_succeeds),
        cmocka_unit_test(a_crash_loop_backs_off_then_gives_up_until_a_start),
        cmocka_unit_test(a_running_process_servers_health_follows_its_program),
        cmocka_unit_test(past_its_queue_a_request_to_a_booting_program_gets_503),
        cmocka_unit_test(a_program_that_never_becomes_ready_answers_504),
        cmocka_unit_test(no_child_outlives_a_daemon_stopped_or_killed),
        cmocka_unit_test(
            a_process_server_added_then_replaced_through_the_api_answers_from_its_new_program),
        cmocka_unit_test(process_errors_are_placed_by_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
