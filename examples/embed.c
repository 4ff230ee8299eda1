/* Embedding hostpool: a C program that runs a pool of three servers with its own request
 * callbacks, stops one while the others keep serving, and shuts the pool down.
 *
 * Build: it is built with the project (build/examples/embed). Run it; it prints each
 * server's URL, answers for a few seconds, then stops "clock" and later the whole pool.
 * Try: curl http://127.0.0.1:<port>/ while it runs. */
#include "hostpool/hostpool.h"
#include "hostpool/pool.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A handler callback: answers with a greeting that names the server (its `data`). The body
 * is built on the stack, so it is answered with hp_respond_copy. */
static void greet(hp_request *req, void *data)
{
    char body[128];
    int n = snprintf(body, sizeof body, "hello from %s, you asked for %.*s\n", (const char *)data,
                     (int)req->path.len, req->path.base);
    hp_response_header(req, "Content-Type", 12, "text/plain", 10);
    hp_respond_copy(req, 200, body, (size_t)n);
}

/* Another: the time of day. */
static void clock_now(hp_request *req, void *data)
{
    char body[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(body, sizeof body, "%H:%M:%S UTC\n", &tm);
    hp_respond_copy(req, 200, body, n);
}

static int add(hp_pool *pool, const char *name, hp_request_cb cb, void *data)
{
    hp_route_config route = {.handler = hp_callback_handler_create(cb, data)};
    const char *listen = "auto"; /* a free port from the pool's range */
    hp_server_config config = {
        .name = name, .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&config.limits);
    char err[256];
    int rc = hp_pool_add(pool, &config, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "embed: cannot add %s: %s\n", name, err);
        hp_handler_destroy(route.handler);
    }
    return rc;
}

static bool print_url(const hp_server_info *info, void *data)
{
    printf("embed: %s (%s) on http://%s/\n", info->name, hp_server_state_name(info->state),
           hp_server_listen_address(info->server, 0));
    return true;
}

static int print_event(const hp_event *ev, void *data)
{
    if (ev) printf("embed: event %s %s\n", ev->topic, ev->server ? ev->server : "");
    return 0;
}

static void on_pool_stopped(hp_pool *pool, void *data)
{
    printf("embed: pool stopped\n");
}

static void on_clock_stopped(hp_pool *pool, const char *name, int status, void *data)
{
    printf("embed: %s stopped; the others still serve\n", name);
}

static void step(uv_timer_t *timer)
{
    hp_pool *pool = timer->data;
    static int n;
    if (n++ == 0) {
        hp_pool_stop(pool, "clock", on_clock_stopped, NULL);
        uv_timer_start(timer, step, 2000, 0);
    } else {
        uv_close((uv_handle_t *)timer, NULL);
        hp_pool_shutdown(pool, on_pool_stopped, NULL);
    }
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    hp_pool_options options = {.workers = 2};
    hp_pool *pool;
    if (hp_pool_create(loop, &options, &pool) != 0) return 1;
    uint64_t subscription;
    hp_pool_subscribe(pool, "server.*", print_event, NULL, &subscription);
    if (add(pool, "hello", greet, "hello") || add(pool, "world", greet, "world") ||
        add(pool, "clock", clock_now, NULL))
        return 1;
    hp_pool_result result;
    hp_pool_start_all(pool, &result);
    for (size_t i = 0; i < result.failed; i++)
        fprintf(stderr, "embed: %s failed: %s\n", result.failures[i].name,
                result.failures[i].error);
    hp_pool_result_free(&result);
    hp_pool_walk(pool, print_url, NULL);
    fflush(stdout);

    uv_timer_t timer;
    uv_timer_init(loop, &timer);
    timer.data = pool;
    uv_timer_start(&timer, step, 3000, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    hp_pool_destroy(pool);
    uv_loop_close(loop);
    return 0;
}
