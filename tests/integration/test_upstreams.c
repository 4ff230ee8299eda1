/* Named upstreams: the registry (src/upstream/upstreams.c) in-process, and through the daemon
 * its admin endpoints, events, metrics, reload and `hostpool upstreams`.
 *
 * In-process, on a loop of the test's own: put, replace (the old version stays usable for a
 * holder), remove, the generation that workers watch and their requests see; active health
 * checks against a `hostpool respond` backend that is killed and started again take its
 * target out and back, published as upstream.target_down then upstream.target_up; the pool's
 * metrics. Through `hostpool run`: GET /upstreams and /upstreams/{name} (figures, health,
 * settings; 404), PUT (replace, add, 400 listing every error; GET /config keeps it), a
 * transition on an events stream, a proxy route that follows its upstream to what a PUT gives,
 * a reload that changes and drops upstreams, the metrics families, the command's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "core/events.h"
#include "handlers/proxy.h"
#include "hostpool/errors.h"
#include "hostpool/hostpool.h"
#include "hp_test_admin.h"
#include "script_backend.h"
#include "pool/pool_internal.h"
#include "io/socket.h"
#include "io/worker_context.h"
#include "io/uv_sched.h"
#include "upstream/upstreams.h"

#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

static void a_new_name_past_the_limit_is_refused_and_a_replace_is_not(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    for (int i = 0; i <= HP__UPSTREAMS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        model_of(&m, name, "127.0.0.1:9001", NULL);
        assert_int_equal(hp__upstreams_put(f.registry, &m), i < HP__UPSTREAMS_MAX ? 0 : HP_ELIMIT);
        hp__upstream_model_close(&m);
    }
    assert_int_equal(hp__upstreams_count(f.registry), HP__UPSTREAMS_MAX);
    assert_null(hp__upstreams_get(f.registry, "u1000"));
    model_of(&m, "u0", "127.0.0.1:9002", NULL);
    assert_int_equal(hp__upstreams_put(f.registry, &m), 0);
    hp__upstream_model_close(&m);
    assert_string_equal(first_target(hp__upstreams_get(f.registry, "u0")), "127.0.0.1:9002");
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

/* One request to the only target of `name`, failed, as a worker would report it. */
static void fail_one_request(hp__upstreams *r, const char *name)
{
    hp__upstream *u = hp__upstreams_acquire(r, name);
    hp__upstream_picker picker;
    hp__upstream_picker_init(&picker, u);
    hp__upstream_pick pick;
    assert_true(hp__upstream_pick_target(&picker, NULL, 0, 0, &pick));
    hp__upstream_report(&picker, &pick, HP__UPSTREAM_FAILURE);
    hp__upstream_picker_close(&picker);
    hp__upstream_unref(u);
}

static void a_passive_check_s_return_is_published_when_due_without_a_request(void **state)
{
    fixture f;
    fixture_open(&f);
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", NULL);
    m.passive.max_fails = 1;
    m.passive.fail_timeout_ms = 100;
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    fail_one_request(f.registry, "api");
    assert_true(run_until_events(&f, 1));
    assert_false(available(f.registry, "api", 0));
    int64_t down_at = hp_test_now_ms();
    assert_true(run_until_events(&f, 2)); /* the registry's timer, at fail_timeout */
    assert_true(hp_test_now_ms() - down_at >= 50);
    assert_true(available(f.registry, "api", 0));
    assert_string_equal(f.journal, "upstream.target_down api 127.0.0.1:9001 passive; "
                                   "upstream.target_up api 127.0.0.1:9001 passive; ");
    fixture_close(&f);
}

static void a_breaker_s_transitions_are_published_as_breaker_events(void **state)
{
    fixture f;
    fixture_open(&f);
    assert_int_equal(hp__events_subscribe(f.events, "breaker.*", record, &f, NULL), 0);
    hp__upstream_model m;
    model_of(&m, "api", "127.0.0.1:9001", NULL);
    m.passive.max_fails = 0;
    m.breaker_enabled = true;
    m.breaker.failures = 1;
    m.breaker.open_for_ms = 100;
    hp__upstreams_put(f.registry, &m);
    hp__upstream_model_close(&m);
    fail_one_request(f.registry, "api");
    assert_true(run_until_events(&f, 1));
    assert_true(run_until_events(&f, 2)); /* half-open at open_for, on the registry's timer */
    assert_string_equal(f.journal, "breaker.open api 127.0.0.1:9001 failures; "
                                   "breaker.half_open api 127.0.0.1:9001 open_for; ");
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

/* ---- a config's upstreams go into the pool ------------------------------------------------- */

static void a_config_added_to_a_pool_puts_its_upstreams(void **state)
{
    static const char text[] = "upstreams:\n"
                               "  - name: api\n"
                               "    targets: [127.0.0.1:9001, 127.0.0.1:9002]\n"
                               "servers:\n"
                               "  - name: site\n"
                               "    listen: 127.0.0.1:0\n"
                               "    routes: [ { proxy: { upstream: api } } ]\n";
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "add.yaml", text, sizeof text - 1), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/add.yaml", hp_test_temp_dir());
    hp_config *config;
    char *errors = NULL;
    assert_int_equal(hp_config_load_file(path, &config, &errors), 0);
    free(errors);
    uv_loop_t loop;
    uv_loop_init(&loop);
    hp_pool *pool;
    hp_pool_options o = {.workers = 1};
    assert_int_equal(hp_pool_create(&loop, &o, &pool), 0);
    assert_int_equal(hp_pool_add_config(pool, config, NULL), 0);
    hp_config_destroy(config);
    hp__upstream *u = hp__upstreams_get(hp__pool_upstreams(pool), "api");
    assert_non_null(u);
    assert_int_equal(hp__upstream_model_of(u)->target_count, 2);
    assert_true(hp_pool_has(pool, "site"));

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

/* ---- a PUT while a request is in flight ---------------------------------------------------- */

/* A backend that reads a request and answers "old" once told to. */
typedef struct held_backend {
    hp_test_backend base; /* first (script_backend.h) */
    atomic_bool got_request, release;
} held_backend;

static void held_serve(hp_test_backend *base, int fd)
{
    held_backend *b = (held_backend *)base;
    char buf[4096];
    size_t head_len;
    if (hp_test_backend_read_head(base, fd, buf, sizeof buf, &head_len) < 0) return;
    atomic_store(&b->got_request, true);
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!atomic_load(&b->release) && hp_test_now_ms() < deadline) usleep(1000);
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nold";
    hp_test_send_all(fd, answer, sizeof answer - 1);
}

static bool held_got_request(void *b)
{
    return atomic_load(&((held_backend *)b)->got_request);
}

static void a_request_in_flight_during_a_put_finishes_on_the_old_targets(void **state)
{
    held_backend b = {0};
    hp_test_backend_start(&b.base, held_serve);
    hp_test_server fresh;
    assert_int_equal(hp_test_server_startl(&fresh, "respond", "--listen", HP_TEST_LISTEN, "--body",
                                           "new", "--no-access-log", NULL),
                     0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    hp_pool *pool;
    hp_pool_options o = {.workers = 1};
    assert_int_equal(hp_pool_create(&loop, &o, &pool), 0);
    char old_target[32], new_target[32];
    snprintf(old_target, sizeof old_target, "127.0.0.1:%d", b.base.port);
    snprintf(new_target, sizeof new_target, "127.0.0.1:%d", fresh.port);
    hp__upstream_model m;
    model_of(&m, "api", old_target, NULL);
    assert_int_equal(hp__upstreams_put(hp__pool_upstreams(pool), &m), 0);
    hp__upstream_model_close(&m);
    const char *listen = HP_TEST_LISTEN;
    hp_route_config route = {
        .handler = hp__proxy_handler_create_with(NULL, "api", HP_PROXY_HOST_KEEP, NULL, 0)};
    hp_server_config c = {
        .name = "site", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    assert_int_equal(hp_pool_add(pool, &c, err, sizeof err), 0);
    assert_int_equal(hp_pool_start(pool, "site", err, sizeof err), 0);
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "site", &info), 0);
    int port = hp_pool_bound_port(pool, info.server, 0);

    hp_test_conn in_flight;
    assert_int_equal(hp_test_connect(&in_flight, port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&in_flight, HP_TEST_GET, HP_TEST_DEADLINE_MS), 0);
    assert_true(hp_test_poll_until(held_got_request, &b, HP_TEST_DEADLINE_MS));
    model_of(&m, "api", new_target, NULL);
    assert_int_equal(hp__upstreams_put(hp__pool_upstreams(pool), &m), 0);
    hp__upstream_model_close(&m);
    expect_body(port, "new"); /* a new request goes to the new target at once */
    atomic_store(&b.release, true);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&in_flight, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "old"); /* the one in flight finished on the old */
    hp_test_response_free(&r);
    hp_test_close(&in_flight);
    hp_test_backend_stop(&b.base);

    bool stopped = false;
    hp_pool_shutdown(pool, on_pool_stopped, &stopped);
    while (!stopped) uv_run(&loop, UV_RUN_ONCE);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    hp_test_server_kill(&fresh);
}

/* ---- through the daemon ------------------------------------------------------------------- */

typedef struct daemon_fixture {
    hp_test_server srv;
    hp_test_admin admin;
    char config[4200];
    int backend_port, dead_port, other_port, site_port;
    char backend[32], dead[32], other[32]; /* their addresses */
} daemon_fixture;

static daemon_fixture d;

typedef hp_test_answer answer;

static answer call(const char *method, const char *path, const char *body)
{
    return hp_test_admin_call(&d.admin, method, path, NULL, body);
}

/* The config: two backend servers of the pool, `api` with the first and a port where nothing
 * listens (checked every 100 ms, judged on one result), `front` with the first, which the
 * server `site` proxies to; then `more` (YAML) at the end of `upstreams`. */
static void write_config(const char *api_targets, const char *more)
{
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: backend\n"
             "    listen: %s\n"
             "    routes: [ { respond: { body: backend } } ]\n"
             "  - name: other\n"
             "    listen: %s\n"
             "    routes: [ { respond: { body: other } } ]\n"
             "  - name: site\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { proxy: { upstream: front } } ]\n"
             "upstreams:\n"
             "  - name: api\n"
             "    targets: [%s]\n"
             "    health: { path: /health, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }\n"
             "  - name: front\n"
             "    targets: [%s]\n"
             "%s",
             d.backend, d.other, d.site_port, api_targets, d.backend, more);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
}

static const char static_upstream[] = "  - name: static\n"
                                      "    targets: [ { address: 127.0.0.1:9, weight: 3 } ]\n"
                                      "    breaker: { failures: 5 }\n";

static int start_daemon(void **state)
{
    d.backend_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    d.dead_port = hp_test_free_port_in(PORT_MIN, PORT_MAX); /* nothing listens there */
    d.other_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    d.site_port = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    snprintf(d.backend, sizeof d.backend, "127.0.0.1:%d", d.backend_port);
    snprintf(d.other, sizeof d.other, "127.0.0.1:%d", d.other_port);
    snprintf(d.dead, sizeof d.dead, "127.0.0.1:%d", d.dead_port);
    char targets[128];
    snprintf(targets, sizeof targets, "%s, %s", d.backend, d.dead);
    write_config(targets, static_upstream);
    snprintf(d.config, sizeof d.config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&d.srv, d.config, &d.admin), 0);
    return 0;
}

static int stop_daemon(void **state)
{
    assert_int_equal(hp_test_server_stop(&d.srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static json_t *target_of(const json_t *upstream, size_t i)
{
    return json_array_get(json_object_get(upstream, "targets"), i);
}

static const char *text_of(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

/* The names in a {"upstreams": [...]} answer, comma-separated. */
static void assert_upstream_names(const char *want)
{
    answer a = call("GET", "/upstreams", NULL);
    assert_int_equal(a.status, 200);
    char names[256] = "";
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(a.json, "upstreams"), i, u)
    {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? "," : "", text_of(u, "name"));
    }
    assert_string_equal(names, want);
    hp_test_answer_free(&a);
}

static void get_upstreams_lists_each_with_its_targets_and_no_settings(void **state)
{
    assert_upstream_names("api,front,static");
    answer a = call("GET", "/upstreams", NULL);
    json_t *api = json_array_get(json_object_get(a.json, "upstreams"), 0);
    assert_string_equal(text_of(api, "balance"), "round_robin");
    assert_int_equal(json_array_size(json_object_get(api, "targets")), 2);
    assert_string_equal(text_of(target_of(api, 0), "address"), d.backend);
    assert_string_equal(text_of(target_of(api, 1), "address"), d.dead);
    assert_null(json_object_get(api, "settings"));
    hp_test_answer_free(&a);
}

static bool dead_target_is_out(void *data)
{
    answer a = call("GET", "/upstreams/api", NULL);
    json_t *live = target_of(a.json, 0), *dead = target_of(a.json, 1);
    bool out = a.status == 200 && text_of(dead, "health") &&
               strcmp(text_of(dead, "health"), "ko") == 0 &&
               json_is_false(json_object_get(dead, "available")) &&
               strcmp(text_of(live, "health"), "ok") == 0;
    hp_test_answer_free(&a);
    return out;
}

static void get_one_upstream_shows_health_breaker_pool_and_settings(void **state)
{
    assert_true(hp_test_poll_until(dead_target_is_out, NULL, HP_TEST_DEADLINE_MS));
    answer a = call("GET", "/upstreams/api", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(text_of(a.json, "name"), "api");
    json_t *live = target_of(a.json, 0);
    assert_true(json_is_true(json_object_get(live, "available")));
    assert_string_equal(text_of(live, "passive"), "in");
    assert_string_equal(text_of(live, "breaker"), "off");
    assert_int_equal(json_integer_value(json_object_get(live, "weight")), 1);
    assert_int_equal(json_integer_value(json_object_get(live, "requests")), 0);
    json_t *pool = json_object_get(live, "pool");
    assert_true(json_is_integer(json_object_get(pool, "open")));
    assert_true(json_is_integer(json_object_get(pool, "waiting")));
    assert_int_equal(json_integer_value(json_object_get(a.json, "in_flight")), 0);
    assert_true(json_is_integer(json_object_get(a.json, "pending")));
    assert_true(json_is_integer(json_object_get(a.json, "transitions_lost")));
    json_t *settings = json_object_get(a.json, "settings");
    assert_true(json_is_object(settings));
    assert_non_null(json_object_get(settings, "health"));
    hp_test_answer_free(&a);

    a = call("GET", "/upstreams/static", NULL);
    json_t *only = target_of(a.json, 0);
    assert_string_equal(text_of(only, "health"), "off");
    assert_string_equal(text_of(only, "breaker"), "closed");
    assert_int_equal(json_integer_value(json_object_get(only, "weight")), 3);
    hp_test_answer_free(&a);
}

static void an_unknown_upstream_is_a_404(void **state)
{
    answer a = call("GET", "/upstreams/nope", NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(hp_test_answer_error_code(&a), "not_found");
    hp_test_answer_free(&a);
    a = call("DELETE", "/upstreams/api", NULL);
    assert_int_equal(a.status, 405);
    hp_test_answer_free(&a);
}

static void put_replaces_an_upstream_and_the_running_config_keeps_it(void **state)
{
    char body[256];
    snprintf(body, sizeof body, "{\"targets\":[\"%s\"],\"balance\":\"least_conn\"}", d.backend);
    answer a = call("PUT", "/upstreams/static", body);
    assert_int_equal(a.status, 200);
    assert_string_equal(text_of(a.json, "balance"), "least_conn");
    assert_string_equal(text_of(target_of(a.json, 0), "address"), d.backend);
    assert_string_equal(text_of(target_of(a.json, 0), "breaker"), "off");
    hp_test_answer_free(&a);

    a = call("GET", "/config", NULL);
    assert_int_equal(a.status, 200);
    json_t *list = json_object_get(a.json, "upstreams"), *u;
    size_t i;
    const char *balance = NULL;
    json_array_foreach(list, i, u) if (strcmp(text_of(u, "name"), "static") == 0) balance =
        text_of(u, "balance");
    assert_non_null(balance);
    assert_string_equal(balance, "least_conn");
    hp_test_answer_free(&a);
    assert_upstream_names("api,front,static");
}

static void put_of_a_new_name_adds_it(void **state)
{
    char body[256];
    snprintf(body, sizeof body, "{\"targets\":[\"%s\"]}", d.backend);
    answer a = call("PUT", "/upstreams/extra", body);
    assert_int_equal(a.status, 201);
    assert_string_equal(text_of(a.json, "name"), "extra");
    hp_test_answer_free(&a);
    assert_upstream_names("api,front,static,extra");
}

static void a_put_with_errors_lists_every_one_and_changes_nothing(void **state)
{
    answer a = call("PUT", "/upstreams/api", "{\"targets\":[\"nohost\"],\"balance\":\"sideways\"}");
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "invalid_upstream");
    assert_int_equal(hp_test_answer_error_details(&a), 2);
    hp_test_answer_free(&a);
    a = call("PUT", "/upstreams/api", "{\"targets\": [");
    assert_int_equal(a.status, 400);
    assert_string_equal(hp_test_answer_error_code(&a), "bad_json");
    hp_test_answer_free(&a);
    a = call("GET", "/upstreams/api", NULL);
    assert_string_equal(text_of(a.json, "balance"), "round_robin");
    assert_int_equal(json_array_size(json_object_get(a.json, "targets")), 2);
    hp_test_answer_free(&a);
}

static void metrics_have_a_sample_per_target(void **state)
{
    answer a = call("GET", "/metrics", NULL);
    assert_int_equal(a.status, 200);
    char line[256];
    snprintf(line, sizeof line,
             "hostpool_upstream_requests_total{upstream=\"api\",target=\"%s\"} 0", d.backend);
    assert_non_null(strstr(a.body, line));
    snprintf(line, sizeof line, "hostpool_upstream_available{upstream=\"api\",target=\"%s\"} 0",
             d.dead);
    assert_non_null(strstr(a.body, line));
    snprintf(line, sizeof line,
             "hostpool_upstream_connections{upstream=\"api\",target=\"%s\",state=\"idle\"} 0",
             d.backend);
    assert_non_null(strstr(a.body, line));
    assert_non_null(strstr(a.body, "# TYPE hostpool_upstream_failures_total counter"));
    assert_non_null(strstr(a.body, "# TYPE hostpool_upstream_breaker_state gauge"));
    assert_non_null(strstr(a.body, "# TYPE hostpool_upstream_waiting gauge"));
    hp_test_answer_free(&a);
}

static void the_upstreams_command_prints_a_row_per_target(void **state)
{
    char admin[4300];
    snprintf(admin, sizeof admin, "unix:%s", d.admin.socket_path);
    const char *argv[] = {hp_test_bin(), "upstreams", "--admin", admin, "api", NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_true(hp_test_matches(r.out, "^UPSTREAM +TARGET +AVAILABLE +HEALTH +BREAKER +REQUESTS "
                                       "+FAILURES +OPEN +IDLE +IN_USE +WAITING\n"));
    char row[256];
    snprintf(row, sizeof row, "\napi +%s +yes +ok +off +0 +0 +[0-9]+ +[0-9]+ +[0-9]+ +0\n",
             d.backend);
    assert_true(hp_test_matches(r.out, row));
    snprintf(row, sizeof row, "\napi +%s +no +ko +off +0 +0 ", d.dead);
    assert_true(hp_test_matches(r.out, row));
    hp_test_run_free(&r);

    const char *all[] = {hp_test_bin(), "upstreams", "--admin", admin, NULL};
    r = hp_test_run(all, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    assert_true(hp_test_matches(r.out, "\nstatic +"));
    hp_test_run_free(&r);

    const char *unknown[] = {hp_test_bin(), "upstreams", "--admin", admin, "nope", NULL};
    r = hp_test_run(unknown, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 1);
    hp_test_run_free(&r);
}

static void a_target_going_down_reaches_an_events_stream_with_upstream_and_target(void **state)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect_unix(&c, d.admin.socket_path, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(
        hp_test_send_str(&c, "GET /events?topic=upstream.* HTTP/1.1\r\nHost: admin\r\n\r\n",
                         HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&c, ": events matching ", HP_TEST_DEADLINE_MS));
    char body[256];
    snprintf(body, sizeof body,
             "{\"targets\":[\"%s\"],\"health\":{\"interval\":\"100ms\",\"timeout\":\"50ms\","
             "\"rise\":1,\"fall\":1}}",
             d.dead);
    answer a = call("PUT", "/upstreams/watched", body);
    assert_int_equal(a.status, 201);
    hp_test_answer_free(&a);
    char want[256];
    snprintf(want, sizeof want, "event: upstream.target_down\ndata: {\"seq\":");
    assert_true(hp_test_wait_for_text(&c, want, HP_TEST_DEADLINE_MS));
    snprintf(want, sizeof want, "\"message\":\"health\",");
    assert_true(hp_test_wait_for_text(&c, want, HP_TEST_DEADLINE_MS));
    snprintf(want, sizeof want, "\"upstream\":\"watched\",\"target\":\"%s\"}", d.dead);
    assert_true(hp_test_wait_for_text(&c, want, HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
}

static void expect_site_answer(const char *want)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(d.site_port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    hp_test_response_free(&r);
}

/* The kept-alive connection to `front`'s target shows in its pool figures: open and idle. */
static bool front_keeps_one_idle_connection(void *data)
{
    answer a = call("GET", "/upstreams/front", NULL);
    json_t *pool = json_object_get(target_of(a.json, 0), "pool");
    bool kept = json_integer_value(json_object_get(pool, "open")) == 1 &&
                json_integer_value(json_object_get(pool, "idle")) == 1 &&
                json_integer_value(json_object_get(pool, "in_use")) == 0;
    hp_test_answer_free(&a);
    return kept;
}

static void a_proxy_route_follows_its_upstream_to_the_targets_a_put_gives(void **state)
{
    expect_site_answer("backend");
    char body[128];
    snprintf(body, sizeof body, "{\"targets\":[\"%s\"]}", d.other);
    answer a = call("PUT", "/upstreams/front", body);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    expect_site_answer("other");
    expect_site_answer("other");
    a = call("GET", "/upstreams/front", NULL);
    assert_int_equal(json_integer_value(json_object_get(target_of(a.json, 0), "requests")), 2);
    hp_test_answer_free(&a);
    assert_true(hp_test_poll_until(front_keeps_one_idle_connection, NULL, HP_TEST_DEADLINE_MS));
}

/* Last: the file drops `static` (and `extra` and `watched`, which only the API added) and
 * changes `api`. */
static void a_reload_replaces_changed_upstreams_and_removes_dropped_ones(void **state)
{
    write_config(d.backend, "");
    answer a = call("POST", "/reload", NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    assert_upstream_names("api,front");
    a = call("GET", "/upstreams/api", NULL);
    assert_int_equal(json_array_size(json_object_get(a.json, "targets")), 1);
    assert_string_equal(text_of(target_of(a.json, 0), "address"), d.backend);
    hp_test_answer_free(&a);
}

int main(void)
{
    const struct CMUnitTest registry[] = {
        cmocka_unit_test(put_then_acquire_gives_the_version_and_bumps_the_generation),
        cmocka_unit_test(a_replaced_version_stays_usable_for_a_holder),
        cmocka_unit_test(remove_makes_the_name_unknown),
        cmocka_unit_test(a_model_without_name_or_targets_is_refused),
        cmocka_unit_test(a_new_name_past_the_limit_is_refused_and_a_replace_is_not),
        cmocka_unit_test(an_upstream_without_health_checks_reports_none),
        cmocka_unit_test(health_checks_take_a_dead_target_out_and_back_in_with_events),
        cmocka_unit_test(a_passive_check_s_return_is_published_when_due_without_a_request),
        cmocka_unit_test(a_breaker_s_transitions_are_published_as_breaker_events),
        cmocka_unit_test(the_pool_metrics_have_a_sample_per_target_of_each_upstream),
        cmocka_unit_test(a_worker_resolves_names_in_the_pool_s_registry),
        cmocka_unit_test(a_request_in_flight_during_a_put_finishes_on_the_old_targets),
        cmocka_unit_test(a_config_added_to_a_pool_puts_its_upstreams),
    };
    const struct CMUnitTest daemon[] = {
        cmocka_unit_test(get_upstreams_lists_each_with_its_targets_and_no_settings),
        cmocka_unit_test(get_one_upstream_shows_health_breaker_pool_and_settings),
        cmocka_unit_test(an_unknown_upstream_is_a_404),
        cmocka_unit_test(put_replaces_an_upstream_and_the_running_config_keeps_it),
        cmocka_unit_test(put_of_a_new_name_adds_it),
        cmocka_unit_test(a_put_with_errors_lists_every_one_and_changes_nothing),
        cmocka_unit_test(metrics_have_a_sample_per_target),
        cmocka_unit_test(the_upstreams_command_prints_a_row_per_target),
        cmocka_unit_test(a_target_going_down_reaches_an_events_stream_with_upstream_and_target),
        cmocka_unit_test(a_proxy_route_follows_its_upstream_to_the_targets_a_put_gives),
        cmocka_unit_test(a_reload_replaces_changed_upstreams_and_removes_dropped_ones),
    };
    int failed = cmocka_run_group_tests_name("registry", registry, NULL, NULL);
    return failed + cmocka_run_group_tests_name("daemon", daemon, start_daemon, stop_daemon);
}
