/* The websocket kind (src/handlers/websocket_kind.c): `websocket: {...}` on a route is checked
 * with every error at its file:line:column (options, the one mode, unknown keys such as a mode
 * not there), and a valid route loads. */
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
    char *got = config_fixture_load_errors("ws.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

static void a_websocket_route_with_every_option_loads(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(config_fixture_load("ok.yaml",
                                         SERVER
                                         "      - websocket: { echo: {}, max_message: 16KiB, "
                                         "max_backpressure: 1MiB,\n"
                                         "                     on_backpressure: drop, "
                                         "idle_timeout: 0, ping_interval: 10s,\n"
                                         "                     compression: true }\n",
                                         &c, &errs),
                     0);
    assert_non_null(c);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

static void bad_options_are_reported_where_they_are_written(void **state)
{
    assert_errors(SERVER "      - websocket: { echo: {}, max_message: 0, on_backpressure: maybe,\n"
                         "                     idle_timeout: soon, compression: perhaps }\n"
                         "      - websocket: { echo: [], max_message: 2MiB, "
                         "max_backpressure: 1MiB }\n",
                  "ws.yaml:5:45: servers[0].routes[0].websocket.max_message: must be greater "
                  "than 0\n"
                  "ws.yaml:5:65: servers[0].routes[0].websocket.on_backpressure: expected close "
                  "or drop, got \"maybe\"\n"
                  "ws.yaml:6:36: servers[0].routes[0].websocket.idle_timeout: \"soon\" is not a "
                  "duration: a whole number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a "
                  "bare number is seconds\n"
                  "ws.yaml:6:55: servers[0].routes[0].websocket.compression: expected on or "
                  "off, got \"perhaps\"\n"
                  "ws.yaml:7:28: servers[0].routes[1].websocket.echo: expected a mapping, got a "
                  "list\n"
                  "ws.yaml:7:69: servers[0].routes[1].websocket.max_backpressure: must be at "
                  "least max_message (2097152 bytes)\n");
}

static void a_route_without_a_mode_or_with_an_unknown_key_is_reported(void **state)
{
    assert_errors(SERVER "      - websocket: { max_message: 1KiB }\n"
                         "      - websocket: { echo: {}, chat: {} }\n"
                         "      - websocket: { echo: { loud: true } }\n"
                         "      - websocket: { echo: {}, pubsub: {} }\n",
                  "ws.yaml:5:20: servers[0].routes[0].websocket: a mode is required: echo: {} "
                  "or pubsub: {...}\n"
                  "ws.yaml:6:32: servers[0].routes[1].websocket: unknown key \"chat\"\n"
                  "ws.yaml:7:30: servers[0].routes[2].websocket.echo: unknown key \"loud\"\n"
                  "ws.yaml:8:40: servers[0].routes[3].websocket.pubsub: a websocket route has "
                  "one mode: echo and pubsub exclude each other\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_websocket_route_with_every_option_loads),
        cmocka_unit_test(bad_options_are_reported_where_they_are_written),
        cmocka_unit_test(a_route_without_a_mode_or_with_an_unknown_key_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
