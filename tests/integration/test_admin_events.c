/* GET /events of the admin API: the pool's events as Server-Sent Events, filtered by a topic
 * pattern, ending with pool.stopping when the daemon stops, and forgetting a client that
 * leaves. */
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

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 23900
#define PORT_MAX 23949

static hp_test_server srv;
static hp_test_admin admin;

static int start_pool(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[512];
    snprintf(text, sizeof text,
             "access_log: off\n"
             "servers:\n"
             "  - name: a\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: a } } ]\n",
             port);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
    return 0;
}

static int stop_pool(void **state)
{
    hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS);
    return 0;
}

/* Opens GET /events?topic=PATTERN and waits for its first line: subscribed from then on. */
static void open_stream(hp_test_conn *c, const char *pattern)
{
    char req[256];
    snprintf(req, sizeof req, "GET /events?topic=%s HTTP/1.1\r\nHost: admin\r\n\r\n", pattern);
    assert_int_equal(hp_test_connect_unix(c, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(c, req, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_wait_for_text(c, ": events matching ", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(c, "HTTP/1.1 200 OK\r\n"));
    assert_true(hp_test_received(c, "Content-Type: text/event-stream\r\n"));
    assert_true(hp_test_received(c, "Transfer-Encoding: chunked\r\n"));
}

static void restart_a(void)
{
    hp_test_answer a = hp_test_admin_call(&admin, "POST", "/servers/a/restart", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
}

static void events_of_matching_topics_arrive_as_server_sent_events(void **state)
{
    hp_test_conn all, started;
    open_stream(&all, "server.*");
    open_stream(&started, "server.started");
    restart_a();
    assert_true(
        hp_test_wait_for_text(&all, "event: server.stopped\ndata: {\"seq\":", HP_TEST_DEADLINE_MS));
    assert_true(
        hp_test_wait_for_text(&all, "event: server.started\ndata: {\"seq\":", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(&all, "\"server\":\"a\""));
    assert_true(hp_test_wait_for_text(&started, "event: server.started\n", HP_TEST_DEADLINE_MS));
    assert_false(hp_test_received(&started, "server.stopped"));
    hp_test_close(&all);
    hp_test_close(&started);
}

static void a_bad_topic_pattern_is_400(void **state)
{
    hp_test_answer a = hp_test_admin_call(&admin, "GET", "/events?topic=ser*", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "bad_topic");
    hp_test_answer_free(&a);
}

static void a_client_that_leaves_is_forgotten(void **state)
{
    for (int i = 0; i < 5; i++) {
        hp_test_conn c;
        open_stream(&c, "**");
        hp_test_close(&c);
    }
    restart_a(); /* events for streams whose clients left */
    hp_test_conn c;
    open_stream(&c, "**");
    restart_a();
    assert_true(hp_test_wait_for_text(&c, "event: server.started\n", HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
}

#define CROWD 30 /* servers added so that each pool restart publishes 60 events */

static void add_crowd(void)
{
    for (int i = 0; i < CROWD; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"crowd%d\",\"listen\":\"127.0.0.1:0\","
                 "\"routes\":[{\"respond\":{\"body\":\"c\"}}]}",
                 i);
        hp_test_answer a = hp_test_admin_call(&admin, "POST", "/servers", NULL, body);
        assert_int_equal(a.status, 201);
        hp_test_answer_free(&a);
    }
}

static void remove_crowd(void)
{
    for (int i = 0; i < CROWD; i++) {
        char path[64];
        snprintf(path, sizeof path, "/servers/crowd%d", i);
        hp_test_answer a = hp_test_admin_call(&admin, "DELETE", path, NULL, NULL);
        assert_int_equal(a.status, 200);
        hp_test_answer_free(&a);
    }
}

static bool stderr_has(const char *text)
{
    char *err = hp_test_server_stderr(&srv);
    bool found = strstr(err, text) != NULL;
    free(err);
    return found;
}

/* A client that reads nothing while events keep coming is closed once its backlog passes the
 * stream's budget (256 KiB; the kernel's socket buffer holds some more), instead of growing
 * the daemon's memory until the write timeout. */
static void a_stream_whose_client_does_not_read_is_closed_at_its_budget(void **state)
{
    add_crowd();
    hp_test_conn idle;
    open_stream(&idle, "**");
    const char *logged = "events stream (topic **) closed: its client left";
    int64_t deadline = hp_test_now_ms() + 4 * HP_TEST_DEADLINE_MS;
    int restarts = 0;
    while (!stderr_has(logged) && hp_test_now_ms() < deadline && restarts < 400) {
        hp_test_answer a = hp_test_admin_call(&admin, "POST", "/pool/restart", NULL, NULL);
        assert_int_equal(a.status, 200);
        hp_test_answer_free(&a);
        restarts++;
    }
    print_message("closed after %d pool restarts (%d events each)\n", restarts, 2 * (CROWD + 1));
    assert_true(stderr_has(logged));
    assert_int_equal(hp_test_wait_closed(&idle, HP_TEST_DEADLINE_MS), HP_TEST_EXTRA_BYTES);
    while (!idle.eof && hp_test_read_some(&idle, 200) > 0) {
    }
    assert_true(idle.eof); /* what the kernel held, then the close: no chunked end */
    assert_false(hp_test_received(&idle, "\r\n0\r\n\r\n"));
    hp_test_close(&idle);
    remove_crowd();
    hp_test_conn reader; /* other streams go on */
    open_stream(&reader, "server.started");
    restart_a();
    assert_true(hp_test_wait_for_text(&reader, "event: server.started\n", HP_TEST_DEADLINE_MS));
    hp_test_close(&reader);
}

static void the_stream_ends_with_pool_stopping_when_the_daemon_stops(void **state)
{
    hp_test_conn c;
    open_stream(&c, "**");
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_true(hp_test_wait_for_text(&c, "event: pool.stopping\n", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_wait_for_text(&c, "\r\n0\r\n\r\n",
                                      HP_TEST_DEADLINE_MS)); /* the chunked body's end */
    assert_int_equal(hp_test_server_wait(&srv, HP_TEST_DEADLINE_MS), 0);
    print_message("exited %lld ms after SIGTERM\n", (long long)(hp_test_now_ms() - start));
    hp_test_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_of_matching_topics_arrive_as_server_sent_events),
        cmocka_unit_test(a_bad_topic_pattern_is_400),
        cmocka_unit_test(a_client_that_leaves_is_forgotten),
        cmocka_unit_test(a_stream_whose_client_does_not_read_is_closed_at_its_budget),
        cmocka_unit_test(the_stream_ends_with_pool_stopping_when_the_daemon_stops),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
