/* The `rate_limit` key of a server and of a route (src/config/config_rate_limit.c): each
 * field checked against the ranges of core/rate_limit.h at its file:line:column, the key's
 * two forms, and a valid limit carried into the server's config. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void bad_rate_limit_fields_are_reported_at_their_position(void **state)
{
    char *got = config_fixture_load_errors(
        "rate.yaml", "servers:\n"
                     "  - name: a\n"
                     "    listen: 127.0.0.1:8080\n"
                     "    rate_limit: { requests: 0, per: 1m, burst: 2000000, key: ip }\n"
                     "    routes:\n"
                     "      - match: { path: /login }\n"
                     "        rate_limit: { per: 0s, block_for: 9000h, key: \"header:a b\" }\n"
                     "        respond: { body: ok }\n"
                     "      - rate_limit: { requests: 1, per: 1s, colour: red }\n"
                     "        respond: { body: ok }\n");
    const char *want =
        "rate.yaml:4:29: servers[0].rate_limit.requests: 0 out of range (1-1000000)\n"
        "rate.yaml:4:48: servers[0].rate_limit.burst: 2000000 out of range (0-1000000)\n"
        "rate.yaml:4:62: servers[0].rate_limit.key: expected client_ip or \"header:NAME\" (a "
        "header name), got \"ip\"\n"
        "rate.yaml:7:21: servers[0].routes[0].rate_limit: \"requests\" is required\n"
        "rate.yaml:7:28: servers[0].routes[0].rate_limit.per: must be greater than 0\n"
        "rate.yaml:7:43: servers[0].routes[0].rate_limit.block_for: \"9000h\" is too large (at "
        "most 8784h)\n"
        "rate.yaml:7:55: servers[0].routes[0].rate_limit.key: expected client_ip or "
        "\"header:NAME\" (a header name), got \"header:a b\"\n"
        "rate.yaml:9:45: servers[0].routes[1].rate_limit: unknown key \"colour\"\n";
    assert_string_equal(got, want);
    free(got);
}

static void a_valid_rate_limit_reaches_the_server_config(void **state)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    assert_int_equal(
        config_fixture_load("ok.yaml",
                            "servers:\n"
                            "  - name: a\n"
                            "    listen: 127.0.0.1:8080\n"
                            "    rate_limit: { requests: 100, per: 1m, burst: 20 }\n"
                            "    routes:\n"
                            "      - rate_limit: { requests: 5, per: 1m, block_for: 5m, key: "
                            "\"header:X-Api-Key\" }\n"
                            "        respond: { body: ok }\n",
                            &c, &errs),
        0);
    const hp_rate_limit *s = c->servers[0].rate_limit;
    assert_non_null(s);
    assert_int_equal(s->requests, 100);
    assert_int_equal(s->per_ms, 60000);
    assert_int_equal(s->burst, 20);
    assert_int_equal(s->block_for_ms, 0);
    assert_null(s->key_header);
    const hp_rate_limit *r = c->servers[0].routes[0].rate_limit;
    assert_non_null(r);
    assert_int_equal(r->requests, 5);
    assert_int_equal(r->block_for_ms, 300000);
    assert_string_equal(r->key_header, "X-Api-Key");
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_rate_limit_fields_are_reported_at_their_position),
        cmocka_unit_test(a_valid_rate_limit_reaches_the_server_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
