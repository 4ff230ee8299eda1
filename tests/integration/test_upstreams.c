/* Named upstreams: the registry (src/upstream/upstreams.c) in-process, on a loop of the
 * test's own: put, replace (the old version stays usable for a holder), remove, the
 * generation that workers watch; active health checks against a `hostpool respond` backend
 * that is killed and started again take its target out and back, published as
 * upstream.target_down then upstream.target_up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "core/events.h"
#include "hostpool/errors.h"
#include "hostpool/hostpool.h"
#include "hp_test.h"
#include "pool/pool_internal.h"
#include "io/socket.h"
#include "io/worker_context.h"
#include "io/uv_sched.h"
#include "upstream/upstreams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 25300
#define PORT_MAX 25349

/* ---- in-process: a registry on the test's loop ------------------------------------------- */

typedef struct fixture {
    uv_loop_t loop;
    hp__uv_sched sched;
    uv_timer_t alive; /* referenced: the registry's handles are not, and alone end uv_run */
    hp__events *events;
    hp__upstreams *registry;
    char journal[1024]; /* "topic target why; " per upstream event */
    int event_count;
} fixture;

static int record(const hp_event *ev, void *data)
{
    fixture *f = data;
    if (!ev) return 0;
    size_t used = strlen(f->journal);
    snprintf(f->journal + used, sizeof f->journal - used, "%s %s %s %s; ", ev->topic,
             ev->upstream ? ev->upstream : "-", ev->target ? ev->target : "-",
             ev->message ? ev->message : "-");
    f->event_count++;
    return 0;
}

static void on_alive(uv_timer_t *t) {}

static void fixture_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    hp__uv_sched_init(&f->sched, &f->loop);
    uv_timer_init(&f->loop, &f->alive);
    uv_timer_start(&f->alive, on_alive, 60000, 0);
    f->events = hp__events_create();
    assert_int_equal(hp__events_subscribe(f->events, "upstream.*", record, f, NULL), 0);
    f->registry = hp__upstreams_create(&f->loop, &f->sched.sched, f->events);
}

static void fixture_close(fixture *f)
{
    hp__upstreams_stop(f->registry);
    uv_close((uv_handle_t *)&f->alive, NULL);
    hp__uv_sched_close(&f->sched, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    hp__upstreams_destroy(f->registry);
    hp__events_destroy(f->events);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* A model named `name` with the targets given as addresses (NULL-terminated). */
static void model_of(hp__upstream_model *m, const char *name, ...)
{
    hp__upstream_model_init(m);
    m->name = hp__strdup(name);
    m->targets = hp__calloc(HP__UPSTREAM_MAX_TARGETS, sizeof *m->targets);
    va_list ap;
    va_start(ap, name);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        hp__upstream_target_model *t = &m->targets[m->target_count++];
        t->address = hp__strdup(a);
        assert_int_equal(hp__socket_parse_address(a, &t->addr), 0);
        t->weight = 1;
    }
    va_end(ap);
}

static const char *first_target(hp__upstream *u)
{
    return hp__upstream_model_of(u)->targets[0].address;
}

static void put_then_acquire_gives_the_version_and_bumps_the_generation(void **state)
{
    fixture f;
    fixture_open(&f);
    assert_null(hp__upstreams_acquire(f.registry, "api"));
    uint64_t g0 = hp__upstreams_generation(f.registry);
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", "127.0.0.1:9002", NULL);
    assert_int_equal(hp__upstreams_put(f.registry, &m), 0);
    hp__upstream_model_close(&m); /* the registry copied it */
    assert_true(hp__upstreams_generation(f.registry) > g0);
    hp__upstream *u = hp__upstreams_acquire(f.registry, "api");
    assert_non_null(u);
    assert_ptr_equal(u, hp__upstreams_get(f.registry, "api"));
    assert_int_equal(hp__upstream_model_of(u)->target_count, 2);
    assert_string_equal(first_target(u), "127.0.0.1:9001");
    assert_int_equal(hp__upstreams_count(f.registry), 1);
    hp__upstream_unref(u);
    fixture_close(&f);
}

static void a_replaced_version_stays_usable_for_a_holder(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", NULL);
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    hp__upstream *held = hp__upstreams_acquire(f.registry, "api"); /* a request in flight */
    uint64_t g1 = hp__upstreams_generation(f.registry);

    model_of(&m, "api", "127.0.0.1:9005", NULL);
    assert_int_equal(hp__upstreams_put(f.registry, &m), 0);
    hp__upstream_model_close(&m);
    assert_true(hp__upstreams_generation(f.registry) > g1);
    assert_int_equal(hp__upstreams_count(f.registry), 1);
    hp__upstream *now = hp__upstreams_acquire(f.registry, "api");
    assert_ptr_not_equal(now, held);
    assert_string_equal(first_target(now), "127.0.0.1:9005");
    /* The registry let go of the old version; the holder's reference keeps it whole. */
    assert_string_equal(first_target(held), "127.0.0.1:9001");
    hp__upstream_target_view v;
    hp__upstream_target_view_of(held, 0, &v);
    assert_true(v.available);
    hp__upstream_unref(held);
    hp__upstream_unref(now);
    fixture_close(&f);
}

static void remove_makes_the_name_unknown(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "a", "127.0.0.1:9001", NULL);
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    model_of(&m, "b", "127.0.0.1:9002", NULL);
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    uint64_t g = hp__upstreams_generation(f.registry);
    assert_int_equal(hp__upstreams_remove(f.registry, "a"), 0);
    assert_true(hp__upstreams_generation(f.registry) > g);
    assert_null(hp__upstreams_acquire(f.registry, "a"));
    assert_null(hp__upstreams_get(f.registry, "a"));
    assert_int_equal(hp__upstreams_remove(f.registry, "a"), HP_ENOTFOUND);
    assert_int_equal(hp__upstreams_count(f.registry), 1);
    hp__upstream *b = hp__upstreams_acquire(f.registry, "b");
    assert_non_null(b);
    hp__upstream_unref(b);
    fixture_close(&f);
}

static void a_model_without_name_or_targets_is_refused(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "api", NULL);
    assert_int_equal(hp__upstreams_put(f.registry, &m), HP_EINVAL);
    hp__upstream_model_close(&m);
    assert_int_equal(hp__upstreams_count(f.registry), 0);
    fixture_close(&f);
}

/* Runs the loop until `events` upstream events were recorded, within the test deadline. */
static bool run_until_events(fixture *f, int events)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (f->event_count < events && hp_test_now_ms() < deadline) uv_run(&f->loop, UV_RUN_ONCE);
    return f->event_count >= events;
}

static bool available(hp__upstreams *r, const char *name, size_t target)
{
    hp__upstream_target_view v;
    hp__upstream_target_view_of(hp__upstreams_get(r, name), target, &v);
    return v.available;
}

static void health_checks_take_a_dead_target_out_and_back_in_with_events(void **state)
{
    int port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    hp_test_server backend;
    assert_int_equal(
        hp_test_server_startl(&backend, "respond", "--listen", address, "--body", "ok", NULL), 0);

    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "api", address, NULL);
    m.health.enabled = true;
    free(m.health.path);
    m.health.path = hp__strdup("/health");
    m.health.interval_ms = 50;
    m.health.timeout_ms = 40;
    m.health.rise = 2;
    m.health.fall = 2;
    assert_int_equal(hp__upstreams_put(f.registry, &m), 0);
    hp__upstream_model_close(&m);

    /* Checked OK (two successes), no event: it was never out. */
    hp__health_state health = HP__HEALTH_UNKNOWN;
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (hp_test_now_ms() < deadline &&
           !(hp__upstreams_health(f.registry, "api", 0, &health) && health == HP__HEALTH_OK))
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(health, HP__HEALTH_OK);
    assert_true(available(f.registry, "api", 0));
    assert_int_equal(f.event_count, 0);

    hp_test_server_kill(&backend);
    assert_true(run_until_events(&f, 1));
    assert_false(available(f.registry, "api", 0));
    assert_true(hp__upstreams_health(f.registry, "api", 0, &health));
    assert_int_equal(health, HP__HEALTH_KO);

    assert_int_equal(
        hp_test_server_startl(&backend, "respond", "--listen", address, "--body", "ok", NULL), 0);
    assert_true(run_until_events(&f, 2));
    assert_true(available(f.registry, "api", 0));
    char want[256];
    snprintf(want, sizeof want,
             "upstream.target_down api %s health; upstream.target_up api %s health; ", address,
             address);
    assert_string_equal(f.journal, want);
    hp_test_server_kill(&backend);
    fixture_close(&f);
}

static void an_upstream_without_health_checks_reports_none(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", NULL);
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    hp__health_state health;
    assert_false(hp__upstreams_health(f.registry, "api", 0, &health));
    fixture_close(&f);
}

/* ---- the pool's metrics ------------------------------------------------------------------- */

static void on_pool_stopped(hp_pool *p, void *data)
{
    *(bool *)data = true;
}

static void the_pool_metrics_have_a_sample_per_target_of_each_upstream(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    hp_pool *pool;
    hp_pool_options o = {.workers = 1};
    assert_int_equal(hp_pool_create(&loop, &o, &pool), 0);
    size_t len;
    char *text = hp_pool_metrics_text(pool, &len);
    assert_null(strstr(text, "hostpool_upstream_")); /* no upstream: no family */
    free(text);

    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", "unix:/run/app.sock", NULL);
    m.breaker_enabled = true;
    assert_int_equal(hp__upstreams_put(hp__pool_upstreams(pool), &m), 0);
    hp__upstream_model_close(&m);
    text = hp_pool_metrics_text(pool, &len);
    static const char *const lines[] = {
        "# TYPE hostpool_upstream_requests_total counter\n"
        "hostpool_upstream_requests_total{upstream=\"api\",target=\"127.0.0.1:9001\"} 0\n"
        "hostpool_upstream_requests_total{upstream=\"api\",target=\"unix:/run/app.sock\"} 0\n",
        "# TYPE hostpool_upstream_failures_total counter\n"
        "hostpool_upstream_failures_total{upstream=\"api\",target=\"127.0.0.1:9001\"} 0\n",
        "# TYPE hostpool_upstream_available gauge\n"
        "hostpool_upstream_available{upstream=\"api\",target=\"127.0.0.1:9001\"} 1\n",
        "# TYPE hostpool_upstream_breaker_state gauge\n"
        "hostpool_upstream_breaker_state{upstream=\"api\",target=\"127.0.0.1:9001\"} 0\n",
        "# TYPE hostpool_upstream_connections gauge\n"
        "hostpool_upstream_connections{upstream=\"api\",target=\"127.0.0.1:9001\",state=\"open\"} "
        "0\n"
        "hostpool_upstream_connections{upstream=\"api\",target=\"127.0.0.1:9001\",state=\"idle\"} "
        "0\n"
        "hostpool_upstream_connections{upstream=\"api\",target=\"127.0.0.1:9001\",state=\"in_use\"}"
        " "
        "0\n",
        "# TYPE hostpool_upstream_waiting gauge\n"
        "hostpool_upstream_waiting{upstream=\"api\",target=\"127.0.0.1:9001\"} 0\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        if (!strstr(text, lines[i])) fail_msg("missing:\n%s\nin:\n%s", lines[i], text);
    }
    free(text);

    bool stopped = false;
    hp_pool_shutdown(pool, on_pool_stopped, &stopped);
    while (!stopped) uv_run(&loop, UV_RUN_ONCE);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- a worker reaches the pool's registry ------------------------------------------------- */

/* On a worker: the first target of the current version of "api", or "none". */
static void answer_api_target(hp_request *req, void *data)
{
    hp__upstreams *r = hp__worker_upstreams(hp_request_worker(req));
    hp__upstream *u = r ? hp__upstreams_acquire(r, "api") : NULL;
    const char *body = u ? first_target(u) : "none";
    hp_respond(req, 200, body, strlen(body));
    hp__upstream_unref(u);
}

static void expect_body(int port, const char *want)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(resp.body, want);
    hp_test_response_free(&resp);
}

static void a_worker_resolves_names_in_the_pool_s_registry(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    hp_pool *pool;
    hp_pool_options o = {.workers = 2};
    assert_int_equal(hp_pool_create(&loop, &o, &pool), 0);
    const char *listen = HP_TEST_LISTEN;
    hp_route_config route = {.handler = hp_callback_handler_create(answer_api_target, NULL)};
    hp_server_config c = {
        .name = "names", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    assert_int_equal(hp_pool_add(pool, &c, err, sizeof err), 0);
    assert_int_equal(hp_pool_start(pool, "names", err, sizeof err), 0);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "names", &info), 0);
    int port = hp_pool_bound_port(pool, info.server, 0);

    expect_body(port, "none");
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", NULL);
    hp__upstreams_put(hp__pool_upstreams(pool), &m);
    hp__upstream_model_close(&m);
    expect_body(port, "127.0.0.1:9001");
    model_of(&m, "api", "127.0.0.1:9002", NULL);
    hp__upstreams_put(hp__pool_upstreams(pool), &m);
    hp__upstream_model_close(&m);
    expect_body(port, "127.0.0.1:9002");
    hp__upstreams_remove(hp__pool_upstreams(pool), "api");
    expect_body(port, "none");

    bool stopped = false;
    hp_pool_shutdown(pool, on_pool_stopped, &stopped);
    while (!stopped) uv_run(&loop, UV_RUN_ONCE);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest registry[] = {
        cmocka_unit_test(put_then_acquire_gives_the_version_and_bumps_the_generation),
        cmocka_unit_test(a_replaced_version_stays_usable_for_a_holder),
        cmocka_unit_test(remove_makes_the_name_unknown),
        cmocka_unit_test(a_model_without_name_or_targets_is_refused),
        cmocka_unit_test(an_upstream_without_health_checks_reports_none),
        cmocka_unit_test(health_checks_take_a_dead_target_out_and_back_in_with_events),
        cmocka_unit_test(the_pool_metrics_have_a_sample_per_target_of_each_upstream),
        cmocka_unit_test(a_worker_resolves_names_in_the_pool_s_registry),
    };
    return cmocka_run_group_tests_name("registry", registry, NULL, NULL);
}
