/* The pubsub mode's settings (src/config/config_pubsub.c): `pubsub: {allow, publish, events}`
 * loads with valid patterns, and every error is reported at its file:line:column. */
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
    char *got = config_fixture_load_errors("ps.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

static void a_pubsub_route_with_every_key_loads(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(config_fixture_load("ok.yaml",
                                         SERVER "      - websocket:\n"
                                                "          pubsub:\n"
                                                "            allow: [\"chat.**\", presence]\n"
                                                "            publish: server\n"
                                                "            events: \"server.*\"\n"
                                                "      - websocket: { pubsub: {} }\n",
                                         &c, &errs),
                     0);
    assert_non_null(c);
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

static void bad_settings_are_reported_where_they_are_written(void **state)
{
    assert_errors(SERVER
                  "      - websocket: { pubsub: { allow: [\"chat.**.x\", ok], publish: all,\n"
                  "                              events: \"ser*\", colour: red } }\n"
                  "      - websocket: { pubsub: { allow: chat } }\n"
                  "      - websocket: { pubsub: { allow: [] } }\n"
                  "      - websocket: { pubsub: [] }\n",
                  "ps.yaml:5:40: servers[0].routes[0].websocket.pubsub.allow[0]: not a topic "
                  "pattern: \"chat.**.x\" (dot-separated segments; `*` one segment, a last `**` "
                  "the rest)\n"
                  "ps.yaml:5:67: servers[0].routes[0].websocket.pubsub.publish: expected clients "
                  "or server, got \"all\"\n"
                  "ps.yaml:6:39: servers[0].routes[0].websocket.pubsub.events: not an event "
                  "pattern: \"ser*\" (as GET /events?topic=)\n"
                  "ps.yaml:6:47: servers[0].routes[0].websocket.pubsub: unknown key \"colour\"\n"
                  "ps.yaml:7:39: servers[0].routes[1].websocket.pubsub.allow: expected a list of "
                  "topic patterns\n"
                  "ps.yaml:8:39: servers[0].routes[2].websocket.pubsub.allow: allows no topic: "
                  "omit it to allow every topic\n"
                  "ps.yaml:9:30: servers[0].routes[3].websocket.pubsub: expected a mapping, got a "
                  "list\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pubsub_route_with_every_key_loads),
        cmocka_unit_test(bad_settings_are_reported_where_they_are_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
