#include "config/config_headers.h"

#include "common/alloc.h"
#include "http/field_syntax.h"
#include "http/header_rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing list of strings: the pairs or names of one rule. */
typedef struct strings {
    char **items;
    size_t count, cap;
} strings;

static void push(strings *l, const char *s)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->items = hp__realloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = hp__strdup(s);
}

static bool name_ok(hp_config_check *c, hp__cfg_node *at, const char *name)
{
    const char *problem = hp__header_rules_name_problem(name);
    if (problem) hp_config_error(c, at, "\"%.*s\" %s", HP_CONFIG_QUOTE_MAX, name, problem);
    return !problem;
}

static bool value_ok(hp_config_check *c, hp__cfg_node *n, const char **value)
{
    *value = hp_config_string(c, n);
    if (!*value) return false;
    if (hp__field_value_valid((hp_str){*value, strlen(*value)})) return true;
    hp_config_error(c, n, "a header value must not hold control characters");
    return false;
}

/* `set` or `add`: a mapping of names to a value (`add` also to a list of values). */
static bool read_pairs(hp_config_check *c, hp__cfg_node *map, bool lists, strings *out)
{
    if (!hp_config_expect_mapping(c, map)) return false;
    bool ok = true;
    for (size_t i = 0; i < map->count; i++) {
        const char *name = map->keys[i]->text;
        hp__cfg_node *v = map->items[i];
        ok &= name_ok(c, v, name);
        size_t n = lists && v->kind == HP__CFG_SEQUENCE ? v->count : 1;
        for (size_t k = 0; k < n; k++) {
            const char *value;
            hp__cfg_node *item = lists && v->kind == HP__CFG_SEQUENCE ? v->items[k] : v;
            if (!value_ok(c, item, &value)) {
                ok = false;
                continue;
            }
            push(out, name);
            push(out, value);
        }
    }
    return ok;
}

static bool read_names(hp_config_check *c, hp__cfg_node *n, strings *out)
{
    if (n->kind == HP__CFG_SCALAR) {
        const char *name = hp_config_string(c, n);
        if (!name || !name_ok(c, n, name)) return false;
        push(out, name);
        return true;
    }
    if (n->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, n, "a header name or a list of them");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) ok &= read_names(c, n->items[i], out);
    return ok;
}

/* A name set twice, or both set and removed, is reported at the later one. */
static bool no_conflict(hp_config_check *c, hp__cfg_node *map, const strings *set,
                        const strings *remove)
{
    bool ok = true;
    for (size_t i = 0; i < set->count; i += 2) {
        for (size_t k = 0; k < i; k += 2)
            if (strcasecmp(set->items[i], set->items[k]) == 0) {
                hp_config_error(c, hp__cfg_mapping_get(map, "set"), "%s is set twice",
                                set->items[i]);
                ok = false;
            }
        for (size_t k = 0; k < remove->count; k++)
            if (strcasecmp(set->items[i], remove->items[k]) == 0) {
                hp_config_error(c, hp__cfg_mapping_get(map, "remove"), "%s is both set and removed",
                                set->items[i]);
                ok = false;
            }
    }
    return ok;
}

static void strings_free(strings *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
}

hp_header_rules *hp__config_read_headers(hp_config_check *c, hp__cfg_node *map)
{
    static const char *const keys[] = {"set", "add", "remove", NULL};
    if (!hp_config_expect_mapping(c, map)) return NULL;
    hp_config_keys(c, map, keys);
    strings set = {0}, add = {0}, remove = {0};
    bool ok = true;
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "set"))) ok &= read_pairs(c, n, false, &set);
    if ((n = hp__cfg_mapping_get(map, "add"))) ok &= read_pairs(c, n, true, &add);
    if ((n = hp__cfg_mapping_get(map, "remove"))) ok &= read_names(c, n, &remove);
    if (ok) ok = no_conflict(c, map, &set, &remove);
    if (!ok) {
        strings_free(&set);
        strings_free(&add);
        strings_free(&remove);
        return NULL;
    }
    hp_header_rules *rules = HP_NEW(hp_header_rules);
    *rules = (hp_header_rules){
        .set = (const char *const *)set.items,
        .set_count = set.count / 2,
        .add = (const char *const *)add.items,
        .add_count = add.count / 2,
        .remove = (const char *const *)remove.items,
        .remove_count = remove.count,
    };
    return rules;
}

void hp__config_headers_free(hp_header_rules *rules)
{
    hp__header_rules_config_free(rules);
}
