/* The in-process engine of engine_fixture.h. */
#include "engine_fixture.h"

#include "common/alloc.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct engine_fixture {
    uv_loop_t loop;
    uv_async_t stop;
    hp_engine *engine;
    hp_server *server;
    pthread_t thread;
    uint64_t drain_ms;
    bool shutting_down;
};

static void on_engine_stopped(hp_engine *engine, void *data)
{
    engine_fixture *f = data;
    uv_close((uv_handle_t *)&f->stop, NULL);
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
    hp_route_config route = {.handler = handler};
    const char *listen = HP_TEST_LISTEN;
    hp_server_config config = {.name = "fixture",
                               .listen = &listen,
                               .listen_count = 1,
                               .routes = &route,
                               .route_count = 1};
    hp_limits_init(&config.limits);
    if (max_body_bytes) config.limits.max_body_bytes = max_body_bytes;
    char err[256];
    hp_engine_options options = {.workers = 1};
    if (hp_server_create(&config, &f->server, err, sizeof err) != 0) {
        free(f);
        return NULL;
    }
    uv_loop_init(&f->loop);
    uv_async_init(&f->loop, &f->stop, on_stop);
    f->stop.data = f;
    if (hp_engine_create(&f->loop, &options, &f->engine) != 0 ||
        hp_engine_start_server(f->engine, f->server, err, sizeof err) != 0 ||
        pthread_create(&f->thread, NULL, run_control_loop, f) != 0) {
        fprintf(stderr, "engine_fixture: %s\n", err);
        abort();
    }
    return f;
}

int engine_fixture_port(const engine_fixture *f)
{
    return hp_engine_bound_port(f->engine, f->server, 0);
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
