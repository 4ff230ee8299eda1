/* Reloading a running `hostpool run`: by SIGHUP, POST /reload and POST /config. A reload
 * checks the whole config first (any error: nothing changes, every error is named), leaves
 * unchanged servers untouched (their connections stay open), replaces changed ones in place,
 * drains removed ones and starts new ones; GET /config has an ETag that POST /config's
 * If-Match must name. */
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
#include <unistd.h>

#include "hp_test_admin.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 24950
#define PORT_MAX 24999

typedef struct fixture {
    hp_test_server srv;
    hp_test_admin admin;
    char config[4200];
    int port_a, port_b, port_c, port_d;
} fixture;

/* The config: servers a, b (answering `b_body`) and, when asked, c and d. */
static void write_config(fixture *f, const char *b_body, bool with_c, bool with_d,
                         const char *extra_top)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "%saccess_log: off\n"
                     "servers:\n"
                     "  - name: a\n"
                     "    listen: 127.0.0.1:%d\n"
                     "    routes: [ { respond: { body: a } } ]\n"
                     "  - name: b\n"
                     "    listen: 127.0.0.1:%d\n"
                     "    routes: [ { respond: { body: %s } } ]\n",
                     extra_top, f->port_a, f->port_b, b_body);
    if (with_c)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "  - name: c\n"
                      "    listen: 127.0.0.1:%d\n"
                      "    routes: [ { respond: { body: c } } ]\n",
                      f->port_c);
    if (with_d)
        snprintf(text + n, sizeof text - (size_t)n,
                 "  - name: d\n"
                 "    listen: 127.0.0.1:%d\n"
                 "    routes: [ { respond: { body: d } } ]\n",
                 f->port_d);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
}

static int start(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->port_a = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    f->port_b = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    f->port_c = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    f->port_d = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    snprintf(f->config, sizeof f->config, "%s/pool.yaml", hp_test_temp_dir());
    write_config(f, "b1", false, true, "");
    assert_int_equal(hp_test_admin_start(&f->srv, f->config, &f->admin), 0);
    *state = f;
    return 0;
}

static int stop(void **state)
{
    fixture *f = *state;
    assert_int_equal(hp_test_server_stop(&f->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    free(f);
    return 0;
}

/* One request on an open keep-alive connection. */
static void assert_connection_answers(hp_test_conn *c, const char *want)
{
    assert_int_equal(hp_test_send_str(c, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(c, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, want);
    hp_test_response_free(&r);
}

static const char *names(const hp_test_answer *a, const char *key, char *out, size_t cap)
{
    json_t *list = json_object_get(a->json, key), *v;
    size_t i;
    out[0] = '\0';
    json_array_foreach(list, i, v)
    {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", used ? "," : "", json_string_value(v));
    }
    return out;
}

static void assert_reload_result(const hp_test_answer *a, int unchanged, const char *replaced,
                                 const char *added, const char *removed)
{
    char buf[256];
    assert_int_equal(a->status, 200);
    assert_int_equal(json_integer_value(json_object_get(a->json, "unchanged")), unchanged);
    assert_string_equal(names(a, "replaced", buf, sizeof buf), replaced);
    assert_string_equal(names(a, "added", buf, sizeof buf), added);
    assert_string_equal(names(a, "removed", buf, sizeof buf), removed);
    assert_int_equal(json_array_size(json_object_get(a->json, "failed")), 0);
}

typedef struct stderr_wait {
    const hp_test_server *srv;
    const char *text;
    int count; /* how many times `text` must be there */
} stderr_wait;

static bool stderr_has(void *data)
{
    stderr_wait *w = data;
    char *err = hp_test_server_stderr(w->srv);
    int seen = 0;
    for (const char *p = err; (p = strstr(p, w->text)); p++) seen++;
    free(err);
    return seen >= w->count;
}

/* ---- tests ---- */

static void
sighup_replaces_the_changed_adds_the_new_drains_the_gone_and_leaves_the_rest(void **state)
{
    fixture *f = *state;
    hp_test_conn kept;
    assert_int_equal(hp_test_connect(&kept, f->port_a, HP_TEST_DEADLINE_MS), 0);
    assert_connection_answers(&kept, "a");
    hp_test_assert_answers(f->port_d, NULL, "d");
    write_config(f, "b2", true, false, "");
    assert_int_equal(hp_test_server_signal(&f->srv, SIGHUP), 0);
    stderr_wait w = {&f->srv, "hostpool: reloaded: 1 unchanged; replaced b; added c; removed d", 1};
    assert_true(hp_test_poll_until(stderr_has, &w, HP_TEST_DEADLINE_MS));
    assert_connection_answers(&kept, "a"); /* the unchanged server's connection stays open */
    hp_test_close(&kept);
    hp_test_assert_answers(f->port_b, NULL, "b2");
    hp_test_assert_answers(f->port_c, NULL, "c");
    hp_test_assert_refuses(f->port_d);
}

static void post_reload_reads_the_file_again_and_says_what_changed(void **state)
{
    fixture *f = *state;
    write_config(f, "b3", true, true, "");
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
    assert_reload_result(&a, 2, "b", "d", "");
    hp_test_answer_free(&a);
    hp_test_assert_answers(f->port_b, NULL, "b3");
    hp_test_assert_answers(f->port_d, NULL, "d");
    a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL); /* nothing changed */
    assert_reload_result(&a, 4, "", "", "");
    hp_test_answer_free(&a);
}

static void a_broken_config_changes_nothing_and_every_error_is_named(void **state)
{
    fixture *f = *state;
    static const char broken[] = "servers:\n"
                                 "  - name: a\n"
                                 "    listen: 127.0.0.1:99999\n"
                                 "    colour: blue\n";
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", broken, sizeof broken - 1),
                     0);
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "invalid_config");
    assert_int_equal(hp_test_answer_error_details(&a), 2);
    assert_non_null(strstr(a.body, "pool.yaml:3:13: servers[0].listen: port 99999 out of range"));
    assert_non_null(strstr(a.body, "pool.yaml:4:5: servers[0]: unknown key \\\"colour\\\""));
    hp_test_answer_free(&a);
    assert_int_equal(hp_test_server_signal(&f->srv, SIGHUP), 0);
    stderr_wait w = {&f->srv, "hostpool: reload refused, 2 errors: nothing changed", 1};
    assert_true(hp_test_poll_until(stderr_has, &w, HP_TEST_DEADLINE_MS));
    char *err = hp_test_server_stderr(&f->srv);
    assert_non_null(strstr(err, "pool.yaml:3:13: servers[0].listen: port 99999 out of range"));
    free(err);
    hp_test_assert_answers(f->port_a, NULL, "a");
    hp_test_assert_answers(f->port_b, NULL, "b3");
    hp_test_assert_answers(f->port_c, NULL, "c");
    hp_test_assert_answers(f->port_d, NULL, "d");
}

static void a_key_the_running_pool_cannot_take_is_refused(void **state)
{
    fixture *f = *state;
    write_config(f, "b4", true, true, "workers: 3\nports: { range: 24000-24010 }\n");
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_int_equal(hp_test_answer_error_details(&a), 2);
    assert_non_null(strstr(a.body, "workers: cannot change on a reload"));
    assert_non_null(strstr(a.body, "ports.range: cannot change on a reload"));
    hp_test_answer_free(&a);
    hp_test_assert_answers(f->port_b, NULL, "b3");
}

static void post_config_needs_the_running_etag_when_if_match_is_given(void **state)
{
    fixture *f = *state;
    hp_test_answer got = hp_test_admin_call(&f->admin, "GET", "/config", NULL, NULL);
    assert_int_equal(got.status, 200);
    assert_non_null(got.etag);
    assert_int_equal(json_array_size(json_object_get(got.json, "servers")), 4);
    json_t *doc = json_deep_copy(got.json);
    json_t *b_route = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "servers"), 1), "routes"), 0);
    json_object_set_new(json_object_get(b_route, "respond"), "body", json_string("b5"));
    char *text = json_dumps(doc, JSON_COMPACT);

    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/config",
                                          "If-Match: \"0000000000000000\"\r\n", text);
    assert_int_equal(a.status, 412);
    assert_string_equal(hp_test_answer_error_code(&a), "precondition_failed");
    hp_test_answer_free(&a);
    hp_test_assert_answers(f->port_b, NULL, "b3");

    char if_match[128];
    snprintf(if_match, sizeof if_match, "If-Match: %s\r\n", got.etag);
    a = hp_test_admin_call(&f->admin, "POST", "/config", if_match, text);
    assert_reload_result(&a, 3, "b", "", "");
    assert_non_null(a.etag);
    assert_string_not_equal(a.etag, got.etag);
    hp_test_assert_answers(f->port_b, NULL, "b5");
    hp_test_answer again = hp_test_admin_call(&f->admin, "GET", "/config", NULL, NULL);
    assert_string_equal(again.etag, a.etag);
    assert_true(json_equal(again.json, doc));
    hp_test_answer_free(&again);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&f->admin, "POST", "/config", if_match, text); /* now stale */
    assert_int_equal(a.status, 412);
    hp_test_answer_free(&a);
    free(text);
    json_decref(doc);
    hp_test_answer_free(&got);
}

static void post_config_lists_every_error_of_a_bad_document(void **state)
{
    fixture *f = *state;
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/config", NULL,
                                          "{\"servers\":[{\"name\":\"a\",\"listen\":\"nowhere\"}],"
                                          "\"bogus\":1}");
    assert_int_equal(a.status, 400);
    assert_int_equal(hp_test_answer_error_details(&a), 2); /* listen, bogus */
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&f->admin, "POST", "/config", NULL, "not json");
    assert_int_equal(a.status, 400);
    hp_test_answer_free(&a);
    hp_test_assert_answers(f->port_a, NULL, "a");
    hp_test_assert_answers(f->port_d, NULL, "d");
}

static void api_changes_show_in_the_running_config(void **state)
{
    fixture *f = *state;
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"e\",\"listen\":\"127.0.0.1:%d\",\"routes\":[{\"respond\":{}}]}", port);
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/servers", NULL, body);
    assert_int_equal(a.status, 201);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&f->admin, "GET", "/config", NULL, NULL);
    json_t *last = json_array_get(json_object_get(a.json, "servers"), 4);
    assert_string_equal(json_string_value(json_object_get(last, "name")), "e");
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&f->admin, "DELETE", "/servers/d", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    a = hp_test_admin_call(&f->admin, "GET", "/config", NULL, NULL);
    assert_null(strstr(a.body, "\"name\":\"d\""));
    hp_test_answer_free(&a);
    /* The file is the source of POST /reload: what only the API made goes, what it removed
     * comes back. */
    write_config(f, "b3", true, true, "");
    a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
    assert_reload_result(&a, 2, "b", "d", "e");
    hp_test_answer_free(&a);
    hp_test_assert_refuses(port);
}

/* ---- a reload asked for while one drains ---- */

typedef struct answer_wait {
    int port;
    const char *want;
} answer_wait;

static bool port_answers(void *data)
{
    const answer_wait *w = data;
    hp_test_response r;
    if (hp_test_exchange(w->port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS) != HP_TEST_OK) return false;
    bool yes = strcmp(r.body, w->want) == 0;
    hp_test_response_free(&r);
    return yes;
}

static void await_answer(int port, const char *want)
{
    answer_wait w = {port, want};
    assert_true(hp_test_poll_until(port_answers, &w, HP_TEST_DEADLINE_MS));
}

/* A connection to `port` whose second request is half sent and read by the server: the
 * version that took it cannot finish draining until the test sends the rest. */
static void open_request_in_flight(hp_test_conn *c, int port, const char *first_answer)
{
    assert_int_equal(hp_test_connect(c, port, HP_TEST_DEADLINE_MS), 0);
    assert_connection_answers(c, first_answer);
    assert_int_equal(hp_test_send_str(c,
                                      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
                                      "hello",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_server_read_all(c, HP_TEST_DEADLINE_MS));
}

static void finish_request(hp_test_conn *c, const char *want)
{
    assert_int_equal(hp_test_send_str(c, "world", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(c, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(r.body, want);
    hp_test_response_free(&r);
}

/* The reload of b4 -> b7 waits for b's old version, busy with a request; meanwhile the file
 * says b8 and SIGHUP comes twice, and a POST /reload: when the drain ends the file is reloaded
 * once more, so the daemon ends on the file's last version (before, the SIGHUP was dropped
 * with "send SIGHUP again" and b stayed b7). */
static void a_sighup_during_a_draining_reload_is_applied_when_it_ends(void **state)
{
    fixture *f = *state;
    write_config(f, "b4", true, true, "");
    hp_test_answer a = hp_test_admin_call(&f->admin, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    hp_test_conn busy, call;
    open_request_in_flight(&busy, f->port_b, "b4");
    write_config(f, "b7", true, true, "");
    assert_int_equal(hp_test_server_signal(&f->srv, SIGHUP), 0);
    await_answer(f->port_b, "b7"); /* replaced; the reload waits for b4's drain */

    write_config(f, "b8", true, true, "");
    stderr_wait queued = {&f->srv,
                          "hostpool: Hangup: a reload is under way; the config is "
                          "reloaded again when it is done",
                          1};
    assert_int_equal(hp_test_server_signal(&f->srv, SIGHUP), 0);
    assert_true(hp_test_poll_until(stderr_has, &queued, HP_TEST_DEADLINE_MS));
    queued.count = 2;
    assert_int_equal(hp_test_server_signal(&f->srv, SIGHUP), 0); /* the same queued reload */
    assert_true(hp_test_poll_until(stderr_has, &queued, HP_TEST_DEADLINE_MS));
    static const char post[] = "POST /reload HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(hp_test_connect_unix(&call, f->admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&call, post, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_assert_answers(f->port_b, NULL, "b7"); /* nothing more before the drain ends */

    finish_request(&busy, "b4"); /* on the version that took it */
    hp_test_close(&busy);
    await_answer(f->port_b, "b8");
    hp_test_response r; /* the POST /reload waited too, and was done with the file's b8 */
    assert_int_equal(hp_test_read_response(&call, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"failed\":[]"));
    hp_test_response_free(&r);
    hp_test_close(&call);
    /* two reloads by SIGHUP: b4 -> b7, then the queued one b7 -> b8, and no third */
    stderr_wait done = {&f->srv, "hostpool: reloaded: 3 unchanged; replaced b\n", 2};
    assert_true(hp_test_poll_until(stderr_has, &done, HP_TEST_DEADLINE_MS));
    done.count = 3;
    assert_false(stderr_has(&done));
    hp_test_assert_answers(f->port_a, NULL, "a");
    hp_test_assert_answers(f->port_c, NULL, "c");
    hp_test_assert_answers(f->port_d, NULL, "d");
}

/* Without --admin, admin.listen is the file's, and a reload cannot move it: a change is refused
 * as the keys the pool cannot take are (before, the address in use silently replaced the
 * file's, and the daemon listened where the file no longer said). */
static void a_changed_admin_listen_in_the_file_is_refused_without_admin_option(void **state)
{
    fixture *f = *state;
    hp_test_server srv;
    hp_test_admin own = {.token = NULL};
    snprintf(own.socket_path, sizeof own.socket_path, "%s/own.sock", hp_test_temp_dir());
    char top[4400], config[4200];
    snprintf(top, sizeof top, "admin: { listen: \"unix:%s\" }\n", own.socket_path);
    write_config(f, "b9", false, false, top);
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    hp_test_server_stop(&f->srv, SIGTERM, HP_TEST_DEADLINE_MS); /* the fixture's, on a's port */
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, NULL), 0);
    snprintf(top, sizeof top, "admin: { listen: \"unix:%s/moved.sock\" }\n", hp_test_temp_dir());
    write_config(f, "b10", false, false, top);
    hp_test_answer a = hp_test_admin_call(&own, "POST", "/reload", NULL, NULL);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "admin.listen: cannot change on a reload"));
    hp_test_answer_free(&a);
    hp_test_assert_answers(f->port_b, NULL, "b9");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            sighup_replaces_the_changed_adds_the_new_drains_the_gone_and_leaves_the_rest),
        cmocka_unit_test(post_reload_reads_the_file_again_and_says_what_changed),
        cmocka_unit_test(a_broken_config_changes_nothing_and_every_error_is_named),
        cmocka_unit_test(a_key_the_running_pool_cannot_take_is_refused),
        cmocka_unit_test(post_config_needs_the_running_etag_when_if_match_is_given),
        cmocka_unit_test(post_config_lists_every_error_of_a_bad_document),
        cmocka_unit_test(api_changes_show_in_the_running_config),
        cmocka_unit_test(a_sighup_during_a_draining_reload_is_applied_when_it_ends),
        /* stops the fixture's daemon: last */
        cmocka_unit_test(a_changed_admin_listen_in_the_file_is_refused_without_admin_option),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
