/* A handler with per-worker state and a timer (include/hostpool/worker.h), run in-process on an
 * engine of two workers: its state is started on each worker a server using it is published
 * to, found from the request, ticked by a worker timer, drained, and stopped on the worker's
 * own thread before the engine's shutdown, a server's stop or a replace reports done (so the
 * handler can be destroyed then; ASan checks nothing is touched after, and nothing leaks).
 *
 * The handler opens a libuv timer of its own on the worker loop (a referenced handle, as a
 * pooled upstream socket would be) and closes it in worker_stop: without the stop, the worker's
 * loop could not end and the shutdown would never complete.
 *
 * The engine is driven from a control loop on its own thread; the test thread asks it to run a
 * function through an async handle and waits with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/hostpool.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 2
#define TICK_MS 5

/* ---- the handler under test, written with the public API only ------------------------------ */

typedef struct counting_handler {
    hp_handler base;
    atomic_int started, drained, stopped;
    atomic_int wrong_thread; /* a hook ran on a thread that is not its worker's */
    atomic_int missing_data; /* a request found no per-worker state */
} counting_handler;

typedef struct worker_state {
    counting_handler *handler;
    pthread_t thread;
    hp_timer tick;
    unsigned ticks;
    unsigned requests;
    uv_timer_t handle; /* opened on the worker loop, closed by worker_stop */
} worker_state;

static void on_tick(hp_timer *t)
{
    worker_state *st = t->data;
    st->ticks++;
    hp_timer_start(st->tick.worker, &st->tick, TICK_MS, on_tick);
}

static void on_handle(uv_timer_t *t) {}

static void *worker_start(hp_handler *self, hp_worker *worker)
{
    counting_handler *h = (counting_handler *)self;
    worker_state *st = calloc(1, sizeof *st);
    st->handler = h;
    st->thread = pthread_self();
    st->tick.data = st;
    hp_timer_start(worker, &st->tick, TICK_MS, on_tick);
    uv_timer_init(hp_worker_loop(worker), &st->handle);
    st->handle.data = st;
    uv_timer_start(&st->handle, on_handle, 60 * 1000, 60 * 1000);
    atomic_fetch_add(&h->started, 1);
    return st;
}

static void check_thread(counting_handler *h, const worker_state *st)
{
    if (!pthread_equal(st->thread, pthread_self())) atomic_store(&h->wrong_thread, 1);
}

static void worker_drain(hp_handler *self, hp_worker *worker, void *data)
{
    counting_handler *h = (counting_handler *)self;
    check_thread(h, data);
    atomic_fetch_add(&h->drained, 1);
}

/* The handle's close callback frees the state: it must not touch the handler, which may be
 * destroyed as soon as worker_stop returned. */
static void on_handle_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void worker_stop(hp_handler *self, hp_worker *worker, void *data)
{
    counting_handler *h = (counting_handler *)self;
    worker_state *st = data;
    check_thread(h, st);
    hp_timer_stop(&st->tick);
    uv_close((uv_handle_t *)&st->handle, on_handle_closed);
    atomic_fetch_add(&h->stopped, 1);
}

static void on_request(hp_handler *self, hp_request *req)
{
    counting_handler *h = (counting_handler *)self;
    hp_worker *worker = hp_request_worker(req);
    worker_state *st = hp_worker_data(worker, self);
    if (!st || hp_worker_index(worker) != req->worker) {
        atomic_store(&h->missing_data, 1);
        hp_respond_error(req, 500);
        return;
    }
    check_thread(h, st);
    char body[96];
    int n = snprintf(body, sizeof body, "requests=%u ticks=%u", ++st->requests, st->ticks);
    hp_respond_copy(req, 200, body, (size_t)n);
}

/* Counts survive the handler: the test reads them after destroy. */
static struct {
    atomic_int live_at_destroy; /* started - stopped when a handler was destroyed */
} destroyed;

static void destroy(hp_handler *self)
{
    counting_handler *h = (counting_handler *)self;
    atomic_fetch_add(&destroyed.live_at_destroy,
                     atomic_load(&h->started) - atomic_load(&h->stopped));
    free(h);
}

static const hp_handler_vtable counting_vtable = {
    .name = "counting",
    .on_request = on_request,
    .destroy = destroy,
    .worker_start = worker_start,
    .worker_drain = worker_drain,
    .worker_stop = worker_stop,
};

static counting_handler *counting_handler_create(void)
{
    counting_handler *h = calloc(1, sizeof *h);
    h->base.vt = &counting_vtable;
    return h;
}

/* ---- the engine on a control loop --------------------------------------------------------- */

typedef void (*control_fn)(void);

static struct {
    uv_loop_t loop;
    uv_async_t call;
    hp_engine *engine;
    pthread_t thread;
    _Atomic(control_fn) pending;
    atomic_int done;     /* the last call returned */
    atomic_int finished; /* the last stop or replace called back */
    atomic_int engine_stopped;
    hp_server *server, *other;
    counting_handler *handler, *other_handler;
    /* what the handler's counters were when the stop or replace called back */
    int started_then, stopped_then;
} env;

static void on_call(uv_async_t *a)
{
    control_fn fn = atomic_exchange(&env.pending, NULL);
    if (fn) fn();
    atomic_store(&env.done, 1);
}

static bool flag_set(void *flag)
{
    return atomic_load((atomic_int *)flag) != 0;
}

static void call(control_fn fn)
{
    atomic_store(&env.done, 0);
    atomic_store(&env.pending, fn);
    uv_async_send(&env.call);
    assert_true(hp_test_poll_until(flag_set, &env.done, HP_TEST_DEADLINE_MS));
}

static void *run_control_loop(void *arg)
{
    uv_run(&env.loop, UV_RUN_DEFAULT);
    return NULL;
}

/* A server on an ephemeral port whose one route is `route` (NULL: none, `fallback` answers). */
static hp_server *make_server(const char *name, hp_handler *route, hp_handler *fallback)
{
    hp_route_config r = {.handler = route};
    const char *listen = HP_TEST_LISTEN;
    hp_server_config config = {.name = name,
                               .listen = &listen,
                               .listen_count = 1,
                               .routes = route ? &r : NULL,
                               .route_count = route ? 1 : 0,
                               .fallback = fallback};
    hp_limits_init(&config.limits);
    config.limits.max_connections = 100;
    hp_server *s = NULL;
    assert_int_equal(hp_server_create(&config, &s, NULL, 0), 0);
    return s;
}

static int setup(void **state)
{
    memset(&env, 0, sizeof env);
    atomic_store(&destroyed.live_at_destroy, 0);
    uv_loop_init(&env.loop);
    uv_async_init(&env.loop, &env.call, on_call);
    hp_engine_options options = {.workers = WORKERS};
    if (hp_engine_create(&env.loop, &options, &env.engine) != 0) return -1;
    return pthread_create(&env.thread, NULL, run_control_loop, NULL);
}

static void on_engine_stopped(hp_engine *engine, void *data)
{
    atomic_store(&env.engine_stopped, 1);
    uv_close((uv_handle_t *)&env.call, NULL);
}

static void shutdown_engine(void)
{
    hp_engine_shutdown(env.engine, 0, on_engine_stopped, NULL);
}

/* Shuts the engine down (the servers still started are the engine's until then), then frees
 * everything. */
static int teardown(void **state)
{
    if (!atomic_load(&env.engine_stopped)) call(shutdown_engine);
    assert_true(hp_test_poll_until(flag_set, &env.engine_stopped, HP_TEST_DEADLINE_MS));
    pthread_join(env.thread, NULL);
    hp_engine_destroy(env.engine);
    hp_server_destroy(env.server);
    hp_server_destroy(env.other);
    uv_loop_close(&env.loop);
    return 0;
}

static void start_server(void)
{
    assert_int_equal(hp_engine_start_server(env.engine, env.server, NULL, 0), 0);
}

static void start_other(void)
{
    assert_int_equal(hp_engine_start_server(env.engine, env.other, NULL, 0), 0);
}

/* GET / on `port`: the body, which names the worker's request count and ticks (owned). */
static char *get(int port)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    char *body = strdup(r.body);
    hp_test_response_free(&r);
    return body;
}

typedef struct ticked_probe {
    int port;
} ticked_probe;

/* A request answered by a worker whose timer ticked already. */
static bool answer_shows_ticks(void *data)
{
    char *body = get(((ticked_probe *)data)->port);
    bool ticked = strstr(body, "ticks=0") == NULL;
    free(body);
    return ticked;
}

static void stopped_at_callback(hp_engine *engine, hp_server *server, void *data)
{
    counting_handler *h = data;
    env.started_then = atomic_load(&h->started);
    env.stopped_then = atomic_load(&h->stopped);
    atomic_store(&env.finished, 1);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void per_worker_state_and_its_timer_serve_requests_and_stop_at_shutdown(void **state)
{
    env.handler = counting_handler_create();
    env.server = make_server("counting", &env.handler->base, NULL);
    call(start_server);
    ticked_probe probe = {hp_engine_bound_port(env.engine, env.server, 0)};
    assert_true(hp_test_poll_until(answer_shows_ticks, &probe, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&env.handler->started), WORKERS); /* published to each */

    counting_handler *h = env.handler;
    call(shutdown_engine);
    assert_true(hp_test_poll_until(flag_set, &env.engine_stopped, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&h->stopped), WORKERS);
    assert_int_equal(atomic_load(&h->drained), WORKERS);
    assert_int_equal(atomic_load(&h->wrong_thread), 0);
    assert_int_equal(atomic_load(&h->missing_data), 0);
}

static void stop_server_now(void)
{
    assert_int_equal(
        hp_engine_stop_server(env.engine, env.server, 5000, stopped_at_callback, env.handler), 0);
}

static void stopping_a_server_stops_its_handler_on_every_worker_before_it_calls_back(void **state)
{
    env.handler = counting_handler_create();
    env.server = make_server("counting", &env.handler->base, NULL);
    call(start_server);
    ticked_probe probe = {hp_engine_bound_port(env.engine, env.server, 0)};
    assert_true(hp_test_poll_until(answer_shows_ticks, &probe, HP_TEST_DEADLINE_MS));

    call(stop_server_now);
    assert_true(hp_test_poll_until(flag_set, &env.finished, HP_TEST_DEADLINE_MS));
    assert_int_equal(env.started_then, WORKERS);
    assert_int_equal(env.stopped_then, WORKERS);
    assert_int_equal(atomic_load(&env.handler->drained), WORKERS);
    hp_server_destroy(env.server); /* the handler with it, while the workers run on */
    env.server = NULL;
    assert_int_equal(atomic_load(&destroyed.live_at_destroy), 0);
}

static void replace_now(void)
{
    assert_int_equal(hp_engine_replace_server(env.engine, env.server, env.other, 5000,
                                              stopped_at_callback, env.handler, NULL, 0),
                     0);
}

static void replacing_a_server_starts_the_new_handler_and_stops_the_old_one(void **state)
{
    env.handler = counting_handler_create();
    env.server = make_server("counting", &env.handler->base, NULL);
    call(start_server);
    int port = hp_engine_bound_port(env.engine, env.server, 0);
    ticked_probe probe = {port};
    assert_true(hp_test_poll_until(answer_shows_ticks, &probe, HP_TEST_DEADLINE_MS));

    env.other_handler = counting_handler_create();
    env.other = make_server("counting", &env.other_handler->base, NULL);
    call(replace_now);
    assert_true(hp_test_poll_until(flag_set, &env.finished, HP_TEST_DEADLINE_MS));
    assert_int_equal(env.started_then, WORKERS);
    assert_int_equal(env.stopped_then, WORKERS);
    assert_int_equal(atomic_load(&env.other_handler->started), WORKERS);
    assert_int_equal(atomic_load(&env.other_handler->stopped), 0);
    char *body = get(port); /* the same socket, now the new version's */
    assert_non_null(strstr(body, "requests=1 "));
    free(body);
    hp_server_destroy(env.server);
    env.server = env.other; /* torn down with the engine */
    env.other = NULL;
    assert_int_equal(atomic_load(&destroyed.live_at_destroy), 0);
}

static void stop_other_now(void)
{
    assert_int_equal(
        hp_engine_stop_server(env.engine, env.other, 5000, stopped_at_callback, env.handler), 0);
}

static void a_handler_shared_by_two_servers_stops_when_the_last_of_them_leaves(void **state)
{
    env.handler = counting_handler_create(); /* borrowed by both, as a pool's default handler */
    env.server = make_server("first", NULL, &env.handler->base);
    env.other = make_server("second", NULL, &env.handler->base);
    call(start_server);
    call(start_other);
    assert_int_equal(atomic_load(&env.handler->started), WORKERS); /* once per worker */
    char *body = get(hp_engine_bound_port(env.engine, env.other, 0));
    assert_non_null(strstr(body, "requests="));
    free(body);

    call(stop_other_now);
    assert_true(hp_test_poll_until(flag_set, &env.finished, HP_TEST_DEADLINE_MS));
    assert_int_equal(env.stopped_then, 0); /* the first server still uses it */
    body = get(hp_engine_bound_port(env.engine, env.server, 0));
    assert_non_null(strstr(body, "requests="));
    free(body);

    atomic_store(&env.finished, 0);
    call(stop_server_now);
    assert_true(hp_test_poll_until(flag_set, &env.finished, HP_TEST_DEADLINE_MS));
    assert_int_equal(env.started_then, WORKERS);
    assert_int_equal(env.stopped_then, WORKERS);
    hp_handler_destroy(&env.handler->base); /* the servers only borrowed it */
    assert_int_equal(atomic_load(&destroyed.live_at_destroy), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            per_worker_state_and_its_timer_serve_requests_and_stop_at_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(
            stopping_a_server_stops_its_handler_on_every_worker_before_it_calls_back, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            replacing_a_server_starts_the_new_handler_and_stops_the_old_one, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_handler_shared_by_two_servers_stops_when_the_last_of_them_leaves, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
