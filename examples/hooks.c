/* Request hooks (hostpool/hooks.h): a program that counts the requests of its pool by status.
 *
 * It runs one server on a free port of the pool's range with two workers, asks it for "/" ten
 * times and for "/missing" five times from a client thread of its own (127.0.0.1 only), shuts
 * the pool down and prints what its hooks saw:
 *
 *     hooks: 15 requests started, 15 ended: 10 x 200, 5 x 404; 0 with an error
 *
 * The hooks run on the workers, two at once here, so they count with atomics and do nothing
 * that could block. It exits 1 unless every request was heard of once at its start and once
 * at its end, with its status (ctest runs it). */
#include "hostpool/hostpool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROOT_REQUESTS 10
#define MISSING_REQUESTS 5

static atomic_uint started, ended, errors;
static atomic_uint by_status[600];

static void on_start(const hp_request *req, void *data)
{
    atomic_fetch_add(&started, 1);
}

static void on_end(const hp_request *req, const hp_request_end *end, void *data)
{
    atomic_fetch_add(&ended, 1);
    if (end->status >= 100 && end->status < 600) atomic_fetch_add(&by_status[end->status], 1);
    if (end->error) atomic_fetch_add(&errors, 1);
}

/* "/" answers 200, anything else 404. */
static void answer(hp_request *req, void *data)
{
    if (req->path.len == 1)
        hp_respond(req, 200, "hello\n", 6);
    else
        hp_respond(req, 404, "not here\n", 9);
}

/* One GET on a new connection; the response is read to its end (the server closes). */
static int get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    char request[128], buf[4096];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    if (write(fd, request, (size_t)n) != n) return -1;
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    return 0;
}

typedef struct client {
    int port;
    int failed;
    uv_async_t done; /* wakes the control loop to shut the pool down */
} client;

static void client_main(void *arg)
{
    client *c = arg;
    for (int i = 0; i < ROOT_REQUESTS + MISSING_REQUESTS; i++)
        c->failed |= get(c->port, i < ROOT_REQUESTS ? "/" : "/missing") != 0;
    uv_async_send(&c->done);
}

static void on_pool_stopped(hp_pool *pool, void *data) {}

static void on_client_done(uv_async_t *async)
{
    uv_close((uv_handle_t *)async, NULL);
    hp_pool_shutdown(async->data, on_pool_stopped, NULL);
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    hp_hooks hooks = {.request_start = on_start, .request_end = on_end};
    hp_pool_options options = {.workers = 2, .hooks = &hooks};
    hp_pool *pool;
    if (hp_pool_create(loop, &options, &pool) != 0) return 1;
    hp_route_config route = {.handler = hp_callback_handler_create(answer, NULL)};
    const char *listen = "auto";
    hp_server_config config = {.name = "counted",
                               .listen = &listen,
                               .listen_count = 1,
                               .routes = &route,
                               .route_count = 1};
    hp_limits_init(&config.limits);
    char err[256];
    if (hp_pool_add(pool, &config, err, sizeof err) != 0 ||
        hp_pool_start(pool, "counted", err, sizeof err) != 0) {
        fprintf(stderr, "hooks: %s\n", err);
        return 1;
    }
    hp_server_info info;
    hp_pool_info(pool, "counted", &info);
    client c = {.port = hp_pool_bound_port(pool, info.server, 0)};
    uv_async_init(loop, &c.done, on_client_done);
    c.done.data = pool;
    uv_thread_t thread;
    uv_thread_create(&thread, client_main, &c);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_thread_join(&thread);
    hp_pool_destroy(pool);
    uv_loop_close(loop);

    unsigned ok = atomic_load(&by_status[200]), missing = atomic_load(&by_status[404]);
    printf("hooks: %u requests started, %u ended: %u x 200, %u x 404; %u with an error\n",
           atomic_load(&started), atomic_load(&ended), ok, missing, atomic_load(&errors));
    const unsigned all = ROOT_REQUESTS + MISSING_REQUESTS;
    return !c.failed && atomic_load(&started) == all && atomic_load(&ended) == all &&
                   ok == ROOT_REQUESTS && missing == MISSING_REQUESTS && atomic_load(&errors) == 0
               ? 0
               : 1;
}
