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

static bool has_text(const hp_test_conn *c, const char *text)
{
    return c->len >= strlen(text) && memmem(c->buf, c->len, text, strlen(text)) != NULL;
}

/* Reads until `text` arrived; false at the deadline or when the stream closed without it. */
static bool wait_for_text(hp_test_conn *c, const char *text)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!has_text(c, text)) {
        if (c->eof || hp_test_now_ms() >= deadline) return false;
        hp_test_read_some(c, 20);
    }
    return true;
}

/* Opens GET /events?topic=PATTERN and waits for its first line: subscribed from then on. */
static void open_stream(hp_test_conn *c, const char *pattern)
{
    char req[256];
    snprintf(req, sizeof req, "GET /events?topic=%s HTTP/1.1\r\nHost: admin\r\n\r\n", pattern);
    assert_int_equal(hp_test_connect_unix(c, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(c, req, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(wait_for_text(c, ": events matching "));
    assert_true(has_text(c, "HTTP/1.1 200 OK\r\n"));
    assert_true(has_text(c, "Content-Type: text/event-stream\r\n"));
    assert_true(has_text(c, "Transfer-Encoding: chunked\r\n"));
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
    assert_true(wait_for_text(&all, "event: server.stopped\ndata: {\"seq\":"));
    assert_true(wait_for_text(&all, "event: server.started\ndata: {\"seq\":"));
    assert_true(has_text(&all, "\"server\":\"a\""));
    assert_true(wait_for_text(&started, "event: server.started\n"));
    assert_false(has_text(&started, "server.stopped"));
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
    assert_true(wait_for_text(&c, "event: server.started\n"));
    hp_test_close(&c);
}

static void the_stream_ends_with_pool_stopping_when_the_daemon_stops(void **state)
{
    hp_test_conn c;
    open_stream(&c, "**");
    int64_t start = hp_test_now_ms();
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_true(wait_for_text(&c, "event: pool.stopping\n"));
    assert_true(wait_for_text(&c, "\r\n0\r\n\r\n")); /* the chunked body's end */
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
        cmocka_unit_test(the_stream_ends_with_pool_stopping_when_the_daemon_stops),
    };
    return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
