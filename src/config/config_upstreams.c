/* Named upstreams in a config (config_upstreams.h).
 *
 *   upstreams:
 *     - name: api
 *       targets: [127.0.0.1:9001, { address: 127.0.0.1:9002, weight: 2 }]
 *       balance: least_conn            # and every key of HP__UPSTREAM_SETTING_KEYS
 *
 * hp__config_load_upstream_node (config.h: PUT /upstreams/{name}) reads one entry alone, the
 * same way. An entry is its name, its targets and the settings an inline proxy has too
 * (hp__upstream_model_read), so both read the same. The references from routes are checked
 * once the whole document is read, wherever `upstreams` is written: a route's check
 * (handlers/proxy_kind.c) sees only its own settings, so it keeps the name and the config
 * looks it up here. The error is at the name as written in the route, found again in the
 * tree (servers[i].routes[j].<the kind's key>.upstream): a route's model exists only for a
 * route that has that shape. */
#include "config/config_upstreams.h"

#include "common/alloc.h"
#include "config/config_suggest.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

typedef hp_config_check checker;

/* The keys of an entry: name, targets and every setting. */
static void check_entry_keys(checker *c, hp__cfg_node *map)
{
    const char *keys[2 + HP__UPSTREAM_SETTING_KEY_COUNT + 1] = {"name", "targets"};
    memcpy(keys + 2, HP__UPSTREAM_SETTING_KEYS, sizeof HP__UPSTREAM_SETTING_KEYS);
    hp_config_keys(c, map, keys);
}

/* An entry's name, or, with `expected` (the admin API's path), that name, which `name` may
 * repeat. */
static void check_entry_name(checker *c, hp__cfg_node *map, const char *expected,
                             hp__upstream_model *m)
{
    hp__cfg_node *n = hp__cfg_mapping_get(map, "name");
    const char *name = n ? hp_config_string(c, n) : NULL;
    if (expected) {
        if (name && strcmp(name, expected) != 0)
            hp_config_error(c, n, "\"%.*s\" is not the upstream's name, \"%s\"",
                            HP_CONFIG_QUOTE_MAX, name, expected);
        m->name = hp__strdup(expected);
    } else if (!n) {
        hp_config_error(c, map, "\"name\" is required");
    } else if (name && !hp__config_name_valid(name)) {
        hp_config_error(c, n, "\"%.*s\" is not a valid name: 1 to %d of A-Z a-z 0-9 . _ -",
                        HP_CONFIG_QUOTE_MAX, name, HP__CONFIG_NAME_MAX);
    } else if (name) {
        m->name = hp__strdup(name);
    }
}

static void check_entry(checker *c, hp__cfg_node *map, const char *expected, hp__upstream_model *m)
{
    m->pos = (hp_config_pos){map->line, map->column};
    if (!hp_config_expect_mapping(c, map)) return;
    check_entry_keys(c, map);
    check_entry_name(c, map, expected, m);
    hp__cfg_node *targets = hp__cfg_mapping_get(map, "targets");
    if (targets)
        hp__upstream_targets_read(c, targets, m);
    else
        hp_config_error(c, map, "\"targets\" is required");
    hp__upstream_model_read(c, map, m);
}

/* upstreams[i]'s name is not the name of one before it. */
static void check_name_unique(checker *c, hp__cfg_node *map, const hp__config *config, size_t i)
{
    const char *name = config->upstreams[i].name;
    for (size_t j = 0; name && j < i; j++) {
        if (config->upstreams[j].name && strcmp(config->upstreams[j].name, name) == 0) {
            hp_config_error(c, hp__cfg_mapping_get(map, "name"),
                            "\"%s\" is already used by upstreams[%zu]", name, j);
            return;
        }
    }
}

void hp__config_check_upstreams(checker *c, hp__cfg_node *list, hp__config *config)
{
    if (hp__cfg_is_null(list)) {
        hp__config_read_as(list, HP__CFG_READ_NULL);
        return;
    }
    if (list->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, list, "a list");
        return;
    }
    if (list->count > HP__UPSTREAMS_MAX) {
        hp_config_error(c, list, "at most %d upstreams, got %zu", HP__UPSTREAMS_MAX, list->count);
        return;
    }
    config->upstreams = hp__calloc(list->count ? list->count : 1, sizeof *config->upstreams);
    config->upstream_count = list->count;
    for (size_t i = 0; i < list->count; i++) {
        hp__upstream_model_init(&config->upstreams[i]);
        check_entry(c, list->items[i], NULL, &config->upstreams[i]);
        check_name_unique(c, list->items[i], config, i);
    }
}

int hp__config_load_upstream_node(hp__cfg_node *map, const char *name, hp__upstream_model *out,
                                  hp__config_errors *errs)
{
    size_t before = errs->count;
    checker c = {.errs = errs};
    hp__upstream_model_init(out);
    check_entry(&c, map, name, out);
    if (errs->count == before) return 0;
    hp__config_errors_sort(errs, before);
    hp__upstream_model_close(out);
    return HP_ECONFIG;
}

/* ---- references from routes ------------------------------------------------------------------ */

static bool upstream_known(const char *name, const hp__upstream_model *upstreams, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (upstreams[i].name && strcmp(upstreams[i].name, name) == 0) return true;
    return false;
}

static void fail_unknown(checker *c, hp__cfg_node *at, const char *name,
                         const hp__upstream_model *upstreams, size_t count)
{
    const char **names = hp__calloc(count + 1, sizeof *names);
    size_t known = 0;
    for (size_t i = 0; i < count; i++)
        if (upstreams[i].name) names[known++] = upstreams[i].name;
    const char *near = hp__config_suggest(name, names);
    if (near)
        hp_config_error(c, at, "no upstream named \"%s\" (did you mean \"%s\"?)", name, near);
    else
        hp_config_error(c, at, "no upstream named \"%s\"", name);
    free(names);
}

void hp__config_check_upstream_refs(checker *c, hp__cfg_node *server_map,
                                    const hp__config_server *s, const hp__upstream_model *upstreams,
                                    size_t count)
{
    hp__cfg_node *routes = hp_config_get(server_map, "routes");
    for (size_t i = 0; i < s->route_count; i++) {
        const hp__config_route *r = &s->routes[i];
        const hp__proxy_model *m = r->model;
        if (r->kind != &hp__proxy_kind || !m || !m->upstream) continue;
        if (upstream_known(m->upstream, upstreams, count)) continue;
        /* The model has a name only when routes[i].proxy.upstream is a string. */
        hp__cfg_node *settings = hp_config_get(routes->items[i], r->kind->key);
        fail_unknown(c, hp_config_get(settings, "upstream"), m->upstream, upstreams, count);
    }
}
