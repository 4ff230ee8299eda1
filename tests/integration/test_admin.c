/* The admin API of `hostpool run`, over its unix socket (mode 0600) and over loopback TCP
 * with a bearer token: every endpoint, its error answers, and that a refused change changes
 * nothing. One daemon serves the whole group; each test uses server names of its own. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "hp_test_admin.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 24900
#define PORT_MAX 24949

typedef struct admin_daemon {
    hp_test_server srv;
    hp_test_admin admin;
    int web_port, api_port;
} admin_daemon;

static admin_daemon d;

/* ---- calls ---- */

typedef hp_test_answer answer;

static answer call(const char *method, const char *path, const char *body)
{
    return hp_test_admin_call(&d.admin, method, path, NULL, body);
}

static void answer_free(answer *a)
{
    hp_test_answer_free(a);
}

static const char *error_code(const answer *a)
{
    return hp_test_answer_error_code(a);
}

static size_t error_detail_count(const answer *a)
{
    return hp_test_answer_error_details(a);
}

static const char *state_of(const answer *a)
{
    return json_string_value(json_object_get(a->json, "state"));
}

/* The names in a {"servers": [...]} answer, comma-separated ("admin,web,api"). */
static void names_of(const answer *a, char *out, size_t cap)
{
    json_t *servers = json_object_get(a->json, "servers"), *s;
    size_t i;
    out[0] = '\0';
    json_array_foreach(servers, i, s)
    {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                 json_string_value(json_object_get(s, "name")));
    }
}

static void assert_names(const char *query_path, const char *want)
{
    answer a = call("GET", query_path, NULL);
    assert_int_equal(a.status, 200);
    char names[1024];
    names_of(&a, names, sizeof names);
    assert_string_equal(names, want);
    answer_free(&a);
}

/* A server object as the API takes it. */
static char *server_json(const char *name, int port, const char *body)
{
    char *text = malloc(512);
    snprintf(text, 512,
             "{\"name\":\"%s\",\"listen\":\"127.0.0.1:%d\","
             "\"routes\":[{\"respond\":{\"body\":\"%s\"}}]}",
             name, port, body);
    return text;
}

static void add_server(const char *name, int port, const char *body)
{
    char *json = server_json(name, port, body);
    answer a = call("POST", "/servers", json);
    assert_int_equal(a.status, 201);
    answer_free(&a);
    free(json);
}

/* ---- the daemon ---- */

static int start_daemon(void **state)
{
    d.web_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    d.api_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "limits: { max_body_bytes: 64KiB }\n"
             "health: { interval: 100ms, rise: 1 }\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: web } } ]\n"
             "  - name: api\n"
             "    listen: 127.0.0.1:%d\n"
             "    expose: https://api.example.com\n"
             "    routes: [ { respond: { body: api } } ]\n",
             d.web_port, d.api_port);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&d.srv, config, &d.admin), 0);
    return 0;
}

static int stop_daemon(void **state)
{
    assert_int_equal(hp_test_server_stop(&d.srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    struct stat st;
    assert_int_equal(stat(d.admin.socket_path, &st), -1); /* the socket file went with it */
    return 0;
}

/* ---- the listener ---- */

static void admin_socket_is_private_to_its_owner(void **state)
{
    struct stat st;
    assert_int_equal(stat(d.admin.socket_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void unknown_endpoint_is_404_and_a_wrong_method_405_with_allow(void **state)
{
    answer a = call("GET", "/nowhere", NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(error_code(&a), "not_found");
    answer_free(&a);
    a = call("PATCH", "/servers/web", "{}");
    assert_int_equal(a.status, 405);
    assert_string_equal(error_code(&a), "method_not_allowed");
    assert_string_equal(a.allow, "GET, PUT, DELETE");
    answer_free(&a);
}

/* ---- listing and filters ---- */

static void list_shows_every_server_with_its_ports(void **state)
{
    answer a = call("GET", "/servers", NULL);
    assert_int_equal(a.status, 200);
    char names[1024];
    names_of(&a, names, sizeof names);
    assert_non_null(strstr(names, "admin,web,api"));
    json_t *web = json_array_get(json_object_get(a.json, "servers"), 1);
    assert_string_equal(json_string_value(json_object_get(web, "state")), "running");
    json_t *listen = json_array_get(json_object_get(web, "listen"), 0);
    assert_int_equal(json_integer_value(json_object_get(listen, "port")), d.web_port);
    answer_free(&a);
}

static void list_filters_by_name_bind_and_expose_exact_and_regex(void **state)
{
    char path[256];
    assert_names("/servers?name=web", "web");
    assert_names("/servers?name_re=%5E(web%7Capi)%24", "web,api"); /* ^(web|api)$ */
    snprintf(path, sizeof path, "/servers?bind=127.0.0.1:%d", d.api_port);
    assert_names(path, "api");
    assert_names("/servers?expose=https://api.example.com", "api");
    assert_names("/servers?expose_re=example", "api");
    assert_names("/servers?name_re=a&expose_re=example", "api"); /* filters intersect */
    assert_names("/servers?name=nobody", "");
}

static void list_rejects_a_bad_regex_and_an_unknown_filter(void **state)
{
    answer a = call("GET", "/servers?name_re=(", NULL);
    assert_int_equal(a.status, 400);
    assert_string_equal(error_code(&a), "bad_query");
    assert_int_equal(error_detail_count(&a), 1);
    answer_free(&a);
    a = call("GET", "/servers?colour=red", NULL);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "colour"));
    answer_free(&a);
}

static void get_one_shows_state_ports_uptime_and_health(void **state)
{
    answer a = call("GET", "/servers/api", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(state_of(&a), "running");
    assert_string_equal(json_string_value(json_object_get(a.json, "expose")),
                        "https://api.example.com");
    assert_true(json_is_integer(json_object_get(a.json, "uptime_ms")));
    assert_true(json_is_null(json_object_get(a.json, "last_error")));
    assert_non_null(json_string_value(json_object_get(a.json, "health")));
    answer_free(&a);
    a = call("GET", "/servers/nobody", NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(error_code(&a), "not_found");
    answer_free(&a);
}

static bool pool_is_healthy(void *data)
{
    answer a = call("GET", "/health", NULL);
    bool ok = a.status == 200;
    if (ok) {
        assert_string_equal(json_string_value(json_object_get(a.json, "health")), "ok");
        assert_true(json_array_size(json_object_get(a.json, "servers")) >= 3);
    } else {
        assert_int_equal(a.status, 503); /* not probed yet: "unknown" */
        assert_string_equal(json_string_value(json_object_get(a.json, "health")), "unknown");
    }
    answer_free(&a);
    return ok;
}

static void health_reports_the_pool_and_each_server(void **state)
{
    assert_true(hp_test_poll_until(pool_is_healthy, NULL, HP_TEST_DEADLINE_MS));
}

/* ---- add ---- */

static void add_starts_a_server_that_answers_at_once(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char *json = server_json("added", port, "fresh");
    answer a = call("POST", "/servers", json);
    assert_int_equal(a.status, 201);
    assert_string_equal(state_of(&a), "running");
    answer_free(&a);
    free(json);
    hp_test_assert_answers(port, NULL, "fresh");
}

static void add_of_an_existing_name_is_409_and_changes_nothing(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char *json = server_json("web", port, "impostor");
    answer a = call("POST", "/servers", json);
    assert_int_equal(a.status, 409);
    assert_string_equal(error_code(&a), "exists");
    answer_free(&a);
    free(json);
    hp_test_assert_answers(d.web_port, NULL, "web");
    hp_test_assert_refuses(port);
}

static void add_lists_every_error_of_a_bad_body_and_changes_nothing(void **state)
{
    static const char wrong[] = "{\"name\":\"broken\",\"listen\":\"nowhere\",\"colour\":\"red\","
                                "\"routes\":[{\"respond\":{\"status\":\"many\"}}]}";
    answer a = call("POST", "/servers", wrong);
    assert_int_equal(a.status, 400);
    assert_string_equal(error_code(&a), "invalid_server");
    assert_int_equal(error_detail_count(&a), 3);
    assert_non_null(strstr(a.body, "colour"));
    assert_non_null(strstr(a.body, "listen"));
    assert_non_null(strstr(a.body, "routes[0].respond.status"));
    answer_free(&a);
    static const char *const not_servers[] = {"not json", "[1,2]", "{\"name\":\"x\"}", ""};
    for (size_t i = 0; i < sizeof not_servers / sizeof *not_servers; i++) {
        a = call("POST", "/servers", not_servers[i]);
        assert_int_equal(a.status, 400);
        assert_non_null(error_code(&a));
        answer_free(&a);
    }
    assert_names("/servers?name_re=broken%7C%5Ex%24", "");
}

static void add_of_a_body_over_the_limit_is_refused_and_changes_nothing(void **state)
{
    size_t len = 100 * 1024;
    char *huge = malloc(len + 1);
    memset(huge, ' ', len);
    memcpy(huge, "{\"name\":\"huge\"", 14);
    huge[len - 1] = '}';
    huge[len] = '\0';
    answer a = call("POST", "/servers", huge);
    assert_int_equal(a.status, 413);
    answer_free(&a);
    free(huge);
    assert_names("/servers?name=huge", "");
}

static void add_on_a_taken_port_fails_and_leaves_no_server(void **state)
{
    int port;
    int holder = hp_test_hold_port(&port);
    assert_true(holder >= 0);
    char *json = server_json("blocked", port, "never");
    answer a = call("POST", "/servers", json);
    assert_int_equal(a.status, 409);
    assert_string_equal(error_code(&a), "start_failed");
    assert_non_null(strstr(a.body, "address already in use"));
    answer_free(&a);
    free(json);
    close(holder);
    assert_names("/servers?name=blocked", "");
}

/* ---- replace and remove ---- */

static void replace_changes_the_answer_on_the_same_port(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    add_server("changing", port, "before");
    hp_test_assert_answers(port, NULL, "before");
    char *json = server_json("changing", port, "after");
    answer a = call("PUT", "/servers/changing", json);
    assert_int_equal(a.status, 200);
    assert_string_equal(state_of(&a), "running");
    answer_free(&a);
    free(json);
    hp_test_assert_answers(port, NULL, "after");
}

static void replace_refuses_an_unknown_name_a_mismatch_and_a_bad_body(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char *json = server_json("ghost", port, "x");
    answer a = call("PUT", "/servers/ghost", json);
    assert_int_equal(a.status, 404);
    answer_free(&a);
    free(json);
    json = server_json("other", d.web_port, "x");
    a = call("PUT", "/servers/web", json);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "the body names \\\"other\\\""));
    answer_free(&a);
    free(json);
    a = call("PUT", "/servers/web", "{\"name\":\"web\",\"listen\":[]}");
    assert_int_equal(a.status, 400);
    answer_free(&a);
    hp_test_assert_answers(d.web_port, NULL, "web");
}

static void remove_stops_the_server_and_forgets_it(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    add_server("leaving", port, "bye");
    answer a = call("DELETE", "/servers/leaving", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(json_string_value(json_object_get(a.json, "removed")), "leaving");
    answer_free(&a);
    hp_test_assert_refuses(port);
    a = call("DELETE", "/servers/leaving", NULL);
    assert_int_equal(a.status, 404);
    answer_free(&a);
}

static void the_admin_server_cannot_be_changed_through_itself(void **state)
{
    static const char *const calls[][2] = {{"DELETE", "/servers/admin"},
                                           {"POST", "/servers/admin/stop"},
                                           {"POST", "/servers/admin/restart"},
                                           {"PUT", "/servers/admin"}};
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        answer a = call(calls[i][0], calls[i][1], "{}");
        assert_int_equal(a.status, 409);
        assert_string_equal(error_code(&a), "admin_server");
        answer_free(&a);
    }
    assert_names("/servers?name=admin", "admin");
}

/* ---- lifecycle ---- */

static void stop_start_and_restart_one_server(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    add_server("cycled", port, "cycle");
    answer a = call("POST", "/servers/cycled/stop", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(state_of(&a), "stopped");
    answer_free(&a);
    hp_test_assert_refuses(port);
    a = call("POST", "/servers/cycled/start", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(state_of(&a), "running");
    answer_free(&a);
    hp_test_assert_answers(port, NULL, "cycle");
    a = call("POST", "/servers/cycled/restart", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(state_of(&a), "running");
    answer_free(&a);
    hp_test_assert_answers(port, NULL, "cycle");
    a = call("POST", "/servers/nobody/start", NULL);
    assert_int_equal(a.status, 404);
    answer_free(&a);
    a = call("DELETE", "/servers/cycled", NULL);
    answer_free(&a);
}

static void pool_stop_and_start_act_on_all_but_the_admin_server(void **state)
{
    answer a = call("POST", "/pool/stop", NULL);
    assert_int_equal(a.status, 200);
    assert_true(json_integer_value(json_object_get(a.json, "attempted")) >= 2);
    assert_int_equal(json_array_size(json_object_get(a.json, "failed")), 0);
    answer_free(&a);
    hp_test_assert_refuses(d.web_port);
    hp_test_assert_refuses(d.api_port);
    a = call("POST", "/pool/start", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_array_size(json_object_get(a.json, "failed")), 0);
    answer_free(&a);
    hp_test_assert_answers(d.web_port, NULL, "web");
    hp_test_assert_answers(d.api_port, NULL, "api");
    a = call("POST", "/pool/restart", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(json_array_size(json_object_get(a.json, "failed")), 0);
    answer_free(&a);
    hp_test_assert_answers(d.web_port, NULL, "web");
}

static void pool_start_names_each_server_that_failed(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    add_server("squatted", port, "x");
    answer a = call("POST", "/servers/squatted/stop", NULL);
    answer_free(&a);
    int holder = hp_test_hold_port_at(port);
    assert_true(holder >= 0);
    a = call("POST", "/pool/start", NULL);
    assert_int_equal(a.status, 200);
    json_t *failed = json_object_get(a.json, "failed");
    assert_int_equal(json_array_size(failed), 1);
    json_t *first = json_array_get(failed, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "squatted");
    assert_non_null(strstr(json_string_value(json_object_get(first, "error")), "in use"));
    answer_free(&a);
    close(holder);
    a = call("DELETE", "/servers/squatted", NULL);
    answer_free(&a);
}

/* ---- TCP with a token ---- */

static void tcp_admin_requires_the_bearer_token(void **state)
{
    int admin_port = hp_test_free_port_in(PORT_MIN, PORT_MAX),
        port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "token", "s3cret\n", 7), 0);
    char text[1024];
    snprintf(text, sizeof text,
             "access_log: off\n"
             "admin: { listen: 127.0.0.1:%d, token_file: %s/token }\n"
             "servers:\n"
             "  - name: only\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: only } } ]\n",
             admin_port, hp_test_temp_dir(), port);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "tcp.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/tcp.yaml", hp_test_temp_dir());
    hp_test_server srv;
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, NULL), 0);
    static const char *const tokens[] = {NULL, "wrong", "s3cre", "s3cret"};
    for (size_t i = 0; i < 4; i++) {
        hp_test_admin tcp = {.port = admin_port, .token = tokens[i]};
        answer a = hp_test_admin_call(&tcp, "GET", "/servers", NULL, NULL);
        if (i < 3) {
            assert_int_equal(a.status, 401);
            assert_string_equal(a.www_authenticate, "Bearer");
            assert_string_equal(error_code(&a), "unauthorized");
        } else {
            assert_int_equal(a.status, 200);
        }
        answer_free(&a);
    }
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_socket_is_private_to_its_owner),
        cmocka_unit_test(unknown_endpoint_is_404_and_a_wrong_method_405_with_allow),
        cmocka_unit_test(list_shows_every_server_with_its_ports),
        cmocka_unit_test(list_filters_by_name_bind_and_expose_exact_and_regex),
        cmocka_unit_test(list_rejects_a_bad_regex_and_an_unknown_filter),
        cmocka_unit_test(get_one_shows_state_ports_uptime_and_health),
        cmocka_unit_test(health_reports_the_pool_and_each_server),
        cmocka_unit_test(add_starts_a_server_that_answers_at_once),
        cmocka_unit_test(add_of_an_existing_name_is_409_and_changes_nothing),
        cmocka_unit_test(add_lists_every_error_of_a_bad_body_and_changes_nothing),
        cmocka_unit_test(add_of_a_body_over_the_limit_is_refused_and_changes_nothing),
        cmocka_unit_test(add_on_a_taken_port_fails_and_leaves_no_server),
        cmocka_unit_test(replace_changes_the_answer_on_the_same_port),
        cmocka_unit_test(replace_refuses_an_unknown_name_a_mismatch_and_a_bad_body),
        cmocka_unit_test(remove_stops_the_server_and_forgets_it),
        cmocka_unit_test(the_admin_server_cannot_be_changed_through_itself),
        cmocka_unit_test(stop_start_and_restart_one_server),
        cmocka_unit_test(pool_stop_and_start_act_on_all_but_the_admin_server),
        cmocka_unit_test(pool_start_names_each_server_that_failed),
        cmocka_unit_test(tcp_admin_requires_the_bearer_token),
    };
    return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
