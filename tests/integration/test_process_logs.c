/* A process server's output through the daemon: GET /servers/{name}/logs (the kept lines, from
 * stdout and stderr, ?since and ?limit, bad bytes made valid UTF-8), ?follow=1 (the kept lines
 * then each new one as Server-Sent Events), `hostpool logs NAME` (stdout's lines on stdout,
 * stderr's on stderr), and the answers for a server with no process and for no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

#define RANGE "25700-25749"

static hp_test_server srv;
static hp_test_admin admin;

/* Server `app` runs `script` (sh -c); server `plain` answers with `respond`. */
static void start_pool(const char *script)
{
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: " RANGE " }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: app\n"
             "    listen: auto\n"
             "    process:\n"
             "      command: [/bin/sh, -c, '%s']\n"
             "  - name: plain\n"
             "    listen: auto\n"
             "    routes: [ { respond: { body: plain } } ]\n",
             script);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
}

static void stop_pool(void)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

/* After a test that failed before its stop_pool. */
static int teardown(void **state)
{
    if (hp_test_server_running(&srv)) hp_test_server_stop(&srv, SIGKILL, HP_TEST_DEADLINE_MS);
    return 0;
}

static const char *line_field(const hp_test_answer *a, size_t i, const char *key)
{
    json_t *line = json_array_get(json_object_get(a->json, "lines"), i);
    return json_string_value(json_object_get(line, key));
}

static json_int_t line_number(const hp_test_answer *a, size_t i, const char *key)
{
    json_t *line = json_array_get(json_object_get(a->json, "lines"), i);
    return json_integer_value(json_object_get(line, key));
}

static void the_lines_of_both_streams_are_kept_in_order_with_their_stream(void **state)
{
    /* Two pipes have no order between them: the program waits between streams. */
    start_pool("echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; exec sleep 60");
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/app/logs", "lines", 3);
    assert_int_equal(json_array_size(json_object_get(a.json, "lines")), 3);
    assert_string_equal(json_string_value(json_object_get(a.json, "server")), "app");
    const char *texts[] = {"one", "two", "three"}, *streams[] = {"stdout", "stderr", "stdout"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(line_field(&a, i, "text"), texts[i]);
        assert_string_equal(line_field(&a, i, "stream"), streams[i]);
        assert_int_equal(line_number(&a, i, "seq"), (json_int_t)i + 1);
        assert_true(line_number(&a, i, "time_ms") > 1700000000000); /* the wall clock */
    }
    assert_int_equal(json_integer_value(json_object_get(a.json, "last_seq")), 3);
    assert_int_equal(json_integer_value(json_object_get(a.json, "dropped")), 0);
    hp_test_answer_free(&a);
    stop_pool();
}

static void since_and_limit_select_the_lines_after_a_number_and_the_last_ones(void **state)
{
    start_pool("for i in 1 2 3 4 5 6; do echo line$i; done; exec sleep 60");
    hp_test_answer all = hp_test_admin_wait_items(&admin, "/servers/app/logs", "lines", 6);
    hp_test_answer_free(&all);
    hp_test_answer a = hp_test_admin_call(&admin, "GET", "/servers/app/logs?since=4", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(a.json, "lines")), 2);
    assert_string_equal(line_field(&a, 0, "text"), "line5");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/app/logs?limit=2", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(a.json, "lines")), 2);
    assert_string_equal(line_field(&a, 0, "text"), "line5");
    assert_string_equal(line_field(&a, 1, "text"), "line6");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/app/logs?limit=lots", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "bad_query");
    hp_test_answer_free(&a);
    stop_pool();
}

static void bytes_that_are_not_utf8_come_out_as_replacement_characters(void **state)
{
    start_pool("printf \"caf\\\\351\\\\n\"; exec sleep 60");
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/app/logs", "lines", 1);
    assert_string_equal(line_field(&a, 0, "text"), "caf\xef\xbf\xbd");
    hp_test_answer_free(&a);
    stop_pool();
}

static void a_server_without_a_process_or_no_server_has_no_logs(void **state)
{
    start_pool("exec sleep 60");
    hp_test_answer a = hp_test_admin_call(&admin, "GET", "/servers/plain/logs", NULL, NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(hp_test_answer_error_code(&a), "no_process");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/nobody/logs", NULL, NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(hp_test_answer_error_code(&a), "not_found");
    hp_test_answer_free(&a);
    stop_pool();
}

static void follow_sends_the_kept_lines_then_each_new_one_as_server_sent_events(void **state)
{
    /* One line now, the next only once the file `go` exists: it can only come while followed. */
    char script[1024];
    snprintf(script, sizeof script,
             "echo first; while [ ! -e %s/go ]; do sleep 0.05; done; echo second; exec sleep 60",
             hp_test_temp_dir());
    start_pool(script);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/app/logs", "lines", 1);
    hp_test_answer_free(&a);
    hp_test_conn c;
    assert_int_equal(hp_test_connect_unix(&c, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&c,
                                      "GET /servers/app/logs?follow=1 HTTP/1.1\r\nHost: a\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&c, "\"text\":\"first\"", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(&c, "Content-Type: text/event-stream\r\n"));
    assert_true(hp_test_received(&c, "id: 1\nevent: line\ndata: {"));
    assert_false(hp_test_received(&c, "second"));
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "go", "", 0), 0);
    assert_true(hp_test_wait_for_text(&c, "\"text\":\"second\"", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(&c, "id: 2\nevent: line\n"));
    /* Removing the server ends the stream (its last chunk). */
    hp_test_answer r = hp_test_admin_call(&admin, "DELETE", "/servers/app", NULL, NULL);
    assert_int_equal(r.status, 200);
    hp_test_answer_free(&r);
    assert_true(hp_test_wait_for_text(&c, "\r\n0\r\n\r\n", HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
    stop_pool();
}

static void hostpool_logs_prints_stdout_lines_on_stdout_and_stderr_lines_on_stderr(void **state)
{
    start_pool("echo out-line; echo err-line >&2; exec sleep 60");
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/app/logs", "lines", 2);
    hp_test_answer_free(&a);
    char admin_arg[4300];
    snprintf(admin_arg, sizeof admin_arg, "unix:%s", admin.socket_path);
    const char *argv[] = {hp_test_bin(), "logs", "app", "--admin", admin_arg, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "out-line\n");
    assert_string_equal(r.err, "err-line\n");
    hp_test_run_free(&r);
    const char *missing[] = {hp_test_bin(), "logs", "nobody", "--admin", admin_arg, NULL};
    r = hp_test_run(missing, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    hp_test_run_free(&r);
    stop_pool();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(the_lines_of_both_streams_are_kept_in_order_with_their_stream,
                                  teardown),
        cmocka_unit_test_teardown(since_and_limit_select_the_lines_after_a_number_and_the_last_ones,
                                  teardown),
        cmocka_unit_test_teardown(bytes_that_are_not_utf8_come_out_as_replacement_characters,
                                  teardown),
        cmocka_unit_test_teardown(a_server_without_a_process_or_no_server_has_no_logs, teardown),
        cmocka_unit_test_teardown(
            follow_sends_the_kept_lines_then_each_new_one_as_server_sent_events, teardown),
        cmocka_unit_test_teardown(
            hostpool_logs_prints_stdout_lines_on_stdout_and_stderr_lines_on_stderr, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
