/* The in-process engine of engine_fixture.h. */
#include "engine_fixture.h"

#include "common/alloc.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct engine_fixture {
    uv_loop_t loop;
    uv_async_t stop;
    uv_async_t replace;
    hp_engine *engine;
    hp_server *server;
    pthread_t thread;
    uint64_t drain_ms;
    uint64_t max_body_bytes;
    int port;
    hp_handler *replacement; /* handed to the control thread by engine_fixture_replace */
    uint64_t replace_drain_ms;
    bool shutting_down;
    atomic_bool replaced;
};

static void on_engine_stopped(hp_engine *engine, void *data)
{
    engine_fixture *f = data;
    uv_close((uv_handle_t *)&f->stop, NULL);
    uv_close((uv_handle_t *)&f->replace, NULL);
}

/* The server (a version of it): every route is `handler`, on an ephemeral loopback port. */
static hp_server *server_create(engine_fixture *f, hp_handler *handler)
{
    hp_route_config route = {.handler = handler};
    const char *listen = HP_TEST_LISTEN; /* a new version keeps the old one's port-0 socket */
    hp_server_config config = {.name = "fixture",
                               .listen = &listen,
                               .listen_count = 1,
                               .routes = &route,
                               .route_count = 1};
    hp_limits_init(&config.limits);
    if (f->max_body_bytes) config.limits.max_body_bytes = f->max_body_bytes;
    char err[256];
    hp_server *server;
    if (hp_server_create(&config, &server, err, sizeof err) != 0) {
        fprintf(stderr, "engine_fixture: %s\n", err);
        abort();
    }
    return server;
}

static void on_replaced(hp_engine *engine, hp_server *old, void *data)
{
    engine_fixture *f = data;
    hp_server_destroy(old);
    atomic_store(&f->replaced, true);
}

static void on_replace(uv_async_t *a)
{
    engine_fixture *f = a->data;
    hp_server *next = server_create(f, f->replacement);
    char err[256];
    if (hp_engine_replace_server(f->engine, f->server, next, f->replace_drain_ms, on_replaced, f,
                                 err, sizeof err) != 0) {
        fprintf(stderr, "engine_fixture: %s\n", err);
        abort();
    }
    f->server = next;
}

static void on_stop(uv_async_t *a)
{
    engine_fixture *f = a->data;
    hp_engine_shutdown(f->engine, f->drain_ms, on_engine_stopped, f);
}

static void *run_control_loop(void *arg)
{
    engine_fixture *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

engine_fixture *engine_fixture_start(hp_handler *handler, uint64_t max_body_bytes)
{
    engine_fixture *f = HP_NEW(engine_fixture);
    f->max_body_bytes = max_body_bytes;
    f->server = server_create(f, handler);
    char err[256] = "";
    hp_engine_options options = {.workers = 1};
    uv_loop_init(&f->loop);
    uv_async_init(&f->loop, &f->stop, on_stop);
    f->stop.data = f;
    uv_async_init(&f->loop, &f->replace, on_replace);
    f->replace.data = f;
    if (hp_engine_create(&f->loop, &options, &f->engine) != 0 ||
        hp_engine_start_server(f->engine, f->server, err, sizeof err) != 0 ||
        pthread_create(&f->thread, NULL, run_control_loop, f) != 0) {
        fprintf(stderr, "engine_fixture: %s\n", err);
        abort();
    }
    f->port = hp_engine_bound_port(f->engine, f->server, 0);
    return f;
}

int engine_fixture_port(const engine_fixture *f)
{
    return f->port;
}

void engine_fixture_replace(engine_fixture *f, hp_handler *handler, uint64_t drain_ms)
{
    f->replacement = handler;
    f->replace_drain_ms = drain_ms;
    uv_async_send(&f->replace);
}

bool engine_fixture_replaced(engine_fixture *f)
{
    return atomic_load(&f->replaced);
}

void engine_fixture_shutdown(engine_fixture *f, uint64_t drain_ms)
{
    if (f->shutting_down) return;
    f->shutting_down = true;
    f->drain_ms = drain_ms;
    uv_async_send(&f->stop);
}

void engine_fixture_stop(engine_fixture *f, uint64_t drain_ms)
{
    if (!f) return;
    engine_fixture_shutdown(f, drain_ms);
    pthread_join(f->thread, NULL);
    hp_engine_destroy(f->engine);
    hp_server_destroy(f->server);
    uv_loop_close(&f->loop);
    free(f);
}
