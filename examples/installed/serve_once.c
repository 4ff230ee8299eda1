/* A program built against the INSTALLED libhostpool, as a user outside this tree builds one:
 *
 *     cc serve_once.c $(pkg-config --cflags --libs hostpool) -o serve_once
 *
 * (Makefile beside it; `make STATIC=1` links libhostpool.a with pkg-config --static). It runs
 * a pool of one server on a free loopback port, asks it for "/" from a thread of its own,
 * prints the answer and shuts the pool down: exit 0 only when the server answered 200 with its
 * greeting. ctest runs it after installing into a temporary prefix
 * (tests/install/installed_library_builds_and_serves_the_example.sh). */
#include <hostpool/hostpool.h>
#include <hostpool/pool.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GREETING "hello from the installed libhostpool\n"

static void greet(hp_request *req, void *data)
{
    hp_response_header(req, "Content-Type", 12, "text/plain", 10);
    hp_respond(req, 200, GREETING, sizeof GREETING - 1);
}

/* The client's side: one request on its own connection, the whole answer read. */
typedef struct client {
    int port;
    char answer[1024];
    uv_async_t done; /* wakes the pool's loop when the answer is in */
} client;

static void *ask(void *data)
{
    client *c = data;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1)) {
        size_t len = 0;
        ssize_t n;
        while (len < sizeof c->answer - 1 &&
               (n = read(fd, c->answer + len, sizeof c->answer - 1 - len)) > 0)
            len += (size_t)n;
    }
    if (fd >= 0) close(fd);
    uv_async_send(&c->done);
    return NULL;
}

static void on_answered(uv_async_t *async)
{
    uv_close((uv_handle_t *)async, NULL);
    hp_pool_shutdown(async->data, NULL, NULL);
}

/* One server, "hello", on 127.0.0.1 and a port the kernel picks; its port, or -1. */
static int start_server(hp_pool *pool)
{
    const char *listen = "127.0.0.1:0";
    hp_route_config route = {.handler = hp_callback_handler_create(greet, NULL)};
    hp_server_config config = {
        .name = "hello", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&config.limits);
    char err[256];
    hp_server_info info;
    if (hp_pool_add(pool, &config, err, sizeof err) != 0) {
        hp_handler_destroy(route.handler);
        fprintf(stderr, "serve_once: %s\n", err);
        return -1;
    }
    if (hp_pool_start(pool, "hello", err, sizeof err) != 0 ||
        hp_pool_info(pool, "hello", &info) != 0) {
        fprintf(stderr, "serve_once: %s\n", err);
        return -1;
    }
    return hp_pool_bound_port(pool, info.server, 0);
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    hp_pool_options options = {.workers = 1};
    hp_pool *pool;
    if (hp_pool_create(loop, &options, &pool) != 0) return 1;
    client c = {.port = start_server(pool)};
    pthread_t thread;
    bool asked = c.port > 0 && uv_async_init(loop, &c.done, on_answered) == 0;
    if (asked) {
        c.done.data = pool;
        asked = pthread_create(&thread, NULL, ask, &c) == 0;
    }
    if (!asked) hp_pool_shutdown(pool, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (asked) pthread_join(thread, NULL);
    hp_pool_destroy(pool);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    fputs(c.answer, stdout);
    bool ok = strncmp(c.answer, "HTTP/1.1 200 ", 13) == 0 && strstr(c.answer, "\r\n\r\n" GREETING);
    return ok ? 0 : 1;
}
