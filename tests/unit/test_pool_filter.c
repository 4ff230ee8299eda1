/* Selecting pool servers by name, bind address or expose URL (golib's fixture and counts).
 * The servers are added, not started: nothing is bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "hostpool/pool.h"

#include <string.h>

static uv_loop_t loop;
static hp_pool *pool;

static void add(const char *name, const char *bind, const char *expose)
{
    hp_route_config route = {.handler = hp_respond_handler_create(200, "x", 1, NULL, 0)};
    hp_server_config c = {.name = name,
                          .expose = expose,
                          .listen = &bind,
                          .listen_count = 1,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    assert_int_equal(hp_pool_add(pool, &c, NULL, 0), 0);
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 1};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    add("api-server", "127.0.0.1:8080", "http://localhost:8080");
    add("web-server", "127.0.0.1:8081", "http://localhost:8081");
    add("admin-server", "192.168.1.1:8080", "http://admin.example.com:8080");
    add("api-v2-server", "127.0.0.1:9000", "http://api.example.com:9000");
    return 0;
}

static void stopped(hp_pool *p, void *data)
{
    *(bool *)data = true;
}

static int teardown(void **state)
{
    bool done = false;
    hp_pool_shutdown(pool, stopped, &done);
    while (!done) uv_run(&loop, UV_RUN_ONCE);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop);
}

static size_t count(hp_pool_field field, const char *pattern, const char *regex)
{
    hp_pool_strings names;
    assert_int_equal(hp_pool_filter(pool, field, pattern, regex, &names, NULL, 0), 0);
    size_t n = names.count;
    hp_pool_strings_free(&names);
    return n;
}

static void golib_fixture_counts(void **state)
{
    assert_int_equal(count(HP_POOL_FIELD_NAME, "API-SERVER", NULL), 1);
    assert_int_equal(count(HP_POOL_FIELD_NAME, NULL, "^api-"), 2);
    assert_int_equal(count(HP_POOL_FIELD_BIND, NULL, "^127\\.0\\.0\\.1:"), 3);
    assert_int_equal(count(HP_POOL_FIELD_EXPOSE, NULL, "example\\.com"), 2);
    assert_int_equal(count(HP_POOL_FIELD_EXPOSE, "localhost:8080", NULL), 1);
    assert_int_equal(count(HP_POOL_FIELD_NAME, NULL, NULL), 0);
}

static void list_returns_another_field_of_the_selection(void **state)
{
    hp_pool_strings values;
    assert_int_equal(
        hp_pool_list(pool, HP_POOL_FIELD_NAME, NULL, "^api-", HP_POOL_FIELD_BIND, &values, NULL, 0),
        0);
    assert_int_equal(values.count, 2);
    assert_string_equal(values.items[0], "127.0.0.1:8080");
    assert_string_equal(values.items[1], "127.0.0.1:9000");
    hp_pool_strings_free(&values);
}

static void an_invalid_regex_is_an_error_not_an_empty_result(void **state)
{
    hp_pool_strings names;
    char err[256] = "";
    assert_int_equal(hp_pool_filter(pool, HP_POOL_FIELD_NAME, NULL, "([", &names, err, sizeof err),
                     HP_EINVAL);
    assert_non_null(strstr(err, "invalid regex"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golib_fixture_counts),
        cmocka_unit_test(list_returns_another_field_of_the_selection),
        cmocka_unit_test(an_invalid_regex_is_an_error_not_an_empty_result),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
