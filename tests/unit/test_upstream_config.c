/* Named upstreams and the upstream settings in a config (src/upstream/upstream_model_read.c,
 * src/config/config_upstreams.c, src/handlers/proxy_kind.c): every key is read, every default
 * is the documented one, every error is reported at its file:line:column and path, a route
 * must name a defined upstream, and an upstream's JSON (what GET /upstreams/{name} shows) is a
 * PUT body that reads back into the same model. */
#include "config/parse.h"
#include "config_fixture.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"
#include "io/socket.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SERVER "servers:\n  - name: s\n    listen: 127.0.0.1:0\n    routes:\n"

static hp__config *load(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    int rc = config_fixture_load("up.yaml", text, &c, &errs);
    if (rc != 0) {
        char *printed = config_fixture_errors(&errs);
        fail_msg("%s", printed);
    }
    hp__config_errors_close(&errs);
    return c;
}

static void assert_errors(const char *text, const char *expected)
{
    char *got = config_fixture_load_errors("up.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

/* The model of `json` as the body of PUT /upstreams/`name`; its errors printed in *errors
 * (NULL when it loaded). */
static int load_body(const char *json, const char *name, hp__upstream_model *m, char **errors)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    json_t *parsed = json_loads(json, 0, NULL);
    assert_non_null(parsed);
    hp__cfg_node *body = hp__cfg_node_from_json(parsed); /* as the admin API reads a body */
    json_decref(parsed);
    int rc = hp__config_load_upstream_node(body, name, m, &errs);
    *errors = rc ? config_fixture_errors(&errs) : NULL;
    hp__cfg_node_destroy(body);
    hp__config_errors_close(&errs);
    return rc;
}

static const hp__proxy_model *route_model(const hp__config *c, size_t route)
{
    assert_ptr_equal(c->servers[0].routes[route].kind, &hp__proxy_kind);
    return c->servers[0].routes[route].model;
}

/* ---- reading ------------------------------------------------------------------------------- */

static void an_upstream_with_only_targets_has_every_default(void **state)
{
    hp__config *c = load("upstreams:\n  - name: api\n    targets: [127.0.0.1:9001]\n");
    assert_int_equal(c->upstream_count, 1);
    const hp__upstream_model *m = &c->upstreams[0];
    assert_string_equal(m->name, "api");
    assert_int_equal(m->target_count, 1);
    assert_string_equal(m->targets[0].address, "127.0.0.1:9001");
    assert_int_equal(m->targets[0].weight, 1);
    assert_int_equal(m->targets[0].addr.ss_family, AF_INET);
    assert_int_equal(m->balance, HP__BALANCE_ROUND_ROBIN);
    assert_null(m->hash_header);
    assert_int_equal(m->keepalive, 32);
    assert_int_equal(m->max_connections, 0);
    assert_int_equal(m->max_requests, 1000);
    assert_int_equal(m->acquire_timeout_ms, 5000);
    assert_int_equal(m->connect_timeout_ms, 5000);
    assert_int_equal(m->first_byte_timeout_ms, 60000);
    assert_int_equal(m->idle_timeout_ms, 60000);
    assert_int_equal(m->retries, 1);
    assert_int_equal(m->max_pending, 0);
    assert_int_equal(m->max_in_flight, 0);
    assert_false(m->health.enabled);
    assert_string_equal(m->health.path, "/health");
    assert_int_equal(m->health.interval_ms, 2000);
    assert_int_equal(m->health.timeout_ms, 1000);
    assert_int_equal(m->health.expect, 200);
    assert_int_equal(m->health.rise, 2);
    assert_int_equal(m->health.fall, 3);
    assert_int_equal(m->passive.max_fails, 3);
    assert_int_equal(m->passive.fail_timeout_ms, 10000);
    assert_false(m->breaker_enabled);
    assert_int_equal(m->pos.line, 2);
    assert_int_equal(m->pos.column, 5);
    hp__config_destroy(c);
}

static void a_block_given_empty_is_on_with_its_defaults(void **state)
{
    hp__config *c = load("upstreams:\n  - name: api\n    targets: [127.0.0.1:9001]\n"
                         "    health: {}\n    breaker: {}\n");
    const hp__upstream_model *m = &c->upstreams[0];
    assert_true(m->health.enabled);
    assert_string_equal(m->health.path, "/health");
    assert_int_equal(m->health.interval_ms, 2000);
    assert_true(m->breaker_enabled);
    assert_int_equal(m->breaker.failures, 5);
    assert_int_equal(m->breaker.error_ratio_ppm, 500000);
    assert_int_equal(m->breaker.min_requests, 20);
    assert_int_equal(m->breaker.window_ms, 10000);
    assert_int_equal(m->breaker.open_for_ms, 30000);
    assert_int_equal(m->breaker.trials, 3);
    hp__config_destroy(c);
}

#define EVERY_KEY                                                                                  \
    "upstreams:\n"                                                                                 \
    "  - name: api.v2_x-1\n"                                                                       \
    "    targets: [127.0.0.1:9001, { address: \"[::1]:9002\", weight: 5 },\n"                      \
    "              \"unix:/run/app.sock\"]\n"                                                      \
    "    balance: hash\n"                                                                          \
    "    hash_key: \"header:X-User\"\n"                                                            \
    "    keepalive: 0\n"                                                                           \
    "    max_connections: 7\n"                                                                     \
    "    max_requests: 0\n"                                                                        \
    "    acquire_timeout: 250ms\n"                                                                 \
    "    connect_timeout: 2s\n"                                                                    \
    "    first_byte_timeout: 1m\n"                                                                 \
    "    idle_timeout: 90\n"                                                                       \
    "    retries: 63\n"                                                                            \
    "    max_pending: 100\n"                                                                       \
    "    max_in_flight: 1000\n"                                                                    \
    "    health: { path: \"/ready?full=1\", interval: 5s, timeout: 5s, expect: 204, rise: 1,\n"    \
    "              fall: 1000 }\n"                                                                 \
    "    passive: { max_fails: 0, fail_timeout: 0s }\n"                                            \
    "    breaker: { failures: 0, error_ratio: 0.25, min_requests: 4, window: 1s, open_for: 1h,\n"  \
    "               trials: 1 }\n"

static void every_key_of_an_upstream_is_read(void **state)
{
    hp__config *c = load(EVERY_KEY);
    const hp__upstream_model *m = &c->upstreams[0];
    assert_string_equal(m->name, "api.v2_x-1");
    assert_int_equal(m->target_count, 3);
    assert_string_equal(m->targets[1].address, "[::1]:9002");
    assert_int_equal(m->targets[1].addr.ss_family, AF_INET6);
    assert_int_equal(m->targets[1].weight, 5);
    assert_string_equal(m->targets[2].address, "unix:/run/app.sock");
    assert_int_equal(m->targets[2].addr.ss_family, AF_UNIX);
    assert_int_equal(m->targets[2].weight, 1);
    assert_int_equal(m->balance, HP__BALANCE_HASH);
    assert_string_equal(m->hash_header, "X-User");
    assert_int_equal(m->keepalive, 0);
    assert_int_equal(m->max_connections, 7);
    assert_int_equal(m->max_requests, 0);
    assert_int_equal(m->acquire_timeout_ms, 250);
    assert_int_equal(m->connect_timeout_ms, 2000);
    assert_int_equal(m->first_byte_timeout_ms, 60000);
    assert_int_equal(m->idle_timeout_ms, 90000);
    assert_int_equal(m->retries, 63);
    assert_int_equal(m->max_pending, 100);
    assert_int_equal(m->max_in_flight, 1000);
    assert_true(m->health.enabled);
    assert_string_equal(m->health.path, "/ready?full=1");
    assert_int_equal(m->health.interval_ms, 5000);
    assert_int_equal(m->health.timeout_ms, 5000);
    assert_int_equal(m->health.expect, 204);
    assert_int_equal(m->health.rise, 1);
    assert_int_equal(m->health.fall, 1000);
    assert_int_equal(m->passive.max_fails, 0);
    assert_int_equal(m->passive.fail_timeout_ms, 0);
    assert_true(m->breaker_enabled);
    assert_int_equal(m->breaker.failures, 0);
    assert_int_equal(m->breaker.error_ratio_ppm, 250000);
    assert_int_equal(m->breaker.min_requests, 4);
    assert_int_equal(m->breaker.window_ms, 1000);
    assert_int_equal(m->breaker.open_for_ms, 3600000);
    assert_int_equal(m->breaker.trials, 1);
    hp__config_destroy(c);
}

static void balance_least_conn_and_hash_on_the_client_address_are_read(void **state)
{
    hp__config *c = load("upstreams:\n"
                         "  - { name: a, targets: 127.0.0.1:1, balance: least_conn }\n"
                         "  - { name: b, targets: [127.0.0.1:1], balance: hash, hash_key: "
                         "client_ip }\n"
                         "  - { name: c, targets: [127.0.0.1:1], balance: hash }\n");
    assert_int_equal(c->upstreams[0].balance, HP__BALANCE_LEAST_CONN);
    assert_int_equal(c->upstreams[0].target_count, 1);
    assert_int_equal(c->upstreams[1].balance, HP__BALANCE_HASH);
    assert_null(c->upstreams[1].hash_header);
    assert_int_equal(c->upstreams[2].balance, HP__BALANCE_HASH);
    assert_null(c->upstreams[2].hash_header);
    hp__config_destroy(c);
}

static void an_error_ratio_is_a_plain_number_kept_as_a_real(void **state)
{
    static const struct {
        const char *text;
        uint32_t ppm;
    } ratios[] = {{"0", 0},         {"1", 1000000},   {"0.5", 500000},  {"0.05", 50000},
                  {"5e-1", 500000}, {"0.0000004", 0}, {"0.0000005", 1}, {"1.0", 1000000}};
    for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "upstreams:\n  - name: a\n    targets: [127.0.0.1:1]\n"
                 "    breaker: { error_ratio: %s }\n",
                 ratios[i].text);
        hp__config_errors errs;
        hp__config_errors_init(&errs);
        hp__cfg_node *root = hp__cfg_parse_yaml(text, strlen(text), "up.yaml", &errs);
        hp__config *c = NULL;
        assert_int_equal(hp__config_load_node(root, "up.yaml", &c, &errs), 0);
        assert_int_equal(c->upstreams[0].breaker.error_ratio_ppm, ratios[i].ppm);
        /* The running config holds a number, which reads back the same. */
        json_t *doc = hp__cfg_node_to_json(root);
        json_t *ratio = json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "upstreams"), 0), "breaker"),
            "error_ratio");
        assert_true(json_is_real(ratio));
        assert_int_equal((long)(json_real_value(ratio) * 1e7 + 0.5),
                         (long)(strtod(ratios[i].text, NULL) * 1e7 + 0.5));
        json_decref(doc);
        hp__cfg_node_destroy(root);
        hp__config_destroy(c);
        hp__config_errors_close(&errs);
    }
}

/* ---- errors -------------------------------------------------------------------------------- */

static void bad_settings_are_reported_where_they_are_written(void **state)
{
    assert_errors("upstreams:\n"
                  "  - name: api\n"
                  "    targets: [127.0.0.1:9001]\n"
                  "    balance: random\n"
                  "    keepalive: 100001\n"
                  "    max_connections: -1\n"
                  "    max_requests: \"5\"\n"
                  "    acquire_timeout: 0s\n"
                  "    connect_timeout: 25h\n"
                  "    first_byte_timeout: soon\n"
                  "    idle_timeout: [1s]\n"
                  "    retries: 64\n"
                  "    max_pending: 1000001\n"
                  "    max_in_flight: x\n"
                  "    tls: on\n",
                  "up.yaml:4:14: upstreams[0].balance: expected round_robin, least_conn or hash, "
                  "got \"random\"\n"
                  "up.yaml:5:16: upstreams[0].keepalive: 100001 out of range (0-100000)\n"
                  "up.yaml:6:22: upstreams[0].max_connections: -1 out of range (0-1000000)\n"
                  "up.yaml:7:19: upstreams[0].max_requests: expected an integer, got \"5\"\n"
                  "up.yaml:8:22: upstreams[0].acquire_timeout: must be greater than 0\n"
                  "up.yaml:9:22: upstreams[0].connect_timeout: \"25h\" is too large (at most "
                  "24h)\n"
                  "up.yaml:10:25: upstreams[0].first_byte_timeout: \"soon\" is not a duration: a "
                  "whole number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a bare number "
                  "is seconds\n"
                  "up.yaml:11:19: upstreams[0].idle_timeout: expected a duration, got a list\n"
                  "up.yaml:12:14: upstreams[0].retries: 64 out of range (0-63)\n"
                  "up.yaml:13:18: upstreams[0].max_pending: 1000001 out of range (0-1000000)\n"
                  "up.yaml:14:20: upstreams[0].max_in_flight: expected an integer, got \"x\"\n"
                  "up.yaml:15:5: upstreams[0]: unknown key \"tls\"\n");
}

static void bad_blocks_are_reported_where_they_are_written(void **state)
{
    assert_errors(
        "upstreams:\n"
        "  - name: api\n"
        "    targets: [127.0.0.1:9001]\n"
        "    health: { path: health, interval: 1s, timeout: 2s, expect: 600, rise: 0,\n"
        "              fall: 1001, port: 80 }\n"
        "    passive: { max_fails: 2, fail_timeout: 0s }\n"
        "    breaker: { failures: -1, error_ratio: 1.5, min_requests: x, window: 15ms,\n"
        "               open_for: 0s, trials: 0 }\n"
        "  - name: b\n"
        "    targets: [127.0.0.1:9001]\n"
        "    health: { path: \"/a b\", interval: 500ms }\n"
        "    passive: []\n"
        "    breaker: { error_ratio: \"0.5\" }\n"
        "  - name: c\n"
        "    targets: [127.0.0.1:9001]\n"
        "    health: { path: \"/#x\" }\n"
        "    breaker: { error_ratio: .5, window: 0 }\n"
        "    passive: { fail_timeout: 1s, max_fails: 1000000001 }\n",
        "up.yaml:4:21: upstreams[0].health.path: expected a path starting with \"/\" (no space, "
        "control character or #), got \"health\"\n"
        "up.yaml:4:52: upstreams[0].health.timeout: timeout (2s) must not be longer than interval "
        "(1s)\n"
        "up.yaml:4:64: upstreams[0].health.expect: 600 out of range (100-599)\n"
        "up.yaml:4:75: upstreams[0].health.rise: 0 out of range (1-1000)\n"
        "up.yaml:5:21: upstreams[0].health.fall: 1001 out of range (1-1000)\n"
        "up.yaml:5:27: upstreams[0].health: unknown key \"port\"\n"
        "up.yaml:6:44: upstreams[0].passive.fail_timeout: must be greater than 0 while max_fails "
        "is not 0\n"
        "up.yaml:7:26: upstreams[0].breaker.failures: -1 out of range (0-1000000000)\n"
        "up.yaml:7:43: upstreams[0].breaker.error_ratio: expected a number from 0 to 1 (0.5), got "
        "\"1.5\"\n"
        "up.yaml:7:62: upstreams[0].breaker.min_requests: expected an integer, got \"x\"\n"
        "up.yaml:7:73: upstreams[0].breaker.window: must be a multiple of 10ms (it slides by "
        "tenths)\n"
        "up.yaml:8:26: upstreams[0].breaker.open_for: must be greater than 0\n"
        "up.yaml:8:38: upstreams[0].breaker.trials: 0 out of range (1-1000000000)\n"
        "up.yaml:11:21: upstreams[1].health.path: expected a path starting with \"/\" (no space, "
        "control character or #), got \"/a b\"\n"
        "up.yaml:11:39: upstreams[1].health.interval: timeout (1s) must not be longer than "
        "interval (500ms)\n"
        "up.yaml:12:14: upstreams[1].passive: expected a mapping, got a list\n"
        "up.yaml:13:29: upstreams[1].breaker.error_ratio: expected a number from 0 to 1 (0.5), "
        "got \"0.5\"\n"
        "up.yaml:16:21: upstreams[2].health.path: expected a path starting with \"/\" (no space, "
        "control character or #), got \"/#x\"\n"
        "up.yaml:17:29: upstreams[2].breaker.error_ratio: expected a number from 0 to 1 (0.5), "
        "got \".5\"\n"
        "up.yaml:17:41: upstreams[2].breaker.window: must be greater than 0\n"
        "up.yaml:18:45: upstreams[2].passive.max_fails: 1000000001 out of range "
        "(0-1000000000)\n");
}

static void targets_and_names_are_checked(void **state)
{
    assert_errors("upstreams:\n"
                  "  - name: api\n"
                  "    targets: [127.0.0.1:0, nohost, 127.0.0.1:1, \"127.0.0.1:01\", "
                  "{ address: 127.0.0.1:2, weight: 0 },\n"
                  "              { weight: 2 }, { address: 127.0.0.1:3, weight: 101, w: 1 }, "
                  "\"*:80\"]\n"
                  "  - name: api\n"
                  "    targets: []\n"
                  "  - targets: { address: 127.0.0.1:1 }\n"
                  "  - name: \"a b\"\n"
                  "  - 5\n"
                  "  - { name: e, targets: {} }\n"
                  "  - { name: f, targets: ~ }\n"
                  "upstreams_x: 1\n",
                  "up.yaml:3:15: upstreams[0].targets[0]: a target needs a host and a port\n"
                  "up.yaml:3:28: upstreams[0].targets[1]: expected host:port, [ipv6]:port, a port "
                  "or unix:PATH, got \"nohost\"\n"
                  "up.yaml:3:49: upstreams[0].targets[3]: \"127.0.0.1:01\" is listed twice (a "
                  "weight gives a target more)\n"
                  "up.yaml:3:97: upstreams[0].targets[4].weight: 0 out of range (1-100)\n"
                  "up.yaml:4:15: upstreams[0].targets[5]: \"address\" is required\n"
                  "up.yaml:4:62: upstreams[0].targets[6].weight: 101 out of range (1-100)\n"
                  "up.yaml:4:67: upstreams[0].targets[6]: unknown key \"w\"\n"
                  "up.yaml:4:75: upstreams[0].targets[7]: a target needs a host and a port\n"
                  "up.yaml:5:11: upstreams[1].name: \"api\" is already used by upstreams[0]\n"
                  "up.yaml:6:14: upstreams[1].targets: expected a list of 1 to 64 addresses\n"
                  "up.yaml:7:5: upstreams[2]: \"name\" is required\n"
                  "up.yaml:7:14: upstreams[2].targets: expected a list of 1 to 64 addresses\n"
                  "up.yaml:8:5: upstreams[3]: \"targets\" is required\n"
                  "up.yaml:8:11: upstreams[3].name: \"a b\" is not a valid name: 1 to 64 of A-Z "
                  "a-z 0-9 . _ -\n"
                  "up.yaml:9:5: upstreams[4]: expected a mapping, got \"5\"\n"
                  "up.yaml:10:25: upstreams[5].targets: expected a list of 1 to 64 addresses\n"
                  "up.yaml:11:25: upstreams[6].targets: expected a list of 1 to 64 addresses\n"
                  "up.yaml:12:1: unknown key \"upstreams_x\" (did you mean \"upstreams\"?)\n");
}

static void at_most_64_targets(void **state)
{
    char text[4096] = "upstreams:\n  - name: a\n    targets: [";
    for (int i = 1; i <= 65; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s127.0.0.1:%d",
                 i > 1 ? ", " : "", i);
    strcat(text, "]\n");
    assert_errors(text, "up.yaml:3:14: upstreams[0].targets: expected a list of 1 to 64 "
                        "addresses\n");
    strcpy(strstr(text, ", 127.0.0.1:65]"), "]\n");
    hp__config *c = load(text);
    assert_int_equal(c->upstreams[0].target_count, 64);
    hp__config_destroy(c);
}

static void hash_key_needs_balance_hash_and_a_field_name(void **state)
{
    assert_errors("upstreams:\n"
                  "  - { name: a, targets: [127.0.0.1:1], hash_key: client_ip }\n"
                  "  - { name: b, targets: [127.0.0.1:1], balance: least_conn, hash_key: "
                  "client_ip }\n"
                  "  - { name: c, targets: [127.0.0.1:1], balance: hash, hash_key: \"header:X "
                  "User\" }\n"
                  "  - { name: d, targets: [127.0.0.1:1], balance: hash, hash_key: \"header:\" }\n"
                  "  - { name: e, targets: [127.0.0.1:1], balance: hash, hash_key: cookie }\n",
                  "up.yaml:2:50: upstreams[0].hash_key: hash_key needs balance: hash\n"
                  "up.yaml:3:71: upstreams[1].hash_key: hash_key needs balance: hash\n"
                  "up.yaml:4:65: upstreams[2].hash_key: expected client_ip or \"header:NAME\" (a "
                  "header field name), got \"header:X User\"\n"
                  "up.yaml:5:65: upstreams[3].hash_key: expected client_ip or \"header:NAME\" (a "
                  "header field name), got \"header:\"\n"
                  "up.yaml:6:65: upstreams[4].hash_key: expected client_ip or \"header:NAME\" (a "
                  "header field name), got \"cookie\"\n");
}

/* ---- routes -------------------------------------------------------------------------------- */

static void a_route_names_an_upstream_defined_before_or_after_it(void **state)
{
    hp__config *c = load(SERVER "      - match: { path: /api/ }\n"
                                "        proxy: { upstream: api, host: upstream, "
                                "max_body_bytes: 1KiB }\n"
                                "      - proxy: { upstream: web }\n"
                                "upstreams:\n"
                                "  - { name: api, targets: [127.0.0.1:9001] }\n"
                                "  - { name: web, targets: [127.0.0.1:9002] }\n");
    const hp__proxy_model *m = route_model(c, 0);
    assert_string_equal(m->upstream, "api");
    assert_int_equal(m->host, HP_PROXY_HOST_UPSTREAM);
    assert_int_equal(m->max_body_bytes, 1024);
    assert_int_equal(m->pos.line, 6);
    assert_int_equal(m->pos.column, 28);
    assert_string_equal(route_model(c, 1)->upstream, "web");
    /* The pool keeps the upstreams when it drops the servers' models. */
    hp__config_drop_servers(c);
    assert_int_equal(c->upstream_count, 2);
    assert_string_equal(c->upstreams[1].name, "web");
    hp__config_destroy(c);
}

static void a_route_naming_an_unknown_upstream_is_refused_with_the_closest_name(void **state)
{
    assert_errors(SERVER "      - proxy: { upstream: api }\n"
                         "      - proxy: { upstream: apx }\n"
                         "      - proxy: { upstream: zzzzzz }\n"
                         "upstreams:\n"
                         "  - { name: api, targets: [127.0.0.1:9001] }\n",
                  "up.yaml:6:28: servers[0].routes[1].proxy.upstream: no upstream named \"apx\" "
                  "(did you mean \"api\"?)\n"
                  "up.yaml:7:28: servers[0].routes[2].proxy.upstream: no upstream named "
                  "\"zzzzzz\"\n");
}

static void a_route_with_a_named_upstream_sets_only_host_and_max_body_bytes(void **state)
{
    assert_errors(SERVER "      - proxy: { upstream: api, keepalive: 1, health: {} }\n"
                         "      - proxy: { upstream: api, to: [127.0.0.1:1] }\n"
                         "      - proxy: { upstream: [api] }\n"
                         "upstreams:\n"
                         "  - { name: api, targets: [127.0.0.1:9001] }\n",
                  "up.yaml:5:44: servers[0].routes[0].proxy.keepalive: a setting of the "
                  "upstream: set it in `upstreams` (with `upstream`, a route sets only host and "
                  "max_body_bytes)\n"
                  "up.yaml:5:55: servers[0].routes[0].proxy.health: a setting of the upstream: "
                  "set it in `upstreams` (with `upstream`, a route sets only host and "
                  "max_body_bytes)\n"
                  "up.yaml:6:16: servers[0].routes[1].proxy: `to` and `upstream` exclude each "
                  "other: give one\n"
                  "up.yaml:7:28: servers[0].routes[2].proxy.upstream: expected a string, got a "
                  "list\n");
}

static void inline_targets_take_weights_and_the_upstream_settings_but_health(void **state)
{
    hp__config *c = load(SERVER "      - proxy:\n"
                                "          to: [127.0.0.1:9001, { address: 127.0.0.1:9002, "
                                "weight: 3 }]\n"
                                "          balance: least_conn\n"
                                "          breaker: { failures: 2 }\n"
                                "          passive: { max_fails: 0 }\n"
                                "          retries: 0\n"
                                "      - proxy: { to: \"unix:/run/a.sock\", host: example.org }\n");
    const hp__proxy_model *m = route_model(c, 0);
    assert_null(m->upstream);
    assert_null(m->inline_upstream.name);
    assert_int_equal(m->host, HP_PROXY_HOST_KEEP);
    assert_int_equal(m->inline_upstream.target_count, 2);
    assert_int_equal(m->inline_upstream.targets[1].weight, 3);
    assert_int_equal(m->inline_upstream.balance, HP__BALANCE_LEAST_CONN);
    assert_true(m->inline_upstream.breaker_enabled);
    assert_int_equal(m->inline_upstream.breaker.failures, 2);
    assert_int_equal(m->inline_upstream.passive.max_fails, 0);
    assert_int_equal(m->inline_upstream.retries, 0);
    m = route_model(c, 1);
    assert_int_equal(m->inline_upstream.target_count, 1);
    assert_string_equal(m->inline_upstream.targets[0].address, "unix:/run/a.sock");
    assert_int_equal(m->host, HP_PROXY_HOST_NAME);
    assert_string_equal(m->host_name, "example.org");
    hp__config_destroy(c);
}

/* Only named upstreams are health-checked (by the pool's registry): on a route it would be
 * read and never run. */
static void inline_targets_refuse_active_health_checks(void **state)
{
    assert_errors(SERVER "      - proxy: { to: [127.0.0.1:9001], health: { path: /up } }\n",
                  "up.yaml:5:48: servers[0].routes[0].proxy.health: active health checks are a "
                  "named upstream's: declare it in `upstreams` and give the route `upstream: "
                  "NAME`\n");
}

static void more_upstreams_than_the_limit_are_refused(void **state)
{
    size_t cap = 64 + (HP__UPSTREAMS_MAX + 1) * 48;
    char *text = malloc(cap), *p = text;
    p += sprintf(p, "upstreams:\n");
    for (int i = 0; i <= HP__UPSTREAMS_MAX; i++)
        p += sprintf(p, "  - { name: u%d, targets: [127.0.0.1:9001] }\n", i);
    char expected[128];
    snprintf(expected, sizeof expected, "up.yaml:2:3: upstreams: at most %d upstreams, got %d\n",
             HP__UPSTREAMS_MAX, HP__UPSTREAMS_MAX + 1);
    assert_errors(text, expected);
    free(text);
}

/* The admin API's POST /servers: `json` checked against the upstreams of `c`. */
static int load_server_body(const hp__config *c, const char *json, char **errors)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    json_t *parsed = json_loads(json, 0, NULL);
    assert_non_null(parsed);
    hp__cfg_node *map = hp__cfg_node_from_json(parsed);
    json_decref(parsed);
    hp__config_server *server = NULL;
    int rc = hp__config_load_server_node(map, c, &server, &errs);
    *errors = rc ? config_fixture_errors(&errs) : NULL;
    hp__config_server_destroy(server);
    hp__cfg_node_destroy(map);
    hp__config_errors_close(&errs);
    return rc;
}

static void a_server_added_through_the_api_names_an_upstream_of_the_config(void **state)
{
    hp__config *c = load("upstreams:\n  - { name: api, targets: [127.0.0.1:1] }\n");
    char *errors;
    assert_int_equal(load_server_body(c,
                                      "{\"name\":\"s\",\"listen\":\"127.0.0.1:0\",\"routes\":["
                                      "{\"proxy\":{\"upstream\":\"api\"}}]}",
                                      &errors),
                     0);
    assert_int_equal(load_server_body(c,
                                      "{\"name\":\"s\",\"listen\":\"127.0.0.1:0\",\"routes\":["
                                      "{\"proxy\":{\"upstream\":\"api\"}},"
                                      "{\"proxy\":{\"upstream\":\"ap\"}}]}",
                                      &errors),
                     HP_ECONFIG);
    assert_string_equal(
        errors, "routes[1].proxy.upstream: no upstream named \"ap\" (did you mean \"api\"?)\n");
    free(errors);
    hp__config_destroy(c);
}

/* ---- PUT /upstreams/{name} ----------------------------------------------------------------- */

static void assert_models_equal(const hp__upstream_model *a, const hp__upstream_model *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->target_count, b->target_count);
    for (size_t i = 0; i < a->target_count; i++) {
        assert_string_equal(a->targets[i].address, b->targets[i].address);
        assert_int_equal(a->targets[i].weight, b->targets[i].weight);
        assert_true(hp__socket_address_equal(&a->targets[i].addr, &b->targets[i].addr));
    }
    assert_int_equal(a->balance, b->balance);
    if (a->hash_header || b->hash_header) assert_string_equal(a->hash_header, b->hash_header);
    assert_int_equal(a->keepalive, b->keepalive);
    assert_int_equal(a->max_connections, b->max_connections);
    assert_int_equal(a->max_requests, b->max_requests);
    assert_int_equal(a->acquire_timeout_ms, b->acquire_timeout_ms);
    assert_int_equal(a->connect_timeout_ms, b->connect_timeout_ms);
    assert_int_equal(a->first_byte_timeout_ms, b->first_byte_timeout_ms);
    assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
    assert_int_equal(a->retries, b->retries);
    assert_int_equal(a->max_pending, b->max_pending);
    assert_int_equal(a->max_in_flight, b->max_in_flight);
    assert_int_equal(a->health.enabled, b->health.enabled);
    assert_string_equal(a->health.path, b->health.path);
    assert_int_equal(a->health.interval_ms, b->health.interval_ms);
    assert_int_equal(a->health.timeout_ms, b->health.timeout_ms);
    assert_int_equal(a->health.expect, b->health.expect);
    assert_int_equal(a->health.rise, b->health.rise);
    assert_int_equal(a->health.fall, b->health.fall);
    assert_memory_equal(&a->passive, &b->passive, sizeof a->passive);
    assert_int_equal(a->breaker_enabled, b->breaker_enabled);
    assert_memory_equal(&a->breaker, &b->breaker, sizeof a->breaker);
}

/* The JSON of `m`, put back as the body of PUT /upstreams/{its name}, reads into `m` again. */
static void assert_round_trip(const hp__upstream_model *m)
{
    json_t *json = hp__upstream_model_to_json(m);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    hp__upstream_model back;
    char *errors;
    int rc = load_body(text, m->name, &back, &errors);
    if (rc) fail_msg("%s\n%s", text, errors);
    assert_models_equal(m, &back);
    hp__upstream_model_close(&back);
    free(text);
}

static void the_json_of_an_upstream_is_a_body_that_reads_back_the_same(void **state)
{
    hp__config *c = load(EVERY_KEY "  - { name: plain, targets: [127.0.0.1:1] }\n"
                                   "  - name: odd\n"
                                   "    targets: [127.0.0.1:1]\n"
                                   "    balance: hash\n"
                                   "    breaker: { error_ratio: 0.333333, window: 10ms }\n"
                                   "    passive: { max_fails: 1, fail_timeout: 1500ms }\n");
    for (size_t i = 0; i < c->upstream_count; i++) assert_round_trip(&c->upstreams[i]);
    hp__config_destroy(c);
}

static void the_json_of_an_upstream_has_every_key_in_config_syntax(void **state)
{
    hp__config *c = load("upstreams:\n  - name: api\n"
                         "    targets: [127.0.0.1:1, { address: 127.0.0.1:2, weight: 2 }]\n"
                         "    breaker: {}\n");
    json_t *json = hp__upstream_model_to_json(&c->upstreams[0]);
    char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text,
        "{\"acquire_timeout\":\"5s\",\"balance\":\"round_robin\",\"breaker\":{\"error_ratio\":"
        "0.5,\"failures\":5,\"min_requests\":20,\"open_for\":\"30s\",\"trials\":3,"
        "\"window\":\"10s\"},\"connect_timeout\":\"5s\",\"first_byte_timeout\":\"1m\","
        "\"idle_timeout\":\"1m\",\"keepalive\":32,\"max_connections\":0,\"max_in_flight\":0,"
        "\"max_pending\":0,\"max_requests\":1000,\"name\":\"api\",\"passive\":{"
        "\"fail_timeout\":\"10s\",\"max_fails\":3},\"retries\":1,\"targets\":[\"127.0.0.1:"
        "1\",{\"address\":\"127.0.0.1:2\",\"weight\":2}]}");
    free(text);
    json_decref(json);
    hp__config_destroy(c);
}

static void a_put_body_is_checked_with_paths_relative_to_it(void **state)
{
    hp__upstream_model m;
    char *errors;
    assert_int_equal(
        load_body("{\"targets\":[\"127.0.0.1:1\"],\"keepalive\":4}", "api", &m, &errors), 0);
    assert_string_equal(m.name, "api");
    assert_int_equal(m.keepalive, 4);
    hp__upstream_model_close(&m);
    assert_int_equal(
        load_body("{\"name\":\"api\",\"targets\":[\"127.0.0.1:1\"]}", "api", &m, &errors), 0);
    hp__upstream_model_close(&m);
    assert_int_equal(load_body("{\"name\":\"web\",\"targets\":[\"127.0.0.1:1\",\"x\"],"
                               "\"health\":{\"timeout\":\"5s\"},\"keepalve\":1}",
                               "api", &m, &errors),
                     HP_ECONFIG);
    /* Without positions (a JSON body), errors are in the order they were found. */
    assert_string_equal(errors, "unknown key \"keepalve\" (did you mean \"keepalive\"?)\n"
                                "name: \"web\" is not the upstream's name, \"api\"\n"
                                "targets[1]: expected host:port, [ipv6]:port, a port or "
                                "unix:PATH, got \"x\"\n"
                                "health.timeout: timeout (5s) must not be longer than interval "
                                "(2s)\n");
    free(errors);
    /* Nothing is left to free after a refusal: closing again is harmless. */
    hp__upstream_model_close(&m);
    assert_int_equal(load_body("{}", "api", &m, &errors), HP_ECONFIG);
    assert_string_equal(errors, "\"targets\" is required\n");
    free(errors);
}

static void a_copy_is_deep(void **state)
{
    hp__config *c = load(EVERY_KEY);
    hp__upstream_model copy;
    hp__upstream_model_copy(&copy, &c->upstreams[0]);
    hp__config_destroy(c);
    assert_string_equal(copy.name, "api.v2_x-1");
    assert_string_equal(copy.targets[1].address, "[::1]:9002");
    assert_string_equal(copy.hash_header, "X-User");
    assert_string_equal(copy.health.path, "/ready?full=1");
    hp__upstream_model_close(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_upstream_with_only_targets_has_every_default),
        cmocka_unit_test(a_block_given_empty_is_on_with_its_defaults),
        cmocka_unit_test(every_key_of_an_upstream_is_read),
        cmocka_unit_test(balance_least_conn_and_hash_on_the_client_address_are_read),
        cmocka_unit_test(an_error_ratio_is_a_plain_number_kept_as_a_real),
        cmocka_unit_test(bad_settings_are_reported_where_they_are_written),
        cmocka_unit_test(bad_blocks_are_reported_where_they_are_written),
        cmocka_unit_test(targets_and_names_are_checked),
        cmocka_unit_test(at_most_64_targets),
        cmocka_unit_test(hash_key_needs_balance_hash_and_a_field_name),
        cmocka_unit_test(a_route_names_an_upstream_defined_before_or_after_it),
        cmocka_unit_test(a_route_naming_an_unknown_upstream_is_refused_with_the_closest_name),
        cmocka_unit_test(a_route_with_a_named_upstream_sets_only_host_and_max_body_bytes),
        cmocka_unit_test(inline_targets_take_weights_and_the_upstream_settings_but_health),
        cmocka_unit_test(inline_targets_refuse_active_health_checks),
        cmocka_unit_test(more_upstreams_than_the_limit_are_refused),
        cmocka_unit_test(a_server_added_through_the_api_names_an_upstream_of_the_config),
        cmocka_unit_test(the_json_of_an_upstream_is_a_body_that_reads_back_the_same),
        cmocka_unit_test(the_json_of_an_upstream_has_every_key_in_config_syntax),
        cmocka_unit_test(a_put_body_is_checked_with_paths_relative_to_it),
        cmocka_unit_test(a_copy_is_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
