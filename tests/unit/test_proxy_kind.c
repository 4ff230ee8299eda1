/* The proxy kind (src/handlers/proxy_kind.c): `proxy: {...}` on a route is checked with every
 * error at its file:line:column, a named upstream must be defined, and a valid route loads.
 * tests/unit/test_upstream_config.c has the upstream settings and named upstreams. */
#include "config_fixture.h"
#include "hostpool/errors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SERVER "servers:\n  - name: s\n    listen: 127.0.0.1:0\n    routes:\n"

static void assert_errors(const char *text, const char *expected)
{
    char *got = config_fixture_load_errors("proxy.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

static void a_proxy_route_with_every_setting_loads(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(config_fixture_load("ok.yaml",
                                         SERVER "      - proxy: { to: [127.0.0.1:9001, "
                                                "\"unix:/run/app.sock\"], host: upstream,\n"
                                                "                 max_body_bytes: 10MiB, "
                                                "keepalive: 0, connect_timeout: 250ms,\n"
                                                "                 first_byte_timeout: 5s, "
                                                "idle_timeout: 1m }\n",
                                         &c, &errs),
                     0);
    assert_non_null(c);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

static void bad_settings_are_reported_where_they_are_written(void **state)
{
    assert_errors(SERVER "      - proxy: { to: [127.0.0.1:0, \"nohost\", 10.0.0.1:99999], "
                         "host: \"a b\",\n"
                         "                 keepalive: -1, connect_timeout: 0s, idle_timeout: "
                         "soon, tls: on }\n",
                  "proxy.yaml:5:23: servers[0].routes[0].proxy.to[0]: a target needs a host "
                  "and a port\n"
                  "proxy.yaml:5:36: servers[0].routes[0].proxy.to[1]: expected host:port, "
                  "[ipv6]:port, a port or unix:PATH, got \"nohost\"\n"
                  "proxy.yaml:5:46: servers[0].routes[0].proxy.to[2]: port 99999 out of range\n"
                  "proxy.yaml:5:69: servers[0].routes[0].proxy.host: expected keep, upstream or "
                  "a host name, got \"a b\"\n"
                  "proxy.yaml:6:29: servers[0].routes[0].proxy.keepalive: -1 out of range "
                  "(0-100000)\n"
                  "proxy.yaml:6:50: servers[0].routes[0].proxy.connect_timeout: must be greater "
                  "than 0\n"
                  "proxy.yaml:6:68: servers[0].routes[0].proxy.idle_timeout: \"soon\" is not a "
                  "duration: a whole number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a "
                  "bare number is seconds\n"
                  "proxy.yaml:6:74: servers[0].routes[0].proxy: unknown key \"tls\"\n");
}

static void targets_are_required(void **state)
{
    assert_errors(SERVER "      - proxy: { host: keep }\n",
                  "proxy.yaml:5:16: servers[0].routes[0].proxy: `to`, a list of targets, is "
                  "required\n");
    assert_errors(SERVER "      - proxy: { to: [] }\n",
                  "proxy.yaml:5:22: servers[0].routes[0].proxy.to: expected a list of 1 to 64 "
                  "addresses\n");
}

static void a_named_upstream_that_is_not_defined_is_refused(void **state)
{
    assert_errors(SERVER "      - proxy: { upstream: api }\n",
                  "proxy.yaml:5:28: servers[0].routes[0].proxy.upstream: no upstream named "
                  "\"api\"\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_proxy_route_with_every_setting_loads),
        cmocka_unit_test(bad_settings_are_reported_where_they_are_written),
        cmocka_unit_test(targets_are_required),
        cmocka_unit_test(a_named_upstream_that_is_not_defined_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
