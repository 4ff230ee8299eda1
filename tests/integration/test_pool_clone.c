/* A pool's clone and merge with real listeners: a clone copies every server (hosts, routes,
 * methods, handlers of every kind, the default handler) stopped, takes its own automatic
 * ports and outlives its original; a merge replaces running servers in place, adds new ones
 * stopped, leaves the others alone and names every server it could not copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostpool/hostpool.h"
#include "hostpool/pool.h"
#include "hp_test.h"

#define PORT_MIN 23600
#define PORT_MAX 23699

static uv_loop_t loop;
static hp_pool *first, *second; /* second: the clone, or the pool merged from */
static int stopped;             /* pools shut down */
static int merges;              /* merge callbacks */
static hp_pool_result merged;   /* what the last merge reported (copied) */

static void count_stopped(hp_pool *p, void *data)
{
    stopped++;
}

static void run_until(int *counter, int target)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (*counter < target && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    assert_true(*counter >= target);
}

static hp_pool *new_pool(uint32_t max_servers, hp_handler *default_handler)
{
    hp_pool_options o = {.workers = 1,
                         .max_servers = max_servers,
                         .port_min = PORT_MIN,
                         .port_max = PORT_MAX,
                         .default_handler = default_handler};
    hp_pool *p;
    assert_int_equal(hp_pool_create(&loop, &o, &p), 0);
    return p;
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    first = second = NULL;
    stopped = merges = 0;
    memset(&merged, 0, sizeof merged);
    return 0;
}

/* Shuts `*p` down and frees it (a no-op for NULL). */
static void drop(hp_pool **p)
{
    if (!*p) return;
    int before = stopped;
    hp_pool_shutdown(*p, count_stopped, NULL);
    run_until(&stopped, before + 1);
    hp_pool_destroy(*p);
    *p = NULL;
}

static int teardown(void **state)
{
    drop(&first);
    drop(&second);
    hp_pool_result_free(&merged);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static hp_handler *respond(const char *body)
{
    static const char *const header[] = {"X-Copy", "yes"};
    return hp_respond_handler_create(200, body, strlen(body), header, 1);
}

/* Adds `name` on `listen` with `hosts` (NULL-ended, may be NULL) and the given routes. */
static int add(hp_pool *p, const char *name, const char *listen, const char *const *hosts,
               hp_route_config *routes, size_t route_count)
{
    size_t n = 0;
    while (hosts && hosts[n]) n++;
    hp_server_config c = {.name = name,
                          .listen = &listen,
                          .listen_count = 1,
                          .hosts = hosts,
                          .host_count = n,
                          .routes = routes,
                          .route_count = route_count};
    hp_limits_init(&c.limits);
    char err[256];
    int rc = hp_pool_add(p, &c, err, sizeof err);
    for (size_t i = 0; rc && i < route_count; i++) hp_handler_destroy(routes[i].handler);
    return rc;
}

static int add_respond(hp_pool *p, const char *name, const char *body)
{
    hp_route_config route = {.handler = respond(body)};
    return add(p, name, "auto", NULL, &route, 1);
}

static int port_of(hp_pool *p, const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(p, name, &info), 0);
    return hp_pool_bound_port(p, info.server, 0);
}

static hp_server_state state_of(hp_pool *p, const char *name)
{
    hp_server_info info;
    assert_int_equal(hp_pool_info(p, name, &info), 0);
    return info.state;
}

/* The response of `request` to `name` in `p` (free it). */
static hp_test_response ask(hp_pool *p, const char *name, const char *request)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port_of(p, name), request, &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    return r;
}

/* `body` NULL: any body. */
static void expect_body(hp_pool *p, const char *name, const char *request, int status,
                        const char *body)
{
    hp_test_response r = ask(p, name, request);
    assert_int_equal(r.status, status);
    if (body) assert_string_equal(r.body, body);
    hp_test_response_free(&r);
}

static void start_all(hp_pool *p)
{
    hp_pool_result r;
    hp_pool_start_all(p, &r);
    assert_int_equal(r.failed, 0);
    hp_pool_result_free(&r);
}

static bool append_name(const hp_server_info *info, void *data)
{
    strcat(data, info->name);
    strcat(data, info->state == HP_SERVER_STOPPED ? "(stopped) " : "(not stopped) ");
    return true;
}

#define POST_V1 "POST /v1 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 0\r\n\r\n"
#define GET_V1 "GET /v1 HTTP/1.1\r\nHost: api.test\r\n\r\n"
#define GET_OLD "GET /old/page?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"
#define GET_FILE "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"

/* Four servers of every kind of handler, started. */
static void make_first(void)
{
    char root[4200];
    snprintf(root, sizeof root, "%s/pool-clone", hp_test_temp_dir());
    assert_int_equal(hp_test_write_file(root, "hello.txt", "hello file\n", 11), 0);
    first = new_pool(10, respond("default"));
    static const char *const api_hosts[] = {"api.test", "*.api.test", NULL};
    static const char *const get_only[] = {"GET"};
    hp_route_config api = {
        .path_prefix = "/v1", .methods = get_only, .method_count = 1, .handler = respond("api")};
    assert_int_equal(add(first, "api", "127.0.0.1:auto", api_hosts, &api, 1), 0);
    hp_route_config moved = {.handler = hp_redirect_handler_create(301, "http://new.test", true)};
    assert_int_equal(add(first, "moved", "auto", NULL, &moved, 1), 0);
    int err = 0;
    hp_file_options fo = {.root = root};
    hp_route_config files = {.handler = hp_file_handler_create(&fo, &err)};
    assert_non_null(files.handler);
    assert_int_equal(add(first, "files", "auto", NULL, &files, 1), 0);
    assert_int_equal(add(first, "bare", "auto", NULL, NULL, 0), 0);
    start_all(first);
}

/* Every kind of server answers in `p` as it does in the original. */
static void expect_the_servers_of_first(hp_pool *p)
{
    expect_body(p, "api", GET_V1, 200, "api");
    expect_body(p, "api", POST_V1, 405, NULL); /* the route's methods were copied */
    hp_test_response r = ask(p, "api", GET_V1);
    assert_string_equal(hp_test_response_header(&r, "X-Copy"), "yes");
    hp_test_response_free(&r);
    r = ask(p, "moved", GET_OLD);
    assert_int_equal(r.status, 301);
    assert_string_equal(hp_test_response_header(&r, "Location"), "http://new.test/old/page?q=1");
    hp_test_response_free(&r);
    expect_body(p, "files", GET_FILE, 200, "hello file\n");
    expect_body(p, "bare", HP_TEST_GET, 200, "default");
}

static void a_clone_copies_every_server_stopped_and_runs_on_its_own_ports(void **state)
{
    make_first();
    hp_pool_result r;
    assert_int_equal(hp_pool_clone(first, &loop, &second, &r), 0);
    assert_int_equal(r.attempted, 4);
    assert_int_equal(r.failed, 0);
    hp_pool_result_free(&r);
    char seen[256] = "";
    hp_pool_walk(second, append_name, seen);
    assert_string_equal(seen, "api(stopped) moved(stopped) files(stopped) bare(stopped) ");
    hp_server_info info;
    assert_int_equal(hp_pool_info(second, "api", &info), 0);
    assert_int_equal(hp_server_host_count(info.server), 2);
    assert_string_equal(hp_server_host(info.server, 1), "*.api.test");
    assert_string_equal(hp_pool_find_by_host(second, "v2.api.test"), "api");

    start_all(second);
    const char *names[] = {"api", "moved", "files", "bare"};
    for (size_t i = 0; i < 4; i++) assert_int_not_equal(port_of(second, names[i]), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_not_equal(port_of(second, names[i]), port_of(first, names[i]));
    expect_the_servers_of_first(first);
    expect_the_servers_of_first(second);
}

static void a_clone_outlives_its_original(void **state)
{
    make_first();
    hp_pool_result r;
    assert_int_equal(hp_pool_clone(first, &loop, &second, &r), 0);
    hp_pool_result_free(&r);
    drop(&first); /* its handlers are gone: the clone's are its own */
    start_all(second);
    expect_the_servers_of_first(second);
}

static void keep_merge_result(hp_pool *p, const hp_pool_result *r, void *data)
{
    merged.attempted = r->attempted;
    for (size_t i = 0; i < r->failed; i++) {
        merged.failures = realloc(merged.failures, (merged.failed + 1) * sizeof *merged.failures);
        merged.failures[merged.failed].name = strdup(r->failures[i].name);
        merged.failures[merged.failed].error = strdup(r->failures[i].error);
        merged.failed++;
    }
    merges++;
}

static void a_merge_replaces_running_servers_in_place_and_adds_new_ones_stopped(void **state)
{
    first = new_pool(10, NULL);
    assert_int_equal(add_respond(first, "keep", "keep v1"), 0);
    assert_int_equal(add_respond(first, "web", "web v1"), 0);
    start_all(first);
    int web_port = port_of(first, "web");
    second = new_pool(10, NULL);
    assert_int_equal(add_respond(second, "web", "web v2"), 0);
    assert_int_equal(add_respond(second, "new", "new"), 0);

    hp_pool_merge(first, second, keep_merge_result, NULL);
    run_until(&merges, 1);
    assert_int_equal(merged.attempted, 2);
    assert_int_equal(merged.failed, 0);
    assert_int_equal(state_of(first, "web"), HP_SERVER_RUNNING);
    assert_int_equal(port_of(first, "web"), web_port); /* replaced in place */
    expect_body(first, "web", HP_TEST_GET, 200, "web v2");
    expect_body(first, "keep", HP_TEST_GET, 200, "keep v1");
    assert_int_equal(state_of(first, "new"), HP_SERVER_STOPPED);
    assert_int_equal(hp_pool_count(first), 3);
    /* The pool merged from is unchanged and serves its own version. */
    assert_int_equal(hp_pool_count(second), 2);
    start_all(second);
    expect_body(second, "web", HP_TEST_GET, 200, "web v2");
    assert_int_not_equal(port_of(second, "web"), web_port);
}

static void refuse(hp_handler *self, hp_request *req)
{
    hp_respond(req, 500, "", 0);
}

static void destroy_plain(hp_handler *self)
{
    free(self);
}

/* A handler of the embedding program's own that does not say how to clone itself. */
static const hp_handler_vtable uncloneable = {
    .name = "uncloneable",
    .on_request = refuse,
    .destroy = destroy_plain,
};

static void a_merge_names_every_server_it_could_not_copy_and_copies_the_rest(void **state)
{
    first = new_pool(3, NULL);
    assert_int_equal(add_respond(first, "a", "a"), 0);
    second = new_pool(10, NULL);
    assert_int_equal(add_respond(second, "b", "b"), 0);
    hp_handler *own = malloc(sizeof *own);
    own->vt = &uncloneable;
    hp_route_config route = {.handler = own};
    assert_int_equal(add(second, "mine", "auto", NULL, &route, 1), 0);
    assert_int_equal(add_respond(second, "c", "c"), 0);
    assert_int_equal(add_respond(second, "d", "d"), 0);

    hp_pool_merge(first, second, keep_merge_result, NULL);
    run_until(&merges, 1);
    assert_int_equal(merged.attempted, 4);
    assert_int_equal(merged.failed, 2);
    assert_string_equal(merged.failures[0].name, "mine");
    assert_non_null(strstr(merged.failures[0].error, "cannot be cloned"));
    assert_string_equal(merged.failures[1].name, "d");
    assert_non_null(strstr(merged.failures[1].error, "max_servers is 3"));
    assert_true(hp_pool_has(first, "b") && hp_pool_has(first, "c"));
    assert_false(hp_pool_has(first, "mine") || hp_pool_has(first, "d"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_clone_copies_every_server_stopped_and_runs_on_its_own_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(a_clone_outlives_its_original, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_merge_replaces_running_servers_in_place_and_adds_new_ones_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_merge_names_every_server_it_could_not_copy_and_copies_the_rest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
