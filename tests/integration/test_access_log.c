/* The access log on stderr, one line per request:
 *   <client-ip> "<METHOD> <target> HTTP/1.<minor>" <status> <body-bytes> <seconds> <request-id>
 *   <server> <host>
 * (<server>: the name of the server that answered, "-" before one was chosen; <host>: the
 * request's Host, "-" when it had none) and X-Request-Id:
 * kept when the client's is sane, generated (20 lowercase hex) otherwise, echoed in the response
 * and written in the log line. The log is written after the answer, so tests poll the server's
 * stderr for the line instead of expecting it at once. */
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

/* Any access line (request id, server, Host); "-" stands for a method the parser could not
 * read (a request rejected in its request line), which the contract leaves open. */
#define ACCESS_LINE                                                                                \
    "^[0-9.]+ \"([A-Z]+|-) [^ ]+ HTTP/1\\.[01]\" [0-9]{3} [0-9]+ [0-9]+\\.[0-9]+ [^ ]+ [^ ]+ [^ "  \
    "]+$"
#define GENERATED_ID "^[0-9a-f]{20}$"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 23300
#define PORT_MAX 23349

static hp_test_server srv;

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

/* Counts the lines of the server's stderr that match `pattern`; *last gets a copy of the
 * last such line (owned) when `last` is not NULL. */
static int count_lines(const char *pattern, char **last)
{
    char *text = hp_test_server_stderr(&srv);
    int count = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!hp_test_matches(line, pattern)) continue;
        count++;
        if (last) {
            free(*last);
            *last = strdup(line);
        }
    }
    free(text);
    return count;
}

typedef struct wanted {
    const char *pattern;
    int count;
} wanted;

static bool has_lines(void *data)
{
    const wanted *w = data;
    return count_lines(w->pattern, NULL) >= w->count;
}

/* Polls stderr until a line matches `pattern`; returns it (owned), failing the test if none
 * appears within the deadline. */
static char *await_line(const char *pattern)
{
    wanted w = {pattern, 1};
    if (!hp_test_poll_until(has_lines, &w, HP_TEST_DEADLINE_MS)) {
        char *text = hp_test_server_stderr(&srv);
        fprintf(stderr, "no stderr line matches /%s/; stderr:\n%s\n", pattern, text);
        free(text);
        fail();
    }
    char *line = NULL;
    count_lines(pattern, &line);
    return line;
}

/* One request on a new connection; returns the X-Request-Id of the answer (owned). */
static char *request(const char *text, int status)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(srv.port, text, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, status);
    const char *id = hp_test_response_header(&resp, "X-Request-Id");
    assert_non_null(id);
    char *copy = strdup(id);
    hp_test_response_free(&resp);
    return copy;
}

static void access_line_has_client_request_status_bytes_seconds_and_id(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    free(request("GET /a?b HTTP/1.1\r\nHost: h\r\nX-Request-Id: log-test-1\r\n\r\n", 200));
    char *line = await_line(
        "^127\\.0\\.0\\.1 \"GET /a\\?b HTTP/1\\.1\" 200 13 [0-9]+\\.[0-9]+ log-test-1 respond h$");
    print_message("%s\n", line);
    free(line);
}

static void access_line_shows_http10_and_the_method(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    free(request("POST /form HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 200));
    /* No Host (HTTP/1.0 need not send one): "-" in its place. */
    free(await_line("^127\\.0\\.0\\.1 \"POST /form HTTP/1\\.0\" 200 13 .* respond -$"));
}

static void access_line_shows_the_status_answered(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--status", "404", NULL), 0);
    free(request("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n", 404));
    free(await_line("\"GET /missing HTTP/1\\.1\" 404 13 "));
}

static void sane_client_request_id_is_kept_in_the_answer_and_the_log(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    char *id = request("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: Abc-1_2.3:4\r\n\r\n", 200);
    assert_string_equal(id, "Abc-1_2.3:4");
    free(id);
    free(await_line(" Abc-1_2\\.3:4 respond h$"));
}

static void request_id_is_generated_when_absent_and_logged(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    char *id = request(HP_TEST_GET, 200);
    assert_true(hp_test_matches(id, GENERATED_ID));
    char pattern[128];
    snprintf(pattern, sizeof pattern, " %s respond hostpool\\.test$", id);
    free(await_line(pattern));
    free(id);
}

static void insane_client_request_id_is_replaced_in_the_answer_and_the_log(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    char *id = request("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: bad/id\r\n\r\n", 200);
    assert_true(hp_test_matches(id, GENERATED_ID));
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"GET / HTTP/1\\.1\" 200 13 [0-9.]+ %s respond h$", id);
    free(await_line(pattern));
    free(id);
    assert_int_equal(count_lines("bad/id", NULL), 0);
}

static void generated_request_ids_differ_between_requests(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    char *ids[10];
    for (int i = 0; i < 10; i++) {
        ids[i] = request(HP_TEST_GET, 200);
        assert_true(hp_test_matches(ids[i], GENERATED_ID));
        for (int j = 0; j < i; j++) assert_string_not_equal(ids[i], ids[j]);
    }
    for (int i = 0; i < 10; i++) free(ids[i]);
}

static void one_access_line_per_request_even_when_pipelined(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    static const char five[] = HP_TEST_GET HP_TEST_GET HP_TEST_GET HP_TEST_GET HP_TEST_GET;
    assert_int_equal(hp_test_send_str(&conn, five, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    for (int i = 0; i < 5; i++) {
        hp_test_response resp;
        assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        hp_test_response_free(&resp);
    }
    hp_test_close(&conn);
    /* Once the process has exited, its stderr is complete: exactly five lines. */
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(count_lines(ACCESS_LINE, NULL), 5);
}

static void no_access_log_option_silences_the_access_log(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    for (int i = 0; i < 3; i++) free(request(HP_TEST_GET, 200));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    char *text = hp_test_server_stderr(&srv);
    print_message("stderr with --no-access-log: \"%s\"\n", text);
    free(text);
    assert_int_equal(count_lines("^[0-9.]+ \"", NULL), 0);
}

/* Servers sharing a port, chosen by Host: each line names the one that answered; a request no
 * server takes (421: no default server for its Host) names none. */
static void access_line_names_the_server_that_answered(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[1024], config[4200], admin[4300];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "servers:\n"
             "  - name: blue\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: blue.test\n"
             "    routes: [ { respond: { body: blue } } ]\n"
             "  - name: green\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: green.test\n"
             "    routes: [ { respond: { body: green } } ]\n",
             port, port);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "vhosts.yaml", text, strlen(text)), 0);
    snprintf(config, sizeof config, "%s/vhosts.yaml", hp_test_temp_dir());
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, "--admin", admin, NULL),
                     0);
    free(request("GET /b HTTP/1.1\r\nHost: blue.test\r\nX-Request-Id: to-blue\r\n\r\n", 200));
    free(request("GET /g HTTP/1.1\r\nHost: green.test\r\nX-Request-Id: to-green\r\n\r\n", 200));
    free(request("GET /n HTTP/1.1\r\nHost: nobody.test\r\nX-Request-Id: to-none\r\n\r\n", 421));
    free(await_line(
        "^127\\.0\\.0\\.1 \"GET /b HTTP/1\\.1\" 200 4 [0-9.]+ to-blue blue blue\\.test$"));
    free(await_line(
        "^127\\.0\\.0\\.1 \"GET /g HTTP/1\\.1\" 200 5 [0-9.]+ to-green green green\\.test$"));
    free(await_line(
        "^127\\.0\\.0\\.1 \"GET /n HTTP/1\\.1\" 421 [0-9]+ [0-9.]+ to-none - nobody\\.test$"));
}

static void every_stderr_line_is_an_access_line_or_a_hostpool_diagnostic(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, NULL), 0);
    free(request(HP_TEST_GET, 200));
    free(request("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400));
    free(request("BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501));
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    char *text = hp_test_server_stderr(&srv);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!hp_test_matches(line, ACCESS_LINE) && strncmp(line, "hostpool: ", 10) != 0)
            fail_msg("stderr line is neither an access line nor a diagnostic: %s", line);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(access_line_has_client_request_status_bytes_seconds_and_id,
                                  kill_server),
        cmocka_unit_test_teardown(access_line_shows_http10_and_the_method, kill_server),
        cmocka_unit_test_teardown(access_line_shows_the_status_answered, kill_server),
        cmocka_unit_test_teardown(sane_client_request_id_is_kept_in_the_answer_and_the_log,
                                  kill_server),
        cmocka_unit_test_teardown(request_id_is_generated_when_absent_and_logged, kill_server),
        cmocka_unit_test_teardown(insane_client_request_id_is_replaced_in_the_answer_and_the_log,
                                  kill_server),
        cmocka_unit_test_teardown(generated_request_ids_differ_between_requests, kill_server),
        cmocka_unit_test_teardown(one_access_line_per_request_even_when_pipelined, kill_server),
        cmocka_unit_test_teardown(no_access_log_option_silences_the_access_log, kill_server),
        cmocka_unit_test_teardown(every_stderr_line_is_an_access_line_or_a_hostpool_diagnostic,
                                  kill_server),
        cmocka_unit_test_teardown(access_line_names_the_server_that_answered, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
