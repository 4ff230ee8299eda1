/* The pool with real listeners, run in-process: servers start together, one stops or fails
 * alone while the others keep serving, automatic ports, limits, removal, and the events each
 * step publishes. The pool's control loop is this test's loop, run until a callback says an
 * asynchronous step finished (with a deadline); worker threads serve the sockets meanwhile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "hostpool/pool.h"
#include "hp_test.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT_MIN 23400
#define PORT_MAX 23499

static uv_loop_t loop;
static hp_pool *pool;
static char events[4096]; /* "topic:server " for every event, in order */
static int stream_ended;
static int callbacks;
static int pool_done;  /* the shutdown callback ran */
static int started_ok; /* get_or_create callbacks with status 0 */

static int record_event(const hp_event *ev, void *data)
{
    if (!ev) {
        stream_ended++;
        return 0;
    }
    size_t n = strlen(events);
    snprintf(events + n, sizeof events - n, "%s:%s ", ev->topic, ev->server ? ev->server : "-");
    return 0;
}

static void count_callback(hp_pool *p, const char *name, int status, void *data)
{
    callbacks++;
    *(int *)data = status;
}

/* Runs the control loop until `*counter` reaches `target` or the deadline passes. */
static void run_until(int *counter, int target)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (*counter < target && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    assert_true(*counter >= target);
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {
        .workers = 2, .max_servers = 4, .port_min = PORT_MIN, .port_max = PORT_MAX};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    events[0] = '\0';
    stream_ended = callbacks = pool_done = started_ok = 0;
    uint64_t id;
    return hp_pool_subscribe(pool, "**", record_event, NULL, &id);
}

static void own_stopped(hp_pool *p, void *data)
{
    (*(int *)data)++;
}

static void pool_stopped(hp_pool *p, void *data)
{
    pool_done++;
}

static int teardown(void **state)
{
    if (!pool_done) {
        hp_pool_shutdown(pool, pool_stopped, NULL);
        run_until(&pool_done, 1);
    }
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static int add_respond(const char *name, const char *listen, const char *body)
{
    hp_route_config route = {.handler =
                                 hp_respond_handler_create(200, body, strlen(body), NULL, 0)};
    hp_server_config c = {
        .name = name, .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    int rc = hp_pool_add(pool, &c, err, sizeof err);
    if (rc != 0) hp_handler_destroy(route.handler);
    return rc;
}

static int port_of(const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, name, &info), 0);
    return hp_pool_bound_port(pool, info.server, 0);
}

static void expect_answer(const char *name, const char *body)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port_of(name), HP_TEST_GET, &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_string_equal(r.body, body);
    hp_test_response_free(&r);
}

static void three_servers_serve_and_one_stops_alone(void **state)
{
    assert_int_equal(add_respond("a", "auto", "A"), 0);
    assert_int_equal(add_respond("b", "auto", "B"), 0);
    assert_int_equal(add_respond("c", "auto", "C"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    assert_int_equal(r.attempted, 3);
    assert_int_equal(r.failed, 0);
    hp_pool_result_free(&r);
    expect_answer("a", "A");
    expect_answer("b", "B");
    expect_answer("c", "C");
    int b_port = port_of("b"), status = -1;
    assert_int_equal(hp_pool_stop(pool, "b", count_callback, &status), 0);
    run_until(&callbacks, 1);
    assert_int_equal(status, 0);
    hp_test_conn probe;
    assert_int_not_equal(hp_test_connect(&probe, b_port, 500), HP_TEST_OK);
    expect_answer("a", "A");
    expect_answer("c", "C");
    assert_int_equal(hp_pool_restart(pool, "b", count_callback, &status), 0);
    run_until(&callbacks, 2);
    assert_int_equal(status, 0);
    assert_int_equal(port_of("b"), b_port); /* an automatic port stays with its server */
    expect_answer("b", "B");
    assert_true(hp_pool_is_running(pool));
    assert_non_null(strstr(events, "server.stopped:b server.started:b"));
}

/* What a batch callback was given (the result is the pool's until the callback returns). */
static struct {
    size_t attempted, failed;
    char failures[256]; /* "name: error" of each failure */
} batch_seen;

static void keep_result(hp_pool *p, const hp_pool_result *r, void *data)
{
    batch_seen.attempted = r->attempted;
    batch_seen.failed = r->failed;
    batch_seen.failures[0] = '\0';
    for (size_t i = 0; i < r->failed; i++)
        snprintf(batch_seen.failures + strlen(batch_seen.failures),
                 sizeof batch_seen.failures - strlen(batch_seen.failures), "%s: %s\n",
                 r->failures[i].name, r->failures[i].error);
    callbacks++;
}

static hp_server_state state_of(const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, name, &info), 0);
    return info.state;
}

static void restart_all_restarts_every_server_at_once_and_names_each_failure(void **state)
{
    int held_port;
    int holder = hp_test_hold_port(&held_port);
    assert_true(holder >= 0);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", held_port);
    assert_int_equal(add_respond("a", "auto", "A"), 0);
    assert_int_equal(add_respond("b", "auto", "B"), 0);
    assert_int_equal(add_respond("taken", taken, "T"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    assert_int_equal(r.failed, 1);
    hp_pool_result_free(&r);
    events[0] = '\0';

    hp_pool_restart_all(pool, keep_result, NULL);
    /* Both running servers drain at once, not one after the other. */
    assert_int_equal(state_of("a"), HP_SERVER_DRAINING);
    assert_int_equal(state_of("b"), HP_SERVER_DRAINING);
    run_until(&callbacks, 1);
    assert_int_equal(batch_seen.attempted, 3);
    assert_int_equal(batch_seen.failed, 1);
    assert_true(hp_test_matches(batch_seen.failures, "^taken: .*address already in use"));
    assert_int_equal(state_of("a"), HP_SERVER_RUNNING);
    assert_int_equal(state_of("b"), HP_SERVER_RUNNING);
    expect_answer("a", "A");
    expect_answer("b", "B");
    assert_non_null(strstr(events, "server.stopped:a server.started:a"));
    assert_non_null(strstr(events, "server.stopped:b server.started:b"));
    close(holder);
}

static void automatic_ports_come_from_the_range_in_order(void **state)
{
    assert_int_equal(add_respond("p1", "auto", "1"), 0);
    assert_int_equal(add_respond("p2", "127.0.0.1:auto", "2"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    hp_pool_result_free(&r);
    int p1 = port_of("p1"), p2 = port_of("p2");
    assert_true(p1 >= PORT_MIN && p1 <= PORT_MAX);
    assert_true(p2 > p1 && p2 <= PORT_MAX);
}

static void server_whose_port_is_taken_fails_alone(void **state)
{
    int held_port;
    int holder = hp_test_hold_port(&held_port);
    assert_true(holder >= 0);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", held_port);
    assert_int_equal(add_respond("taken", taken, "T"), 0);
    assert_int_equal(add_respond("fine", "auto", "F"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    assert_int_equal(r.attempted, 2);
    assert_int_equal(r.failed, 1);
    assert_string_equal(r.failures[0].name, "taken");
    assert_non_null(strstr(r.failures[0].error, "address already in use"));
    hp_pool_result_free(&r);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "taken", &info), 0);
    assert_int_equal(info.state, HP_SERVER_FAILED);
    assert_non_null(strstr(info.last_error, "address already in use"));
    expect_answer("fine", "F");
    assert_non_null(strstr(events, "server.failed:taken server.stopped:taken"));
    close(holder);
}

static void names_are_unique_and_max_servers_counts_every_server(void **state)
{
    assert_int_equal(add_respond("one", "auto", "1"), 0);
    assert_int_equal(add_respond("one", "auto", "1"), HP_EEXISTS);
    assert_int_equal(add_respond("two", "auto", "2"), 0);
    assert_int_equal(add_respond("three", "auto", "3"), 0);
    assert_int_equal(add_respond("four", "auto", "4"), 0);
    char err[256];
    hp_route_config route = {.handler = hp_respond_handler_create(200, "5", 1, NULL, 0)};
    const char *listen = "auto";
    hp_server_config c = {
        .name = "five", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    assert_int_equal(hp_pool_add(pool, &c, err, sizeof err), HP_ELIMIT);
    assert_non_null(strstr(err, "max_servers is 4"));
    hp_handler_destroy(route.handler);
    assert_int_equal(hp_pool_count(pool), 4);
}

static void an_invalid_config_adds_nothing_and_names_every_error(void **state)
{
    static const char *const methods[] = {"BREW"};
    static const char *const hosts[] = {"not a host"};
    hp_route_config route = {.methods = methods,
                             .method_count = 1,
                             .handler = hp_respond_handler_create(200, "x", 1, NULL, 0)};
    const char *listen = "auto";
    hp_server_config c = {.name = "bad",
                          .listen = &listen,
                          .listen_count = 1,
                          .hosts = hosts,
                          .host_count = 1,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    assert_int_equal(hp_pool_add(pool, &c, err, sizeof err), HP_ECONFIG);
    assert_non_null(strstr(err, "hosts[0]"));
    assert_non_null(strstr(err, "unknown method BREW"));
    assert_false(hp_pool_has(pool, "bad"));
    assert_int_equal(hp_pool_count(pool), 0);
    assert_null(strstr(events, "server.added"));
    hp_handler_destroy(route.handler); /* still ours after a failed add */
}

static void removing_a_running_server_drains_it_first(void **state)
{
    assert_int_equal(add_respond("gone", "auto", "G"), 0);
    assert_int_equal(hp_pool_start(pool, "gone", NULL, 0), 0);
    int port = port_of("gone"), status = -1;
    assert_int_equal(hp_pool_remove(pool, "gone", count_callback, &status), 0);
    assert_false(hp_pool_has(pool, "gone"));
    run_until(&callbacks, 1);
    assert_int_equal(status, 0);
    hp_test_conn probe;
    assert_int_not_equal(hp_test_connect(&probe, port, 500), HP_TEST_OK);
    assert_non_null(strstr(events, "server.stopped:gone server.removed:gone"));
}

static void shutdown_says_stopping_stops_every_server_then_ends_the_stream(void **state)
{
    assert_int_equal(add_respond("x", "auto", "X"), 0);
    assert_int_equal(add_respond("y", "auto", "Y"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    hp_pool_result_free(&r);
    hp_pool_shutdown(pool, pool_stopped, NULL);
    run_until(&pool_done, 1);
    assert_non_null(strstr(events, "server.stopped:x"));
    assert_non_null(strstr(events, "server.stopped:y"));
    const char *begin = strstr(events, "pool.stopping:-"), *end = strstr(events, "pool.stopped:-");
    assert_non_null(begin);
    assert_non_null(end);
    assert_true(begin < strstr(events, "server.stopped:x"));
    assert_true(end > strstr(events, "server.stopped:x") &&
                end > strstr(events, "server.stopped:y"));
    assert_int_equal(stream_ended, 1);
    assert_false(hp_pool_is_running(pool));
}

static int make_respond(hp_pool *p, const char *name, void *data)
{
    (*(int *)data)++;
    return add_respond(name, "auto", name);
}

static void count_started(hp_pool *p, const char *name, int status, void *data)
{
    started_ok += status == 0;
}

static void get_or_create_makes_one_server_for_100_callers(void **state)
{
    int made = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(
            hp_pool_get_or_create(pool, "app", make_respond, &made, count_started, NULL), 0);
    assert_int_equal(made, 1);
    assert_int_equal(started_ok, 100);
    assert_int_equal(hp_pool_count(pool), 1);
    expect_answer("app", "app");
    assert_string_equal(events, "server.added:app server.started:app ");
}

static void get_or_create_respects_max_servers(void **state)
{
    int made = 0;
    char name[16];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "app%d", i);
        assert_int_equal(hp_pool_get_or_create(pool, name, make_respond, &made, NULL, NULL), 0);
    }
    assert_int_equal(hp_pool_get_or_create(pool, "app4", make_respond, &made, count_started, NULL),
                     HP_ELIMIT);
    assert_int_equal(hp_pool_count(pool), 4);
    assert_non_null(strstr(events, "server.failed:-"));
}

static bool collect_name(const hp_server_info *info, void *data)
{
    strcat(data, info->name);
    strcat(data, " ");
    return strcmp(info->name, "m2") != 0; /* stops early after m2 */
}

static void lookups_by_bind_and_walks_over_names(void **state)
{
    assert_int_equal(add_respond("m1", "auto", "1"), 0);
    assert_int_equal(add_respond("m2", "auto", "2"), 0);
    assert_int_equal(add_respond("m3", "auto", "3"), 0);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "m2", &info), 0);
    assert_string_equal(hp_pool_find_by_bind(pool, hp_server_listen_address(info.server, 0)), "m2");
    assert_null(hp_pool_find_by_bind(pool, "127.0.0.1:1"));
    char seen[64] = "";
    hp_pool_walk(pool, collect_name, seen);
    assert_string_equal(seen, "m1 m2 ");
    seen[0] = '\0';
    const char *subset[] = {"m3", "nope", "m1"};
    hp_pool_walk_names(pool, subset, 3, collect_name, seen);
    assert_string_equal(seen, "m3 m1 ");
}

static bool is_ok(void *name)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    hp_server_info info;
    return hp_pool_info(pool, name, &info) == 0 && info.health == HP_HEALTH_OK;
}

static void running_servers_become_healthy_and_stopped_ones_are_ko(void **state)
{
    assert_int_equal(add_respond("h1", "auto", "1"), 0);
    assert_int_equal(add_respond("h2", "auto", "2"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    hp_pool_result_free(&r);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "h1", &info), 0);
    assert_true(info.health == HP_HEALTH_UNKNOWN || info.health == HP_HEALTH_OK);
    assert_true(hp_test_poll_until(is_ok, "h1", HP_TEST_DEADLINE_MS));
    assert_true(hp_test_poll_until(is_ok, "h2", HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_pool_health(pool), HP_HEALTH_OK);
    assert_non_null(strstr(events, "server.health:h1"));
    int status = -1;
    assert_int_equal(hp_pool_stop(pool, "h2", count_callback, &status), 0);
    run_until(&callbacks, 1);
    assert_int_equal(hp_pool_info(pool, "h2", &info), 0);
    assert_int_equal(info.health, HP_HEALTH_KO);
    assert_int_equal(hp_pool_health(pool), HP_HEALTH_OK); /* a stopped server is not counted */
}

static uint64_t uptime_of(const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, name, &info), 0);
    return info.uptime_ms;
}

static bool has_run_50_ms(void *name)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    return uptime_of(name) >= 50;
}

static void uptime_is_the_longest_running_servers_and_zero_when_none_runs(void **state)
{
    assert_int_equal(add_respond("u1", "auto", "1"), 0);
    assert_int_equal(add_respond("u2", "auto", "2"), 0);
    assert_false(hp_pool_is_running(pool));
    assert_int_equal(hp_pool_uptime_ms(pool), 0);
    assert_int_equal(hp_pool_start(pool, "u1", NULL, 0), 0);
    assert_true(hp_test_poll_until(has_run_50_ms, "u1", HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_pool_start(pool, "u2", NULL, 0), 0);
    assert_true(hp_pool_is_running(pool));
    uint64_t u1 = uptime_of("u1");
    assert_true(uptime_of("u2") < u1);
    assert_int_equal(hp_pool_uptime_ms(pool), u1);

    int status = -1;
    assert_int_equal(hp_pool_stop(pool, "u1", count_callback, &status), 0);
    run_until(&callbacks, 1);
    assert_int_equal(uptime_of("u1"), 0);
    assert_true(hp_pool_is_running(pool));
    assert_int_equal(hp_pool_uptime_ms(pool), uptime_of("u2"));

    assert_int_equal(hp_pool_stop(pool, "u2", count_callback, &status), 0);
    run_until(&callbacks, 2);
    assert_false(hp_pool_is_running(pool));
    assert_int_equal(hp_pool_uptime_ms(pool), 0);
}

static bool own_is_ok(void *arg)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    return hp_pool_health(arg) == HP_HEALTH_OK;
}

static void rise_from_the_options_decides_how_many_checks_make_a_server_ok(void **state)
{
    /* One check a minute: only with rise 1 can a server be OK within the test's deadline
     * (the first check comes at once, the next a minute later). */
    hp_pool *own;
    hp_pool_options o = {.workers = 1,
                         .port_min = PORT_MIN,
                         .port_max = PORT_MAX,
                         .health_interval_ms = 60 * 1000,
                         .health_rise = 1};
    assert_int_equal(hp_pool_create(&loop, &o, &own), 0);
    hp_route_config route = {.handler = hp_respond_handler_create(200, "x", 1, NULL, 0)};
    const char *listen = "auto";
    hp_server_config c = {
        .name = "quick", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    assert_int_equal(hp_pool_add(own, &c, NULL, 0), 0);
    assert_int_equal(hp_pool_start(own, "quick", NULL, 0), 0);
    bool ok = hp_test_poll_until(own_is_ok, own, HP_TEST_DEADLINE_MS);
    int done = 0;
    hp_pool_shutdown(own, own_stopped, &done);
    run_until(&done, 1);
    hp_pool_destroy(own);
    assert_true(ok); /* after the shutdown, so a failure leaves no pool running */
}

static void servers_without_routes_get_the_pool_default_handler(void **state)
{
    /* A pool of its own, made with a default handler. */
    hp_pool *own;
    hp_pool_options o = {.workers = 1,
                         .port_min = PORT_MIN,
                         .port_max = PORT_MAX,
                         .default_handler = hp_respond_handler_create(200, "default", 7, NULL, 0)};
    assert_int_equal(hp_pool_create(&loop, &o, &own), 0);
    const char *listen = "auto";
    hp_server_config bare = {.name = "bare", .listen = &listen, .listen_count = 1};
    hp_limits_init(&bare.limits);
    assert_int_equal(hp_pool_add(own, &bare, NULL, 0), 0);
    assert_int_equal(hp_pool_start(own, "bare", NULL, 0), 0);
    hp_server_info info;
    assert_int_equal(hp_pool_info(own, "bare", &info), 0);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(hp_pool_bound_port(own, info.server, 0), HP_TEST_GET, &r,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "default");
    hp_test_response_free(&r);
    int done = 0;
    hp_pool_shutdown(own, own_stopped, &done);
    run_until(&done, 1);
    hp_pool_destroy(own);
}

/* A client thread that sends requests on new connections until told to stop. */
typedef struct hammer {
    int port;
    atomic_int stop, ok, failed, saw_v2;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    while (!atomic_load(&h->stop)) {
        hp_test_response r;
        if (hp_test_exchange(h->port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS) != HP_TEST_OK ||
            r.status != 200) {
            atomic_fetch_add(&h->failed, 1);
            continue;
        }
        atomic_fetch_add(&h->ok, 1);
        if (strcmp(r.body, "v2") == 0) atomic_store(&h->saw_v2, 1);
        hp_test_response_free(&r);
    }
    return NULL;
}

static bool hammer_busy(void *arg)
{
    return atomic_load(&((hammer *)arg)->ok) > 200;
}

static bool hammer_saw_v2(void *arg)
{
    hammer *h = arg;
    return atomic_load(&h->saw_v2) && atomic_load(&h->ok) > 400;
}

static hp_server_config respond_config(const char *name, const char **listen, const char *body,
                                       hp_route_config *route)
{
    *route =
        (hp_route_config){.handler = hp_respond_handler_create(200, body, strlen(body), NULL, 0)};
    hp_server_config c = {
        .name = name, .listen = listen, .listen_count = 1, .routes = route, .route_count = 1};
    hp_limits_init(&c.limits);
    return c;
}

static void replacing_a_running_server_drops_no_request(void **state)
{
    assert_int_equal(add_respond("r", "auto", "v1"), 0);
    assert_int_equal(hp_pool_start(pool, "r", NULL, 0), 0);
    hammer h = {.port = port_of("r")};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hammer_run, &h), 0);
    assert_true(hp_test_poll_until(hammer_busy, &h, HP_TEST_DEADLINE_MS));
    const char *listen = "auto";
    hp_route_config route;
    hp_server_config c = respond_config("r", &listen, "v2", &route);
    int status = -1;
    assert_int_equal(hp_pool_replace(pool, &c, count_callback, &status, NULL, 0), 0);
    run_until(&callbacks, 1);
    assert_int_equal(status, 0);
    assert_true(hp_test_poll_until(hammer_saw_v2, &h, HP_TEST_DEADLINE_MS));
    atomic_store(&h.stop, 1);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&h.failed), 0);
    assert_int_equal(port_of("r"), h.port); /* the automatic port was kept */
    assert_non_null(strstr(events, "server.replaced:r"));
}

static bool hammers_busy_again(void *arg)
{
    hammer *h = arg; /* two of them */
    return atomic_load(&h[0].ok) > 400 && atomic_load(&h[1].ok) > 400;
}

static void stopping_and_restarting_one_server_fails_no_request_of_the_others(void **state)
{
    assert_int_equal(add_respond("a", "auto", "A"), 0);
    assert_int_equal(add_respond("b", "auto", "B"), 0);
    assert_int_equal(add_respond("c", "auto", "C"), 0);
    hp_pool_result r;
    hp_pool_start_all(pool, &r);
    assert_int_equal(r.failed, 0);
    hp_pool_result_free(&r);
    hammer h[2] = {{.port = port_of("a")}, {.port = port_of("c")}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
        assert_true(hp_test_poll_until(hammer_busy, &h[i], HP_TEST_DEADLINE_MS));
    }
    int status = -1;
    assert_int_equal(hp_pool_stop(pool, "b", count_callback, &status), 0);
    run_until(&callbacks, 1);
    assert_int_equal(hp_pool_restart(pool, "b", count_callback, &status), 0);
    run_until(&callbacks, 2);
    assert_int_equal(status, 0);
    assert_true(hp_test_poll_until(hammers_busy_again, h, HP_TEST_DEADLINE_MS));
    for (int i = 0; i < 2; i++) {
        atomic_store(&h[i].stop, 1);
        pthread_join(t[i], NULL);
        assert_int_equal(atomic_load(&h[i].failed), 0);
    }
    expect_answer("b", "B");
}

static void a_replace_that_cannot_bind_leaves_the_old_version_running(void **state)
{
    assert_int_equal(add_respond("s", "auto", "old"), 0);
    assert_int_equal(hp_pool_start(pool, "s", NULL, 0), 0);
    int held_port;
    int holder = hp_test_hold_port(&held_port);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", held_port);
    const char *listen = taken;
    hp_route_config route;
    hp_server_config c = respond_config("s", &listen, "new", &route);
    char err[256];
    assert_int_not_equal(hp_pool_replace(pool, &c, NULL, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, "address already in use"));
    hp_handler_destroy(route.handler); /* still ours after the failure */
    expect_answer("s", "old");
    close(holder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(three_servers_serve_and_one_stops_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(automatic_ports_come_from_the_range_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(server_whose_port_is_taken_fails_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(
            restart_all_restarts_every_server_at_once_and_names_each_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(names_are_unique_and_max_servers_counts_every_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_invalid_config_adds_nothing_and_names_every_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(removing_a_running_server_drains_it_first, setup, teardown),
        cmocka_unit_test_setup_teardown(
            shutdown_says_stopping_stops_every_server_then_ends_the_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(get_or_create_makes_one_server_for_100_callers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(get_or_create_respects_max_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(lookups_by_bind_and_walks_over_names, setup, teardown),
        cmocka_unit_test_setup_teardown(running_servers_become_healthy_and_stopped_ones_are_ko,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            uptime_is_the_longest_running_servers_and_zero_when_none_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(
            rise_from_the_options_decides_how_many_checks_make_a_server_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(servers_without_routes_get_the_pool_default_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(replacing_a_running_server_drops_no_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            stopping_and_restarting_one_server_fails_no_request_of_the_others, setup, teardown),
        cmocka_unit_test_setup_teardown(a_replace_that_cannot_bind_leaves_the_old_version_running,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
