/* A handler kind of one's own: a C program registers `greet`, names it in a config file like
 * any built-in handler, and serves it.
 *
 *     routes:
 *       - match: { path: /hello }
 *         greet: { greeting: Hello, status: 200 }
 *
 * It registers the kind (hostpool/handler_kind.h), shows that a config that gets the kind's
 * settings wrong is refused with every error at its file:line:column (the format of
 * `hostpool validate`), loads a good config with hp_config_load_file (hostpool/config.h), adds
 * its servers to a pool, asks one request over loopback and checks the answer, then shuts
 * the pool down. It exits 0 when everything went as described, 1 otherwise: ctest runs it.
 *
 * Build: it is built with the project (build/examples/handler_kind). */
#include "hostpool/hostpool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- the handler: "<greeting>, you asked for <path>" ---------------------------------- */

typedef struct greet_handler {
    hp_handler base;
    int status;
    char *greeting;
} greet_handler;

static hp_handler *greet_handler_create(int status, const char *greeting);

static void greet_on_request(hp_handler *self, hp_request *req)
{
    greet_handler *h = (greet_handler *)self;
    char body[512];
    int n = snprintf(body, sizeof body, "%s, you asked for %.*s\n", h->greeting, (int)req->path.len,
                     req->path.base);
    hp_response_header(req, "Content-Type", 12, "text/plain", 10);
    hp_respond_copy(req, h->status, body, (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
}

static void greet_destroy(hp_handler *self)
{
    greet_handler *h = (greet_handler *)self;
    free(h->greeting);
    free(h);
}

static hp_handler *greet_clone(const hp_handler *self)
{
    const greet_handler *h = (const greet_handler *)self;
    return greet_handler_create(h->status, h->greeting);
}

static const hp_handler_vtable greet_vtable = {
    .name = "greet",
    .on_request = greet_on_request,
    .destroy = greet_destroy,
    .clone = greet_clone,
};

static hp_handler *greet_handler_create(int status, const char *greeting)
{
    greet_handler *h = calloc(1, sizeof *h);
    char *copy = strdup(greeting);
    if (!h || !copy) {
        free(h);
        free(copy);
        return NULL;
    }
    h->base.vt = &greet_vtable;
    h->status = status;
    h->greeting = copy;
    return &h->base;
}

/* ---- the kind: `greet: { greeting: TEXT, status: 200 }` -------------------------------- */

typedef struct greet_model {
    char *greeting;
    int status;
} greet_model;

/* Reads every setting through hp_config_*, which report each problem where it is written and
 * mark what they read, so the daemon's running config would be the checked form. */
static void *greet_check(hp_config_check *check, hp_config_node *settings)
{
    static const char *const keys[] = {"greeting", "status", NULL};
    greet_model *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->status = 200;
    if (!hp_config_expect_mapping(check, settings)) return m;
    hp_config_keys(check, settings, keys);
    hp_config_node *n = hp_config_get(settings, "greeting");
    const char *text;
    long long status;
    if (!n)
        hp_config_error(check, settings, "\"greeting\" is required");
    else if ((text = hp_config_string(check, n)) && !(m->greeting = strdup(text)))
        abort();
    if ((n = hp_config_get(settings, "status")) && hp_config_integer(check, n, 200, 599, &status))
        m->status = (int)status;
    return m;
}

static int greet_build(const void *model, hp_config_build *build, hp_handler **out)
{
    const greet_model *m = model;
    *out = greet_handler_create(m->status, m->greeting);
    return *out ? 0 : HP_EINVAL;
}

static void greet_free_model(void *model)
{
    greet_model *m = model;
    free(m->greeting);
    free(m);
}

static const hp_handler_kind greet_kind = {
    .key = "greet",
    .check = greet_check,
    .build = greet_build,
    .free_model = greet_free_model,
};

/* ---- the program -------------------------------------------------------------------------- */

static char dir[] = "/tmp/hostpool-handler-kind-XXXXXX";

static const char good_config[] = "servers:\n"
                                  "  - name: greeter\n"
                                  "    listen: 127.0.0.1:0\n" /* a port the kernel picks */
                                  "    routes:\n"
                                  "      - match: { path: /hello }\n"
                                  "        greet: { greeting: Hello, status: 200 }\n"
                                  "      - respond: { status: 404, body: \"no such page\\n\" }\n";

/* Two mistakes in the kind's settings, and a route with two handlers. */
static const char bad_config[] = "servers:\n"
                                 "  - name: greeter\n"
                                 "    listen: 127.0.0.1:0\n"
                                 "    routes:\n"
                                 "      - greet: { greeting: [Hello], stauts: 201 }\n"
                                 "        respond: {}\n";

static char *write_config(const char *name, const char *text)
{
    static char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) return NULL;
    return path;
}

static bool expect_errors(void)
{
    char *path = write_config("bad.yaml", bad_config), want[2048], *errors = NULL;
    hp_config *config = NULL;
    if (!path || hp_config_load_file(path, &config, &errors) != HP_ECONFIG) return false;
    snprintf(want, sizeof want,
             "%1$s:5:9: servers[0].routes[0]: exactly one of respond, file, redirect, metrics, "
             "health, proxy, websocket, greet is required\n"
             "%1$s:5:28: servers[0].routes[0].greet.greeting: expected a string, got a list\n"
             "%1$s:5:37: servers[0].routes[0].greet: unknown key \"stauts\" (did you mean "
             "\"status\"?)\n",
             path);
    printf("handler_kind: the bad config is refused:\n%s", errors);
    bool ok = errors && strcmp(errors, want) == 0;
    if (!ok) fprintf(stderr, "handler_kind: expected these errors:\n%s", want);
    free(errors);
    return ok;
}

/* One request over loopback, answered by a worker while this thread waits (the control loop
 * is not needed to serve it). The whole answer, or NULL. */
static char *ask(int port, const char *target)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval timeout = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char request[256], *answer = calloc(1, 4096);
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target);
    size_t used = 0;
    ssize_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, request, (size_t)n) == n)
        while (used < 4095 && (got = read(fd, answer + used, 4095 - used)) > 0) used += (size_t)got;
    close(fd);
    if (got < 0 || used == 0) {
        free(answer);
        return NULL;
    }
    return answer;
}

static bool serve_and_ask(hp_pool *pool)
{
    char *errors = NULL, *path = write_config("pool.yaml", good_config);
    hp_config *config = NULL;
    if (!path || hp_config_load_file(path, &config, &errors) != 0 ||
        hp_pool_add_config(pool, config, &errors) != 0) {
        fprintf(stderr, "handler_kind: %s", errors ? errors : "cannot write the config\n");
        free(errors);
        hp_config_destroy(config);
        return false;
    }
    hp_config_destroy(config); /* the pool's servers do not need it */
    hp_pool_result result;
    hp_pool_start_all(pool, &result);
    bool started = result.failed == 0;
    hp_pool_result_free(&result);
    hp_server_info info;
    if (!started || hp_pool_info(pool, "greeter", &info) != 0) return false;
    int port = hp_pool_bound_port(pool, info.server, 0);
    char *answer = ask(port, "/hello/world");
    printf("handler_kind: GET /hello/world on port %d:\n%s\n", port, answer ? answer : "(nothing)");
    const char *body = answer ? strstr(answer, "\r\n\r\n") : NULL;
    bool ok = body && strncmp(answer, "HTTP/1.1 200 ", 13) == 0 &&
              strcmp(body + 4, "Hello, you asked for /hello/world\n") == 0;
    free(answer);
    return ok;
}

static void on_pool_stopped(hp_pool *pool, void *data)
{
    printf("handler_kind: pool stopped\n");
}

int main(void)
{
    if (hp_handler_kind_register(&greet_kind) != 0 || !mkdtemp(dir)) return 1;
    bool ok = expect_errors();
    uv_loop_t *loop = uv_default_loop();
    hp_pool_options options = {.workers = 2};
    hp_pool *pool;
    if (hp_pool_create(loop, &options, &pool) != 0) return 1;
    ok = serve_and_ask(pool) && ok;
    hp_pool_shutdown(pool, on_pool_stopped, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    hp_pool_destroy(pool);
    uv_loop_close(loop);
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/pool.yaml", dir);
    unlink(path);
    rmdir(dir);
    printf("handler_kind: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
