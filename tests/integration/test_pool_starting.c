/* A server made on first use (hp_pool_get_or_create) is `starting` from the moment its maker
 * adds it until it runs or fails: its server.added subscribers see it so, in hp_pool_info and
 * in what GET /servers/{name} answers, and the operations that need a settled server refuse
 * it meanwhile. A server added directly is `stopped`; once get_or_create returned, the server
 * runs (or failed), as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "admin/admin_internal.h"
#include "hostpool/errors.h"
#include "hostpool/pool.h"
#include "hp_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PORT_MIN 23500
#define PORT_MAX 23549

static uv_loop_t loop;
static hp_pool *pool;
static int pool_done;
static char seen[1024]; /* what each server.added subscriber call saw, in order */
static char events[1024];
static const char *listen_address = "auto"; /* of the servers make_respond adds */

static void note(char *text, size_t cap, const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(text);
    snprintf(text + n, cap - n, fmt, a, b);
}

static int record_event(const hp_event *ev, void *data)
{
    if (ev) note(events, sizeof events, "%s:%s ", ev->topic, ev->server ? ev->server : "-");
    return 0;
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 1, .port_min = PORT_MIN, .port_max = PORT_MAX};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    seen[0] = events[0] = '\0';
    pool_done = 0;
    listen_address = "auto";
    return hp_pool_subscribe(pool, "**", record_event, NULL, NULL);
}

static void pool_stopped(hp_pool *p, void *data)
{
    pool_done++;
}

static int teardown(void **state)
{
    hp_pool_shutdown(pool, pool_stopped, NULL);
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!pool_done && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return pool_done && uv_loop_close(&loop) == 0 ? 0 : -1;
}

static hp_server_config respond_config(const char *name, hp_route_config *route)
{
    *route = (hp_route_config){.handler = hp_respond_handler_create(200, "ok", 2, NULL, 0)};
    hp_server_config c = {.name = name,
                          .listen = &listen_address,
                          .listen_count = 1,
                          .routes = route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    return c;
}

static int make_respond(hp_pool *p, const char *name, void *data)
{
    (*(int *)data)++;
    hp_route_config route;
    hp_server_config c = respond_config(name, &route);
    int rc = hp_pool_add(p, &c, NULL, 0);
    if (rc != 0) hp_handler_destroy(route.handler);
    return rc;
}

static const char *state_of(const char *name)
{
    hp_server_info info;
    return hp_pool_info(pool, name, &info) == 0 ? hp_server_state_name(info.state) : "none";
}

/* The "state" GET /servers/{name} answers, as its JSON says it. */
static const char *api_state_of(const char *name, char *buf, size_t len)
{
    json_t *server = hp__admin_server_json(pool, name);
    snprintf(buf, len, "%s", server ? json_string_value(json_object_get(server, "state")) : "none");
    json_decref(server);
    return buf;
}

/* On server.added: the state seen by the pool and by the API. */
static int look_at_state(const hp_event *ev, void *data)
{
    char api[32];
    if (ev)
        note(seen, sizeof seen, "%s/%s ", state_of(ev->server), api_state_of(ev->server, api, 32));
    return 0;
}

/* The same, then what replace, start, stop and restart say (1: refused with HP_ESTATE). */
static int look_and_try(const hp_event *ev, void *data)
{
    if (!ev) return 0;
    look_at_state(ev, data);
    hp_route_config route;
    hp_server_config c = respond_config(ev->server, &route);
    int replaced = hp_pool_replace(pool, &c, NULL, NULL, NULL, 0);
    hp_handler_destroy(route.handler); /* still ours: the replace was refused */
    int started = hp_pool_start(pool, ev->server, NULL, 0);
    int stopped = hp_pool_stop(pool, ev->server, NULL, NULL);
    int restarted = hp_pool_restart(pool, ev->server, NULL, NULL);
    char refused[8];
    snprintf(refused, sizeof refused, "%d%d%d%d", replaced == HP_ESTATE, started == HP_ESTATE,
             stopped == HP_ESTATE, restarted == HP_ESTATE);
    note(seen, sizeof seen, "%s%s ", "refused:", refused);
    return 0;
}

static void keep_status(hp_pool *p, const char *name, int status, void *data)
{
    *(int *)data = status;
}

static void a_server_made_on_first_use_is_starting_until_it_runs(void **state)
{
    assert_int_equal(hp_pool_subscribe(pool, "server.added", look_and_try, NULL, NULL), 0);
    int made = 0, status = -1;
    assert_int_equal(hp_pool_get_or_create(pool, "app", make_respond, &made, keep_status, &status),
                     0);
    assert_int_equal(made, 1);
    assert_int_equal(status, 0);
    /* Seen as starting while it was made, by the pool and the API; nothing could move it. */
    assert_string_equal(seen, "starting/starting refused:1111 ");
    assert_string_equal(state_of("app"), "running");
    assert_string_equal(events, "server.added:app server.started:app ");
}

static void a_server_added_directly_is_stopped(void **state)
{
    assert_int_equal(hp_pool_subscribe(pool, "server.added", look_at_state, NULL, NULL), 0);
    int made = 0;
    assert_int_equal(make_respond(pool, "plain", &made), 0);
    assert_string_equal(seen, "stopped/stopped ");
    assert_string_equal(state_of("plain"), "stopped");
}

static void a_server_made_on_first_use_that_cannot_bind_goes_from_starting_to_failed(void **state)
{
    int port, held = hp_test_hold_port(&port);
    assert_true(held >= 0);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    listen_address = address;
    assert_int_equal(hp_pool_subscribe(pool, "server.added", look_and_try, NULL, NULL), 0);
    int made = 0, status = 0;
    assert_int_equal(hp_pool_get_or_create(pool, "busy", make_respond, &made, keep_status, &status),
                     0);
    assert_int_not_equal(status, 0);
    assert_string_equal(seen, "starting/starting refused:1111 ");
    assert_string_equal(state_of("busy"), "failed");
    assert_string_equal(events, "server.added:busy server.failed:busy server.stopped:busy ");
    close(held);
}

/* A call for the same name while the server is being made starts that one server. */
static int inner_made, inner_status;
static char inner_state[16]; /* the server's state once the inner call returned */

static int make_again(const hp_event *ev, void *data)
{
    if (!ev || strcmp(ev->topic, "server.added") != 0) return 0;
    assert_int_equal(hp_pool_get_or_create(pool, ev->server, make_respond, &inner_made, keep_status,
                                           &inner_status),
                     0);
    snprintf(inner_state, sizeof inner_state, "%s", state_of(ev->server));
    return 0;
}

static void a_call_for_a_server_being_made_starts_that_one_server(void **state)
{
    inner_made = 0;
    inner_status = -1;
    inner_state[0] = '\0';
    assert_int_equal(hp_pool_subscribe(pool, "server.added", make_again, NULL, NULL), 0);
    int made = 0, status = -1;
    assert_int_equal(hp_pool_get_or_create(pool, "once", make_respond, &made, keep_status, &status),
                     0);
    assert_int_equal(made, 1);
    assert_int_equal(inner_made, 0);
    assert_int_equal(inner_status, 0);
    assert_string_equal(inner_state, "running"); /* the inner call started it */
    assert_int_equal(status, 0);
    assert_int_equal(hp_pool_count(pool), 1);
    assert_string_equal(state_of("once"), "running");
    assert_string_equal(events, "server.added:once server.started:once ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_server_made_on_first_use_is_starting_until_it_runs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_server_added_directly_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_server_made_on_first_use_that_cannot_bind_goes_from_starting_to_failed, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_call_for_a_server_being_made_starts_that_one_server,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
