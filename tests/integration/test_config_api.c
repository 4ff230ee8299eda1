/* The public config loading (hostpool/config.h): a file's problems come back as the lines
 * `hostpool validate` prints; a config whose server cannot be built adds nothing; a server
 * the pool refuses is named and the others are added, stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/config.h"
#include "hostpool/errors.h"
#include "hp_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static hp_pool *pool;
static int pool_done;

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 1, .port_min = 23550, .port_max = 23599};
    pool_done = 0;
    return hp_pool_create(&loop, &o, &pool);
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

/* Writes `text` as `name` in the test's directory; its path (static). */
static const char *write_config(const char *name, const char *text)
{
    static char path[4096];
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), name, text, strlen(text)), 0);
    snprintf(path, sizeof path, "%s/%s", hp_test_temp_dir(), name);
    return path;
}

static void load_errors_are_the_lines_validate_prints(void **state)
{
    const char *path = write_config("bad.yaml", "servers:\n"
                                                "  - name: a\n"
                                                "    listen: auto\n"
                                                "    routes: [{ respond: { status: 99 } }]\n"
                                                "  - listen: nowhere\n");
    hp_config *config = (hp_config *)1;
    char *errors = NULL, want[8192];
    assert_int_equal(hp_config_load_file(path, &config, &errors), HP_ECONFIG);
    assert_null(config);
    snprintf(want, sizeof want,
             "%1$s:4:35: servers[0].routes[0].respond.status: 99 out of range (200-599)\n"
             "%1$s:5:5: servers[1]: \"name\" is required\n"
             "%1$s:5:13: servers[1].listen: expected host:port, [ipv6]:port, a port or "
             "unix:PATH, got \"nowhere\"\n",
             path);
    assert_string_equal(errors, want);
    free(errors);
    snprintf(want, sizeof want, "%s/missing.yaml", hp_test_temp_dir());
    assert_int_equal(hp_config_load_file(want, &config, &errors), HP_ECONFIG);
    assert_non_null(strstr(errors, "missing.yaml: cannot open: "));
    assert_non_null(strchr(errors, '\n'));
    assert_string_equal(strchr(errors, '\n'), "\n"); /* one line */
    free(errors);
}

static void a_server_that_cannot_be_built_adds_none(void **state)
{
    const char *path =
        write_config("root.yaml", "servers:\n"
                                  "  - name: fine\n"
                                  "    listen: auto\n"
                                  "  - name: rootless\n"
                                  "    listen: auto\n"
                                  "    routes: [{ file: { root: /nonexistent/r } }]\n");
    hp_config *config;
    char *errors = (char *)1, want[8192];
    assert_int_equal(hp_config_load_file(path, &config, &errors), 0);
    assert_null(errors);
    assert_int_equal(hp_pool_add_config(pool, config, &errors), HP_ECONFIG);
    snprintf(want, sizeof want,
             "%s:6:30: servers[1].routes[0].file.root: cannot serve \"/nonexistent/r\": not "
             "found\n",
             path);
    assert_string_equal(errors, want);
    assert_int_equal(hp_pool_count(pool), 0);
    free(errors);
    hp_config_destroy(config);
}

static void a_server_the_pool_refuses_is_named_and_the_others_are_added(void **state)
{
    const char *path = write_config("two.yaml", "servers:\n"
                                                "  - name: taken\n"
                                                "    listen: auto\n"
                                                "  - name: new\n"
                                                "    listen: auto\n"
                                                "    routes: [{ respond: { body: hi } }]\n");
    hp_config *config;
    char *errors = NULL;
    assert_int_equal(hp_config_load_file(path, &config, &errors), 0);
    hp_route_config route = {.handler = hp_respond_handler_create(200, "x", 1, NULL, 0)};
    const char *listen = "auto";
    hp_server_config taken = {
        .name = "taken", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&taken.limits);
    assert_int_equal(hp_pool_add(pool, &taken, NULL, 0), 0);
    assert_int_equal(hp_pool_add_config(pool, config, &errors), HP_EEXISTS);
    assert_string_equal(errors, "taken: a server named \"taken\" already exists\n");
    free(errors);
    hp_config_destroy(config); /* the pool's servers do not need it */
    hp_server_info info;
    assert_int_equal(hp_pool_info(pool, "new", &info), 0);
    assert_int_equal(info.state, HP_SERVER_STOPPED);
    assert_int_equal(hp_pool_count(pool), 2);
    assert_int_equal(hp_pool_start(pool, "new", NULL, 0), 0);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(hp_pool_bound_port(pool, info.server, 0), HP_TEST_GET, &r,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_string_equal(r.body, "hi");
    hp_test_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_errors_are_the_lines_validate_prints),
        cmocka_unit_test_setup_teardown(a_server_that_cannot_be_built_adds_none, setup, teardown),
        cmocka_unit_test_setup_teardown(a_server_the_pool_refuses_is_named_and_the_others_are_added,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
