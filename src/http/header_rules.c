#include "http/header_rules.h"

#include "common/alloc.h"
#include "common/str.h"
#include "hostpool/errors.h"
#include "http/field_syntax.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const engine_fields[] = {"date", "content-length", "transfer-encoding",
                                            "connection", "x-request-id"};

static bool engine_owned(const char *name)
{
    for (size_t i = 0; i < sizeof engine_fields / sizeof engine_fields[0]; i++)
        if (strcasecmp(name, engine_fields[i]) == 0) return true;
    return false;
}

static bool name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return len > 0 && hp__token_length(name, len) == len;
}

const char *hp__header_rules_name_problem(const char *name)
{
    if (!name_valid(name)) return "is not a header name";
    if (engine_owned(name)) return "is the engine's own field: it cannot be set, added or removed";
    return NULL;
}

/* One name of `what`[i]: a token the engine does not own. */
static int check_name(const char *what, size_t i, const char *name, char *errbuf, size_t len)
{
    const char *problem = hp__header_rules_name_problem(name);
    if (!problem) return 0;
    snprintf(errbuf, len, "%s[%zu]: \"%s\" %s", what, i, name ? name : "", problem);
    return HP_EINVAL;
}

static int check_pairs(const char *what, const char *const *pairs, size_t count, char *errbuf,
                       size_t len)
{
    for (size_t i = 0; i < count; i++) {
        int err = check_name(what, i, pairs[2 * i], errbuf, len);
        if (err) return err;
        const char *value = pairs[2 * i + 1];
        if (!value || !hp__field_value_valid(hp__str(value, strlen(value)))) {
            snprintf(errbuf, len, "%s[%zu]: the value of %s holds a control character", what, i,
                     pairs[2 * i]);
            return HP_EINVAL;
        }
    }
    return 0;
}

int hp__header_rules_check(const hp_header_rules *r, char *errbuf, size_t len)
{
    if (!r) return 0;
    int err = check_pairs("set", r->set, r->set_count, errbuf, len);
    if (!err) err = check_pairs("add", r->add, r->add_count, errbuf, len);
    for (size_t i = 0; !err && i < r->remove_count; i++)
        err = check_name("remove", i, r->remove[i], errbuf, len);
    for (size_t i = 0; !err && i < r->set_count; i++) {
        const char *name = r->set[2 * i];
        for (size_t k = 0; !err && k < i; k++)
            if (strcasecmp(name, r->set[2 * k]) == 0) {
                snprintf(errbuf, len, "set[%zu]: %s is set twice", i, name);
                err = HP_EINVAL;
            }
        for (size_t k = 0; !err && k < r->remove_count; k++)
            if (strcasecmp(name, r->remove[k]) == 0) {
                snprintf(errbuf, len, "set[%zu]: %s is both set and removed", i, name);
                err = HP_EINVAL;
            }
    }
    return err;
}

static bool has_rules(const hp_header_rules *r)
{
    return r && (r->set_count || r->add_count || r->remove_count);
}

/* Does `r` (may be NULL) set or remove `name`? */
static bool drops(const hp_header_rules *r, const char *name)
{
    if (!r) return false;
    for (size_t i = 0; i < r->set_count; i++)
        if (strcasecmp(r->set[2 * i], name) == 0) return true;
    for (size_t i = 0; i < r->remove_count; i++)
        if (strcasecmp(r->remove[i], name) == 0) return true;
    return false;
}

/* The lines of `pairs` not dropped by `later`, appended at out[*n] (out NULL: only counted). */
static void put_lines(const char *const *pairs, size_t count, const hp_header_rules *later,
                      char *out, size_t *n)
{
    for (size_t i = 0; i < count; i++) {
        const char *name = pairs[2 * i], *value = pairs[2 * i + 1];
        if (drops(later, name)) continue;
        size_t nl = strlen(name), vl = strlen(value);
        if (out) {
            memcpy(out + *n, name, nl);
            memcpy(out + *n + nl, ": ", 2);
            memcpy(out + *n + nl + 2, value, vl);
            memcpy(out + *n + nl + 2 + vl, "\r\n", 2);
        }
        *n += nl + vl + 4;
    }
}

/* The lines of `first` (not dropped by `then`), then those of `then`. */
static size_t put_all_lines(const hp_header_rules *first, const hp_header_rules *then, char *out)
{
    size_t n = 0;
    if (first) {
        put_lines(first->set, first->set_count, then, out, &n);
        put_lines(first->add, first->add_count, then, out, &n);
    }
    if (then) {
        put_lines(then->set, then->set_count, NULL, out, &n);
        put_lines(then->add, then->add_count, NULL, out, &n);
    }
    return n;
}

static void add_drop(hp__header_rules *rules, const char *name)
{
    for (size_t i = 0; i < rules->drop_count; i++)
        if (rules->drop[i].len == strlen(name) && hp__str_ieq(rules->drop[i], name)) return;
    rules->drop[rules->drop_count++] = hp__str(hp__strdup(name), strlen(name));
}

static void add_drops(hp__header_rules *rules, const hp_header_rules *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->set_count; i++) add_drop(rules, r->set[2 * i]);
    for (size_t i = 0; i < r->remove_count; i++) add_drop(rules, r->remove[i]);
}

hp__header_rules *hp__header_rules_create(const hp_header_rules *server,
                                          const hp_header_rules *route)
{
    if (!has_rules(server) && !has_rules(route)) return NULL;
    hp__header_rules *rules = HP_NEW(hp__header_rules);
    rules->lines_len = put_all_lines(server, route, NULL);
    rules->lines = hp__malloc(rules->lines_len + 1);
    put_all_lines(server, route, rules->lines);
    size_t drops_max = (server ? server->set_count + server->remove_count : 0) +
                       (route ? route->set_count + route->remove_count : 0);
    rules->drop = hp__calloc(drops_max ? drops_max : 1, sizeof *rules->drop);
    add_drops(rules, server);
    add_drops(rules, route);
    return rules;
}

void hp__header_rules_destroy(hp__header_rules *rules)
{
    if (!rules) return;
    for (size_t i = 0; i < rules->drop_count; i++) free((char *)rules->drop[i].base);
    free(rules->drop);
    free(rules->lines);
    free(rules);
}

static bool dropped(const hp__header_rules *rules, const char *name, size_t len)
{
    for (size_t i = 0; i < rules->drop_count; i++)
        if (rules->drop[i].len == len && hp__mem_ieq(rules->drop[i].base, name, len)) return true;
    return false;
}

size_t hp__header_rules_filter(const hp__header_rules *rules, char *fields, size_t len)
{
    if (!rules->drop_count) return len;
    size_t in = 0, out = 0;
    while (in < len) {
        const char *line = fields + in;
        const char *end = memchr(line, '\n', len - in);
        size_t line_len = end ? (size_t)(end - line) + 1 : len - in;
        const char *colon = memchr(line, ':', line_len);
        size_t name_len = colon ? (size_t)(colon - line) : line_len;
        if (!dropped(rules, line, name_len)) {
            memmove(fields + out, line, line_len);
            out += line_len;
        }
        in += line_len;
    }
    return out;
}

static const char *const *copy_strings(const char *const *from, size_t count)
{
    char **to = hp__calloc(count ? count : 1, sizeof *to);
    for (size_t i = 0; i < count; i++) to[i] = hp__strdup(from[i]);
    return (const char *const *)to;
}

hp_header_rules *hp__header_rules_config_copy(const hp_header_rules *rules)
{
    if (!rules) return NULL;
    hp_header_rules *copy = HP_NEW(hp_header_rules);
    *copy = (hp_header_rules){
        .set = copy_strings(rules->set, 2 * rules->set_count),
        .set_count = rules->set_count,
        .add = copy_strings(rules->add, 2 * rules->add_count),
        .add_count = rules->add_count,
        .remove = copy_strings(rules->remove, rules->remove_count),
        .remove_count = rules->remove_count,
    };
    return copy;
}

static void free_strings(const char *const *strings, size_t count)
{
    for (size_t i = 0; i < count; i++) free((char *)strings[i]);
    free((void *)strings);
}

void hp__header_rules_config_free(hp_header_rules *rules)
{
    if (!rules) return;
    free_strings(rules->set, 2 * rules->set_count);
    free_strings(rules->add, 2 * rules->add_count);
    free_strings(rules->remove, rules->remove_count);
    free(rules);
}
