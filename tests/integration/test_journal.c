/* A server's request journal through the daemon (`journal:` in the config): GET
 * /servers/{name}/journal records each request with its fields, selects with since, limit,
 * status (a class or one) and path; overflow with drop_oldest (the oldest go, counted, the
 * journal.dropped event) and with reject (counted, no seq); ?follow=1 streams a new entry;
 * `hostpool journal NAME` prints access-log lines; the answers for no journal and no server. */
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

static hp_test_server srv;
static hp_test_admin admin;
static int port, plain_port;

/* Server `api` (one worker, so counts are exact) keeps a journal `journal`; `plain` none. */
static void start_pool(const char *journal)
{
    port = hp_test_free_port_in(25900, 25999);
    do plain_port = hp_test_free_port_in(25900, 25999);
    while (plain_port == port); /* both free, neither bound yet */
    assert_true(port > 0 && plain_port > 0);
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: 25900-25999 }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: api\n"
             "    listen: 127.0.0.1:%d\n"
             "    journal: %s\n"
             "    routes:\n"
             "      - match: { path: /api/ }\n"
             "        respond: { body: ok }\n"
             "      - match: { path: /via/ }\n"
             "        proxy: { to: [127.0.0.1:%d] }\n"
             "  - name: plain\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: plain } } ]\n",
             port, journal, plain_port, plain_port);
    assert_int_equal(hp_test_admin_start_text(&srv, text, &admin), 0);
}

static void stop_pool(void)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

static int teardown(void **state)
{
    if (hp_test_server_running(&srv)) hp_test_server_stop(&srv, SIGKILL, HP_TEST_DEADLINE_MS);
    return 0;
}

/* GET `target` from `api`, answered with `status`. */
static void request(const char *target, int status)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: hostpool.test\r\n\r\n", target);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, req, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, status);
    hp_test_response_free(&r);
}

static size_t entry_count(const hp_test_answer *a)
{
    return json_array_size(json_object_get(a->json, "entries"));
}

static json_t *field(const hp_test_answer *a, size_t i, const char *key)
{
    return json_object_get(json_array_get(json_object_get(a->json, "entries"), i), key);
}

static json_int_t number(const hp_test_answer *a, size_t i, const char *key)
{
    return json_integer_value(field(a, i, key));
}

static json_int_t top(const hp_test_answer *a, const char *key)
{
    return json_integer_value(json_object_get(a->json, key));
}

static void each_request_is_recorded_with_its_fields_oldest_first(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/api/a?x=1", 200);
    request("/missing", 404);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 2);
    assert_int_equal(entry_count(&a), 2);
    assert_string_equal(json_string_value(json_object_get(a.json, "server")), "api");
    assert_int_equal(number(&a, 0, "seq"), 1);
    assert_int_equal(number(&a, 1, "seq"), 2);
    assert_string_equal(json_string_value(field(&a, 0, "client")), "127.0.0.1");
    assert_string_equal(json_string_value(field(&a, 0, "method")), "GET");
    assert_string_equal(json_string_value(field(&a, 0, "path")), "/api/a");
    assert_string_equal(json_string_value(field(&a, 0, "query")), "x=1");
    assert_int_equal(number(&a, 0, "status"), 200);
    assert_int_equal(number(&a, 1, "status"), 404);
    assert_string_equal(json_string_value(field(&a, 1, "path")), "/missing");
    assert_string_equal(json_string_value(field(&a, 1, "query")), "");
    assert_true(number(&a, 0, "time") > 1700000000000); /* Unix ms */
    assert_true(number(&a, 0, "bytes_in") > 30);
    assert_true(number(&a, 0, "bytes_out") > 30);
    assert_true(json_is_integer(field(&a, 0, "duration_us")));
    assert_int_equal(strlen(json_string_value(field(&a, 0, "request_id"))), 20);
    assert_true(json_is_null(field(&a, 0, "upstream")));
    assert_true(json_is_null(field(&a, 0, "error")));
    assert_int_equal(top(&a, "cursor"), 2);
    assert_int_equal(top(&a, "dropped"), 0);
    assert_int_equal(top(&a, "rejected"), 0);
    hp_test_answer_free(&a);
    stop_pool();
}

static void a_proxied_request_records_the_upstream_target_that_answered(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/via/x", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 1);
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%d", plain_port);
    assert_string_equal(json_string_value(field(&a, 0, "upstream")), target);
    assert_int_equal(number(&a, 0, "status"), 200);
    assert_true(json_is_null(field(&a, 0, "error")));
    hp_test_answer_free(&a);
    stop_pool();
}

static void since_limit_status_and_path_select_entries(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/api/one", 200);
    request("/other", 404);
    request("/api/two", 200);
    request("/api/three", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 4);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?since=2", NULL, NULL);
    assert_int_equal(entry_count(&a), 2);
    assert_int_equal(number(&a, 0, "seq"), 3);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?limit=2", NULL, NULL);
    assert_int_equal(entry_count(&a), 2);
    assert_int_equal(number(&a, 1, "seq"), 2);
    assert_int_equal(top(&a, "cursor"), 2); /* the limit cut it: resume after the last */
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?status=4xx", NULL, NULL);
    assert_int_equal(entry_count(&a), 1);
    assert_string_equal(json_string_value(field(&a, 0, "path")), "/other");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?status=200", NULL, NULL);
    assert_int_equal(entry_count(&a), 3);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?path=/api/t", NULL, NULL);
    assert_int_equal(entry_count(&a), 2);
    assert_string_equal(json_string_value(field(&a, 0, "path")), "/api/two");
    assert_string_equal(json_string_value(field(&a, 1, "path")), "/api/three");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?status=5x", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "bad_query");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/api/journal?limit=0", NULL, NULL);
    assert_int_equal(a.status, 400);
    hp_test_answer_free(&a);
    stop_pool();
}

static void drop_oldest_keeps_the_last_entries_and_counts_the_dropped(void **state)
{
    start_pool("{ capacity: 3, overflow: drop_oldest }");
    hp_test_conn events;
    assert_int_equal(hp_test_connect_unix(&events, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&events,
                                      "GET /events?topic=journal.* HTTP/1.1\r\nHost: a\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&events, "text/event-stream", HP_TEST_DEADLINE_MS));
    for (int i = 1; i <= 5; i++) request("/api/x", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 3);
    /* The fifth is recorded once the dropped count says 2. */
    for (int64_t end = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
         top(&a, "dropped") < 2 && hp_test_now_ms() < end;) {
        hp_test_answer_free(&a);
        a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 3);
    }
    assert_int_equal(entry_count(&a), 3);
    assert_int_equal(number(&a, 0, "seq"), 3);
    assert_int_equal(number(&a, 2, "seq"), 5);
    assert_int_equal(top(&a, "dropped"), 2);
    assert_int_equal(top(&a, "rejected"), 0);
    hp_test_answer_free(&a);
    assert_true(hp_test_wait_for_text(&events, "event: journal.dropped\n", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_wait_for_text(&events, "\"server\":\"api\"", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_wait_for_text(&events, "\"count\":", HP_TEST_DEADLINE_MS));
    hp_test_close(&events);
    stop_pool();
}

static void reject_keeps_the_first_entries_and_counts_the_rejected(void **state)
{
    start_pool("{ capacity: 3, overflow: reject }");
    for (int i = 1; i <= 5; i++) request("/api/x", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 3);
    for (int64_t end = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
         top(&a, "rejected") < 2 && hp_test_now_ms() < end;) {
        hp_test_answer_free(&a);
        a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 3);
    }
    assert_int_equal(entry_count(&a), 3);
    assert_int_equal(number(&a, 0, "seq"), 1);
    assert_int_equal(number(&a, 2, "seq"), 3);
    assert_int_equal(top(&a, "rejected"), 2);
    assert_int_equal(top(&a, "dropped"), 0);
    hp_test_answer_free(&a);
    stop_pool();
}

static void follow_streams_each_new_entry_as_server_sent_events(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/api/before", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 1);
    hp_test_answer_free(&a);
    hp_test_conn c;
    assert_int_equal(hp_test_connect_unix(&c, admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(
        hp_test_send_str(&c, "GET /servers/api/journal?follow=1 HTTP/1.1\r\nHost: a\r\n\r\n",
                         HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&c, "\"path\":\"/api/before\"", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(&c, "Content-Type: text/event-stream\r\n"));
    assert_true(hp_test_received(&c, "id: 1\nevent: entry\ndata: {"));
    assert_false(hp_test_received(&c, "/api/after"));
    request("/api/after", 200);
    assert_true(hp_test_wait_for_text(&c, "\"path\":\"/api/after\"", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_received(&c, "id: 2\nevent: entry\n"));
    /* Removing the server ends the stream (its last chunk). */
    hp_test_answer r = hp_test_admin_call(&admin, "DELETE", "/servers/api", NULL, NULL);
    assert_int_equal(r.status, 200);
    hp_test_answer_free(&r);
    assert_true(hp_test_wait_for_text(&c, "\r\n0\r\n\r\n", HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
    stop_pool();
}

/* An access log line (ERE): client "REQUEST" status bytes_out seconds request_id server. */
#define LINE(request, status)                                                                      \
    "127\\.0\\.0\\.1 \"" request "\" " status " [0-9]+ [0-9]+\\.[0-9]{6} [0-9a-f]{20} api\n"

static void hostpool_journal_prints_access_log_lines(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/api/a?x=1", 200);
    request("/missing", 404);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 2);
    hp_test_answer_free(&a);
    char admin_arg[4300];
    snprintf(admin_arg, sizeof admin_arg, "unix:%s", admin.socket_path);
    const char *argv[] = {hp_test_bin(), "journal", "api", "--admin", admin_arg, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_true(hp_test_matches(r.out, "^" LINE("GET /api/a\\?x=1", "200")
                                           LINE("GET /missing", "404") "$"));
    hp_test_run_free(&r);
    const char *since[] = {hp_test_bin(), "journal", "api",     "--since",
                           "1",           "--admin", admin_arg, NULL};
    r = hp_test_run(since, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_true(hp_test_matches(r.out, "^" LINE("GET /missing", "404") "$"));
    hp_test_run_free(&r);
    const char *missing[] = {hp_test_bin(), "journal", "nobody", "--admin", admin_arg, NULL};
    r = hp_test_run(missing, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    hp_test_run_free(&r);
    stop_pool();
}

/* PUT /servers/api with `journal` and a route answering `body`; the answer's status. */
static int replace_api(const char *journal, const char *body)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\": \"api\", \"listen\": \"127.0.0.1:%d\", \"journal\": %s, "
             "\"routes\": [{\"match\": {\"path\": \"/api/\"}, \"respond\": {\"body\": \"%s\"}}]}",
             port, journal, body);
    hp_test_answer a = hp_test_admin_call(&admin, "PUT", "/servers/api", NULL, json);
    int status = a.status;
    hp_test_answer_free(&a);
    return status;
}

static void a_replace_keeps_the_journal_unless_its_settings_change(void **state)
{
    start_pool("{ capacity: 100 }");
    request("/api/v1", 200);
    hp_test_answer a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 1);
    hp_test_answer_free(&a);
    assert_int_equal(replace_api("{\"capacity\": 100}", "v2"), 200);
    request("/api/v2", 200);
    a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 2);
    assert_int_equal(entry_count(&a), 2);
    assert_string_equal(json_string_value(field(&a, 0, "path")), "/api/v1");
    assert_string_equal(json_string_value(field(&a, 1, "path")), "/api/v2");
    assert_int_equal(number(&a, 1, "seq"), 2);
    hp_test_answer_free(&a);
    assert_int_equal(replace_api("{\"capacity\": 50}", "v3"), 200);
    request("/api/v3", 200);
    a = hp_test_admin_wait_items(&admin, "/servers/api/journal", "entries", 1);
    assert_int_equal(entry_count(&a), 1); /* the new journal has only the new request */
    assert_string_equal(json_string_value(field(&a, 0, "path")), "/api/v3");
    assert_int_equal(number(&a, 0, "seq"), 1);
    hp_test_answer_free(&a);
    stop_pool();
}

static void a_server_without_a_journal_or_no_server_has_none(void **state)
{
    start_pool("{ capacity: 10 }");
    hp_test_answer a = hp_test_admin_call(&admin, "GET", "/servers/plain/journal", NULL, NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(hp_test_answer_error_code(&a), "no_journal");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&admin, "GET", "/servers/nobody/journal", NULL, NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(hp_test_answer_error_code(&a), "not_found");
    hp_test_answer_free(&a);
    stop_pool();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(each_request_is_recorded_with_its_fields_oldest_first, teardown),
        cmocka_unit_test_teardown(a_proxied_request_records_the_upstream_target_that_answered,
                                  teardown),
        cmocka_unit_test_teardown(since_limit_status_and_path_select_entries, teardown),
        cmocka_unit_test_teardown(drop_oldest_keeps_the_last_entries_and_counts_the_dropped,
                                  teardown),
        cmocka_unit_test_teardown(reject_keeps_the_first_entries_and_counts_the_rejected, teardown),
        cmocka_unit_test_teardown(follow_streams_each_new_entry_as_server_sent_events, teardown),
        cmocka_unit_test_teardown(hostpool_journal_prints_access_log_lines, teardown),
        cmocka_unit_test_teardown(a_replace_keeps_the_journal_unless_its_settings_change, teardown),
        cmocka_unit_test_teardown(a_server_without_a_journal_or_no_server_has_none, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
