/* The proxy kind: what a route's `proxy: {...}` means (docs/CONFIG.md), checked into an
 * hp__proxy_model (kinds.h); the handler is proxy.c's.
 *
 *   proxy: { upstream: api, host: keep, max_body_bytes: 10MiB }
 *   proxy: { to: [127.0.0.1:9001, { address: 127.0.0.1:9002, weight: 3 }], keepalive: 8, ... }
 *
 * Exactly one of `upstream` (the name of an entry of the config's `upstreams`) and `to` (the
 * targets, with the settings an upstream has: HP__UPSTREAM_SETTING_KEYS, read by
 * hp__upstream_model_read, so an inline proxy and a named upstream mean the same by the same
 * key). With `upstream`, the settings are the upstream's own: a route sets only how it
 * forwards (`host`, `max_body_bytes`). That the name is one of `upstreams` is checked by the
 * config once every entry is read (config_upstreams.c): a kind's check sees only its own
 * settings. */
#include "common/alloc.h"
#include "common/str.h"
#include "config/config_check.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"
#include "http/field_syntax.h"

#include <stdlib.h>
#include <string.h>

/* A route's own keys; the rest are an upstream's (HP__UPSTREAM_SETTING_KEYS). */
static const char *const own_keys[] = {"to", "upstream", "host", "max_body_bytes"};
#define OWN_KEY_COUNT (sizeof own_keys / sizeof *own_keys)

static void check_host(hp_config_check *c, hp_config_node *n, hp__proxy_model *m)
{
    const char *text = hp_config_string(c, n);
    if (!text) return;
    if (strcmp(text, "keep") == 0) {
        m->host = HP_PROXY_HOST_KEEP;
    } else if (strcmp(text, "upstream") == 0) {
        m->host = HP_PROXY_HOST_UPSTREAM;
    } else if (hp__host_valid(hp__str(text, strlen(text)))) {
        m->host = HP_PROXY_HOST_NAME;
        m->host_name = hp__strdup(text);
    } else {
        hp_config_error(c, n, "expected keep, upstream or a host name, got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, text);
    }
}

/* A size, 0 for none; a bare number is bytes. */
static void check_max_body_bytes(hp_config_check *c, hp_config_node *n, hp__proxy_model *m)
{
    uint64_t v;
    if (hp__config_amount(c, n, HP__CONFIG_SIZE, 0, UINT64_MAX, &v)) m->max_body_bytes = v;
}

/* Every key of `map` is a route's own or an upstream setting; with `upstream`, the settings
 * are the named upstream's and a route may not set them. */
static void check_keys(hp_config_check *c, hp_config_node *map, bool named)
{
    const char *keys[OWN_KEY_COUNT + HP__UPSTREAM_SETTING_KEY_COUNT + 1];
    memcpy(keys, own_keys, sizeof own_keys);
    memcpy(keys + OWN_KEY_COUNT, HP__UPSTREAM_SETTING_KEYS, sizeof HP__UPSTREAM_SETTING_KEYS);
    hp_config_keys(c, map, keys);
    if (!named) return;
    for (size_t i = 0; HP__UPSTREAM_SETTING_KEYS[i]; i++) {
        hp_config_node *n = hp_config_get(map, HP__UPSTREAM_SETTING_KEYS[i]);
        if (n)
            hp_config_error(c, n,
                            "a setting of the upstream: set it in `upstreams` (with `upstream`, "
                            "a route sets only host and max_body_bytes)");
    }
}

static void *check_settings(hp_config_check *c, hp_config_node *map)
{
    hp__proxy_model *m = HP_NEW(hp__proxy_model);
    hp__upstream_model_init(&m->inline_upstream);
    m->host = HP_PROXY_HOST_KEEP;
    m->pos = hp_config_node_pos(map);
    if (!hp_config_expect_mapping(c, map)) return m;
    hp_config_node *n, *to = hp_config_get(map, "to"), *upstream = hp_config_get(map, "upstream");
    check_keys(c, map, upstream && !to);
    if (to && upstream) {
        hp_config_error(c, map, "`to` and `upstream` exclude each other: give one");
    } else if (upstream) {
        const char *name = hp_config_string(c, upstream);
        if (name) m->upstream = hp__strdup(name);
        m->pos = hp_config_node_pos(upstream);
    } else if (to) {
        hp__upstream_targets_read(c, to, &m->inline_upstream);
        hp__upstream_model_read(c, map, &m->inline_upstream);
        if ((n = hp_config_get(map, "health")))
            hp_config_error(c, n,
                            "active health checks are a named upstream's: declare it in "
                            "`upstreams` and give the route `upstream: NAME`");
    } else {
        hp_config_error(c, map, "`to`, a list of targets, is required");
    }
    if ((n = hp_config_get(map, "host"))) check_host(c, n, m);
    if ((n = hp_config_get(map, "max_body_bytes"))) check_max_body_bytes(c, n, m);
    return m;
}

static int build(const void *model, hp_config_build *b, hp_handler **out)
{
    *out = hp__proxy_handler_create_model(model);
    return 0;
}

static void free_model(void *model)
{
    hp__proxy_model *m = model;
    free(m->upstream);
    hp__upstream_model_close(&m->inline_upstream);
    free(m->host_name);
    free(m);
}

const hp_handler_kind hp__proxy_kind = {
    .key = "proxy",
    .check = check_settings,
    .build = build,
    .free_model = free_model,
};
