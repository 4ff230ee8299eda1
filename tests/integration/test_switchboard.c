/* Switchboards (`hostpool run` with a `switchboards:` entry, file templates over folders this
 * test makes): servers made on demand by name, on the switchboard's own address, reached by
 * Host, the fallback header or the default; names refused, limits, the idle stop; what the
 * admin API shows of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test.h"
#include "hp_test_admin.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PORT_MIN 25600
#define PORT_MAX 25699
#define CONCURRENT 100

typedef struct hostpool_run {
    hp_test_server srv;
    hp_test_admin admin;
    int port; /* the switchboard's */
} hostpool_run;

/* The daemon of the test running, killed by the teardown when a failed assertion left it up
 * (so the next test can take the admin socket); 0 once stopped. */
static pid_t running_pid;

static int kill_left_running(void **state)
{
    if (running_pid > 0) {
        kill(running_pid, SIGKILL);
        waitpid(running_pid, NULL, 0);
    }
    running_pid = 0;
    return 0;
}

/* Top-level lines of the next start's config ("limits: ...\n"); reset by each start. */
static const char *top_level = "";

static void make_site(const char *name)
{
    char file[256];
    snprintf(file, sizeof file, "sites/%s/index.html", name);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), file, name, strlen(name)), 0);
}

/* Starts hostpool with the switchboard "apps" on a free port: hosts "{name}.localhost", the
 * template `template` (a YAML flow mapping) and the entry's other lines `extra`
 * ("    key: v\n"). */
static void start_with(hostpool_run *d, const char *template, const char *extra)
{
    d->port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[4096];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "ports: { range: %d-%d }\n"
             "%s"
             "switchboards:\n"
             "  - name: apps\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: \"{name}.localhost\"\n"
             "    template: %s\n"
             "%s",
             PORT_MIN, PORT_MAX, top_level, d->port, template, extra);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "apps.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/apps.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&d->srv, config, &d->admin), 0);
    top_level = "";
    running_pid = d->srv.pid;
    /* the switchboard's front is the one server */
    assert_non_null(
        hp_test_server_stdout_until(&d->srv, "1 of 1 servers running", HP_TEST_DEADLINE_MS));
}

/* A file template over the test's sites/. */
static void start(hostpool_run *d, const char *extra)
{
    char template[4200];
    snprintf(template, sizeof template, "{ file: { root: \"%s/sites/{name}\" } }",
             hp_test_temp_dir());
    start_with(d, template, extra);
}

/* A process template: `hostpool respond` answering the name. */
static void start_process(hostpool_run *d, const char *extra)
{
    char template[4200];
    snprintf(template, sizeof template,
             "{ process: { command: [\"%s\", respond, --listen, \"127.0.0.1:{port}\", --body, "
             "\"{name}\"] } }",
             hp_test_bin());
    start_with(d, template, extra);
}

static void stop(hostpool_run *d)
{
    running_pid = 0;
    assert_int_equal(hp_test_server_stop(&d->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* GET / with Host `host` and, when not NULL, the header line `header` ("X-App-Name: a"). */
static void get(const hostpool_run *d, const char *host, const char *header, hp_test_response *r)
{
    char request[512];
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n%s%sConnection: close\r\n\r\n",
             host, header ? header : "", header ? "\r\n" : "");
    assert_int_equal(hp_test_exchange(d->port, request, r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void expect(const hostpool_run *d, const char *host, const char *header, int status,
                   const char *body)
{
    hp_test_response r;
    get(d, host, header, &r);
    assert_int_equal(r.status, status);
    if (body) assert_string_equal(r.body, body);
    hp_test_response_free(&r);
}

/* The servers the switchboard "apps" made, as GET /servers lists them with "switchboard". */
static size_t on_demand_count(const hostpool_run *d)
{
    hp_test_answer a =
        hp_test_admin_call(&d->admin, "GET", "/servers?switchboard=apps", NULL, NULL);
    assert_int_equal(a.status, 200);
    size_t n = json_array_size(json_object_get(a.json, "servers"));
    hp_test_answer_free(&a);
    return n;
}

static bool has_server(const hostpool_run *d, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/servers/%s", name);
    hp_test_answer a = hp_test_admin_call(&d->admin, "GET", path, NULL, NULL);
    bool found = a.status == 200;
    hp_test_answer_free(&a);
    return found;
}

/* The count of events of `topic` in the pool's metrics. */
static long events_of(const hostpool_run *d, const char *topic)
{
    hp_test_answer a = hp_test_admin_call(&d->admin, "GET", "/metrics", NULL, NULL);
    char key[128];
    snprintf(key, sizeof key, "hostpool_events_total{topic=\"%s\"} ", topic);
    const char *at = strstr(a.body, key);
    long n = at ? strtol(at + strlen(key), NULL, 10) : 0;
    hp_test_answer_free(&a);
    return n;
}

/* Sends GET / with Host `host` on CONCURRENT connections at once, then reads every answer:
 * each must be 200 with the body `want`. */
static void hundred_at_once(const hostpool_run *d, const char *host, const char *want)
{
    static hp_test_conn conns[CONCURRENT];
    char request[256];
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
    for (int i = 0; i < CONCURRENT; i++)
        assert_int_equal(hp_test_connect(&conns[i], d->port, HP_TEST_DEADLINE_MS), 0);
    for (int i = 0; i < CONCURRENT; i++)
        assert_int_equal(hp_test_send_str(&conns[i], request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    for (int i = 0; i < CONCURRENT; i++) {
        hp_test_response r;
        assert_int_equal(hp_test_read_response(&conns[i], &r, false, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, want);
        hp_test_response_free(&r);
        hp_test_close(&conns[i]);
    }
}

static void a_hundred_concurrent_first_requests_make_one_server_that_answers_them_all(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "");
    hundred_at_once(&d, "hello.localhost", "hello");
    assert_int_equal(on_demand_count(&d), 1);
    /* admin, apps, hello: one server.added each */
    assert_int_equal(events_of(&d, "server.added"), 3);
    stop(&d);
}

static void
a_hundred_concurrent_first_requests_start_one_process_that_answers_them_all(void **state)
{
    hostpool_run d;
    start_process(&d, "");
    hundred_at_once(&d, "hello.localhost", "hello");
    assert_int_equal(events_of(&d, "process.started"), 1);
    assert_int_equal(on_demand_count(&d), 1);
    stop(&d);
}

static void each_name_reaches_its_own_process(void **state)
{
    hostpool_run d;
    start_process(&d, "");
    for (int i = 0; i < 2; i++) {
        expect(&d, "alpha.localhost", NULL, 200, "alpha");
        expect(&d, "beta.localhost", NULL, 200, "beta");
    }
    assert_int_equal(events_of(&d, "process.started"), 2);
    hp_test_answer a = hp_test_admin_call(&d.admin, "GET", "/switchboards/apps", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(a.json, "template")), "process");
    assert_int_equal(json_integer_value(json_object_get(a.json, "count")), 2);
    hp_test_answer_free(&a);
    stop(&d);
}

static void each_name_reaches_its_own_root(void **state)
{
    make_site("hello");
    make_site("blog");
    hostpool_run d;
    start(&d, "");
    for (int i = 0; i < 2; i++) {
        expect(&d, "hello.localhost", NULL, 200, "hello");
        expect(&d, "Blog.localhost:8000", NULL, 200, "blog");
        expect(&d, "ghost.localhost", NULL, 404, NULL); /* no folder to serve */
    }
    assert_int_equal(on_demand_count(&d), 2);
    assert_false(has_server(&d, "ghost"));
    stop(&d);
}

static void a_name_not_allowed_gets_404_and_makes_no_server(void **state)
{
    make_site("hello");
    make_site("x1");
    char extra[600];
    snprintf(extra, sizeof extra,
             "    allow: { name: \"^[a-z]+$\", exists: \"%s/sites/{name}\" }\n",
             hp_test_temp_dir());
    hostpool_run d;
    start(&d, extra);
    expect(&d, "x1.localhost", NULL, 404, NULL);    /* the regex refuses it */
    expect(&d, "ghost.localhost", NULL, 404, NULL); /* no folder: exists refuses it */
    expect(&d, "hello.localhost", NULL, 200, "hello");
    assert_false(has_server(&d, "x1"));
    assert_false(has_server(&d, "ghost"));
    assert_int_equal(on_demand_count(&d), 1);
    stop(&d);
}

static void unsafe_host_names_get_404(void **state)
{
    hostpool_run d;
    start(&d, "");
    expect(&d, "my_app.localhost", NULL, 404, NULL);
    expect(&d, "a.b.localhost", NULL, 404, NULL);
    expect(&d, "localhost", NULL, 404, NULL);
    assert_int_equal(on_demand_count(&d), 0);
    stop(&d);
}

/* With "hello" made, "blog" gets 503 with a JSON body naming `limit` and the switchboard,
 * and no server is made for it. */
static void assert_second_name_refused_by(hostpool_run *d, const char *limit)
{
    make_site("hello");
    make_site("blog");
    expect(d, "hello.localhost", NULL, 200, "hello");
    hp_test_response r;
    get(d, "blog.localhost", NULL, &r);
    assert_int_equal(r.status, 503);
    json_t *body = json_loads(r.body, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "limit")), limit);
    assert_string_equal(json_string_value(json_object_get(body, "switchboard")), "apps");
    json_decref(body);
    hp_test_response_free(&r);
    assert_false(has_server(d, "blog"));
    stop(d);
}

static void over_max_servers_is_503_naming_the_limit(void **state)
{
    hostpool_run d;
    start(&d, "    max_servers: 1\n");
    assert_second_name_refused_by(&d, "max_servers");
}

static void over_the_pools_max_servers_is_503_naming_that_limit(void **state)
{
    hostpool_run d;
    top_level = "limits: { max_servers: 3 }\n"; /* the admin API, the front, one more */
    start(&d, "");
    assert_second_name_refused_by(&d, "limits.max_servers");
}

static void the_fallback_header_then_the_default_choose_the_name(void **state)
{
    make_site("hello");
    make_site("blog");
    hostpool_run d;
    start(&d, "    fallback_header: X-App-Name\n    default: hello\n");
    /* made through the header, then reached through it (a reroute on the worker) */
    expect(&d, "app.example", "X-App-Name: blog", 200, "blog");
    expect(&d, "app.example", "X-App-Name: blog", 200, "blog");
    expect(&d, "app.example", NULL, 200, "hello");
    expect(&d, "app.example", NULL, 200, "hello");
    expect(&d, "blog.localhost", NULL, 200, "blog");
    assert_int_equal(on_demand_count(&d), 2);
    stop(&d);
}

static bool hello_is_gone(void *data)
{
    return !has_server(data, "hello");
}

static bool its_program_exited(void *data)
{
    return events_of(data, "process.exited") == 1;
}

static void an_idle_server_is_stopped_then_made_again(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "    idle_timeout: 300ms\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    assert_true(has_server(&d, "hello"));
    assert_true(hp_test_poll_until(hello_is_gone, &d, HP_TEST_DEADLINE_MS));
    assert_int_equal(events_of(&d, "server.idle_stopped"), 1);
    expect(&d, "hello.localhost", NULL, 200, "hello");
    assert_true(has_server(&d, "hello"));
    stop(&d);
}

static void an_idle_process_server_is_stopped_with_its_program_then_started_again(void **state)
{
    hostpool_run d;
    start_process(&d, "    idle_timeout: 300ms\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    assert_true(hp_test_poll_until(hello_is_gone, &d, HP_TEST_DEADLINE_MS));
    assert_int_equal(events_of(&d, "server.idle_stopped"), 1);
    assert_true(hp_test_poll_until(its_program_exited, &d, HP_TEST_DEADLINE_MS));
    expect(&d, "hello.localhost", NULL, 200, "hello");
    assert_int_equal(events_of(&d, "process.started"), 2);
    stop(&d);
}

static void a_server_made_on_demand_is_listed_as_such(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    hp_test_answer a = hp_test_admin_call(&d.admin, "GET", "/servers/hello", NULL, NULL);
    assert_int_equal(a.status, 200);
    assert_true(json_is_true(json_object_get(a.json, "on_demand")));
    assert_string_equal(json_string_value(json_object_get(a.json, "switchboard")), "apps");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&d.admin, "GET", "/servers/apps", NULL, NULL);
    assert_int_equal(a.status, 200);
    assert_null(json_object_get(a.json, "on_demand"));
    assert_null(json_object_get(a.json, "switchboard"));
    hp_test_answer_free(&a);
    stop(&d);
}

static void get_switchboards_describes_each_with_its_servers(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "    fallback_header: X-App-Name\n    max_servers: 7\n    idle_timeout: 0\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    hp_test_answer a = hp_test_admin_call(&d.admin, "GET", "/switchboards", NULL, NULL);
    assert_int_equal(a.status, 200);
    json_t *list = json_object_get(a.json, "switchboards");
    assert_int_equal(json_array_size(list), 1);
    json_t *sb = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(sb, "name")), "apps");
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", d.port);
    assert_string_equal(json_string_value(json_object_get(sb, "listen")), listen);
    assert_string_equal(json_string_value(json_array_get(json_object_get(sb, "hosts"), 0)),
                        "{name}.localhost");
    assert_string_equal(json_string_value(json_object_get(sb, "fallback_header")), "X-App-Name");
    assert_true(json_is_null(json_object_get(sb, "default")));
    assert_int_equal(json_integer_value(json_object_get(sb, "max_servers")), 7);
    assert_int_equal(json_integer_value(json_object_get(sb, "idle_timeout_ms")), 0);
    assert_string_equal(json_string_value(json_object_get(sb, "template")), "file");
    assert_string_equal(json_string_value(json_array_get(json_object_get(sb, "servers"), 0)),
                        "hello");
    assert_int_equal(json_integer_value(json_object_get(sb, "count")), 1);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&d.admin, "GET", "/switchboards/apps", NULL, NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_integer_value(json_object_get(a.json, "count")), 1);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&d.admin, "GET", "/switchboards/nope", NULL, NULL);
    assert_int_equal(a.status, 404);
    hp_test_answer_free(&a);
    stop(&d);
}

static void ls_prints_the_switchboards_after_the_servers(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "    idle_timeout: 0\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    char admin[4300];
    snprintf(admin, sizeof admin, "unix:%s", d.admin.socket_path);
    const char *argv[] = {hp_test_bin(), "ls", "--admin", admin, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_true(hp_test_matches(
        r.out, "\nSWITCHBOARD +LISTEN +HOSTS +TEMPLATE +SERVERS +MAX +IDLE\n"
               "apps +127\\.0\\.0\\.1:[0-9]+ +\\{name\\}\\.localhost +file +1 +50 +never\n"));
    assert_true(
        hp_test_matches(r.out, "\nhello +running +127\\.0\\.0\\.1:[0-9]+ +hello\\.localhost "));
    hp_test_run_free(&r);
    stop(&d);
}

static void metrics_count_the_servers_and_the_refusals(void **state)
{
    make_site("hello");
    make_site("blog");
    hostpool_run d;
    start(&d, "    max_servers: 1\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    expect(&d, "blog.localhost", NULL, 503, NULL);
    expect(&d, "my_app.localhost", NULL, 404, NULL);
    hp_test_answer a = hp_test_admin_call(&d.admin, "GET", "/metrics", NULL, NULL);
    assert_non_null(strstr(a.body, "hostpool_switchboard_servers{switchboard=\"apps\"} 1\n"));
    assert_non_null(strstr(
        a.body, "hostpool_switchboard_refused_total{switchboard=\"apps\",reason=\"limit\"} 1\n"));
    assert_non_null(strstr(
        a.body,
        "hostpool_switchboard_refused_total{switchboard=\"apps\",reason=\"not_allowed\"} 1\n"));
    hp_test_answer_free(&a);
    stop(&d);
}

static void a_reload_that_changes_a_switchboard_is_refused(void **state)
{
    make_site("hello");
    hostpool_run d;
    start(&d, "    max_servers: 5\n");
    expect(&d, "hello.localhost", NULL, 200, "hello");
    char path[4200];
    snprintf(path, sizeof path, "%s/apps.yaml", hp_test_temp_dir());
    size_t len;
    char *text = hp_test_read_file(path, &len);
    char *at = strstr(text, "max_servers: 5");
    assert_non_null(at);
    at[strlen("max_servers: ")] = '6';
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "apps.yaml", text, len), 0);
    free(text);
    hp_test_answer a = hp_test_admin_call(&d.admin, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "switchboards: cannot change on a reload"));
    hp_test_answer_free(&a);
    expect(&d, "hello.localhost", NULL, 200, "hello");
    a = hp_test_admin_call(&d.admin, "GET", "/switchboards/apps", NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(a.json, "max_servers")), 5);
    hp_test_answer_free(&a);
    stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            a_hundred_concurrent_first_requests_make_one_server_that_answers_them_all,
            kill_left_running),
        cmocka_unit_test_teardown(
            a_hundred_concurrent_first_requests_start_one_process_that_answers_them_all,
            kill_left_running),
        cmocka_unit_test_teardown(each_name_reaches_its_own_root, kill_left_running),
        cmocka_unit_test_teardown(each_name_reaches_its_own_process, kill_left_running),
        cmocka_unit_test_teardown(a_name_not_allowed_gets_404_and_makes_no_server,
                                  kill_left_running),
        cmocka_unit_test_teardown(unsafe_host_names_get_404, kill_left_running),
        cmocka_unit_test_teardown(over_max_servers_is_503_naming_the_limit, kill_left_running),
        cmocka_unit_test_teardown(over_the_pools_max_servers_is_503_naming_that_limit,
                                  kill_left_running),
        cmocka_unit_test_teardown(the_fallback_header_then_the_default_choose_the_name,
                                  kill_left_running),
        cmocka_unit_test_teardown(an_idle_server_is_stopped_then_made_again, kill_left_running),
        cmocka_unit_test_teardown(
            an_idle_process_server_is_stopped_with_its_program_then_started_again,
            kill_left_running),
        cmocka_unit_test_teardown(a_server_made_on_demand_is_listed_as_such, kill_left_running),
        cmocka_unit_test_teardown(get_switchboards_describes_each_with_its_servers,
                                  kill_left_running),
        cmocka_unit_test_teardown(ls_prints_the_switchboards_after_the_servers, kill_left_running),
        cmocka_unit_test_teardown(metrics_count_the_servers_and_the_refusals, kill_left_running),
        cmocka_unit_test_teardown(a_reload_that_changes_a_switchboard_is_refused,
                                  kill_left_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
