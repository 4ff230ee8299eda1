/* The redirect handler, run in-process by the real engine on an ephemeral port (no CLI command
 * exposes it yet): the Location it builds, the status it keeps, and its constructor's checks.
 * The control loop runs on its own thread; the test thread only talks HTTP to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/engine.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
    uv_loop_t loop;
    uv_async_t stop;
    hp_engine *engine;
    hp_server *server;
    pthread_t thread;
    int port;
} env;

static void on_stopped(hp_engine *engine, void *data)
{
    uv_close((uv_handle_t *)&env.stop, NULL);
}

static void on_stop(uv_async_t *async)
{
    hp_engine_shutdown(env.engine, 0, on_stopped, NULL);
}

static void *run_control_loop(void *arg)
{
    uv_run(&env.loop, UV_RUN_DEFAULT);
    return NULL;
}

static int start_engine(void **state)
{
    hp_route_config routes[] = {
        {.path_prefix = "/keep",
         .handler = hp_redirect_handler_create(308, "https://x.test", true)},
        {.path_prefix = "/fixed", .handler = hp_redirect_handler_create(302, "/elsewhere", false)},
        {.path_prefix = "/join",
         .handler = hp_redirect_handler_create(301, "https://x.test/base/", true)},
        {.handler = hp_redirect_handler_create(302, "/", true)},
    };
    const char *listen = HP_TEST_LISTEN;
    hp_server_config config = {.name = "redirect",
                               .listen = &listen,
                               .listen_count = 1,
                               .routes = routes,
                               .route_count = 4};
    hp_limits_init(&config.limits);
    char err[256];
    if (hp_server_create(&config, &env.server, err, sizeof err) != 0) return -1;
    uv_loop_init(&env.loop);
    uv_async_init(&env.loop, &env.stop, on_stop);
    hp_engine_options options = {.workers = 1};
    if (hp_engine_create(&env.loop, &options, &env.engine) != 0 ||
        hp_engine_start_server(env.engine, env.server, err, sizeof err) != 0)
        return -1;
    env.port = hp_engine_bound_port(env.engine, env.server, 0);
    return pthread_create(&env.thread, NULL, run_control_loop, NULL);
}

static int stop_engine(void **state)
{
    uv_async_send(&env.stop);
    pthread_join(env.thread, NULL);
    hp_engine_destroy(env.engine);
    hp_server_destroy(env.server);
    return uv_loop_close(&env.loop);
}

static void get(const char *request, hp_test_response *resp)
{
    assert_int_equal(hp_test_exchange(env.port, request, resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void keep_path_appends_the_path_and_the_query(void **state)
{
    hp_test_response r;
    get("GET /keep/a%20b?x=1&y=2 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 308);
    assert_string_equal(hp_test_response_header(&r, "Location"),
                        "https://x.test/keep/a%20b?x=1&y=2");
    hp_test_response_free(&r);
}

static void keep_path_without_query_adds_no_question_mark(void **state)
{
    hp_test_response r;
    get("GET /keep/p HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_string_equal(hp_test_response_header(&r, "Location"), "https://x.test/keep/p");
    hp_test_response_free(&r);
}

static void fixed_location_ignores_path_and_query_for_every_method(void **state)
{
    hp_test_response r;
    get("POST /fixed/deep?q=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r);
    assert_int_equal(r.status, 302);
    assert_string_equal(hp_test_response_header(&r, "Location"), "/elsewhere");
    assert_true(r.body_len > 0); /* a small body for clients that show it */
    hp_test_response_free(&r);
}

static void long_path_is_kept_whole(void **state)
{
    char request[6000], path[4097];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    snprintf(request, sizeof request, "GET /keep/%s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    hp_test_response r;
    get(request, &r);
    const char *location = hp_test_response_header(&r, "Location");
    assert_non_null(location);
    assert_int_equal(strlen(location), strlen("https://x.test/keep/") + strlen(path));
    hp_test_response_free(&r);
}

static void keep_path_after_a_location_ending_in_slash_adds_no_second_slash(void **state)
{
    hp_test_response r;
    get("GET /join/a?q HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(hp_test_response_header(&r, "Location"), "https://x.test/base/join/a?q");
    hp_test_response_free(&r);
}

/* "location: /" with keep_path: the Location is the request's normalized path, never the
 * protocol-relative "//foo" or "///evil.example/" that a browser reads as another host. */
static void keep_path_after_slash_never_starts_the_location_with_two_slashes(void **state)
{
    static const struct {
        const char *target, *location;
    } cases[] = {
        {"/foo", "/foo"},
        {"//evil.example/", "/evil.example/"},
        {"/\\evil.example", "/%5Cevil.example"},
        {"/%5cevil.example", "/%5Cevil.example"},
        {"/.//evil.example?x", "/evil.example?x"},
        {"http://t//evil.example", "/evil.example"},
        {"/", "/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char request[256];
        snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", cases[i].target);
        hp_test_response r;
        get(request, &r);
        assert_int_equal(r.status, 302);
        assert_string_equal(hp_test_response_header(&r, "Location"), cases[i].location);
        hp_test_response_free(&r);
    }
}

static void constructor_takes_only_redirect_statuses_and_a_location(void **state)
{
    static const int ok[] = {301, 302, 303, 307, 308};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hp_handler *h = hp_redirect_handler_create(ok[i], "/x", false);
        assert_non_null(h);
        hp_handler_destroy(h);
    }
    static const int bad[] = {200, 300, 304, 305, 306, 309, 404, 0, -301};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(hp_redirect_handler_create(bad[i], "/x", false));
    assert_null(hp_redirect_handler_create(301, NULL, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keep_path_appends_the_path_and_the_query),
        cmocka_unit_test(keep_path_without_query_adds_no_question_mark),
        cmocka_unit_test(fixed_location_ignores_path_and_query_for_every_method),
        cmocka_unit_test(long_path_is_kept_whole),
        cmocka_unit_test(keep_path_after_a_location_ending_in_slash_adds_no_second_slash),
        cmocka_unit_test(keep_path_after_slash_never_starts_the_location_with_two_slashes),
        cmocka_unit_test(constructor_takes_only_redirect_statuses_and_a_location),
    };
    return cmocka_run_group_tests(tests, start_engine, stop_engine);
}
