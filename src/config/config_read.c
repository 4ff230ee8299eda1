/* Reading a config's values: the typed reads of hostpool/handler_kind.h and the errors they
 * report, shared by the config checker (config.c) and every handler kind's check.
 *
 * Each read either succeeds and marks the scalar with what it read it as (node.h), or adds one
 * error at the node (config_errors.h: file:line:column: path: message) and fails; the caller
 * goes on with the next setting, so one pass reports everything wrong with a document. */
#include "config/config_check.h"

#include "common/units.h"
#include "config/config_suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- errors ---- */

static void vfail_at(hp_config_check *c, hp__cfg_node *path_node, hp__cfg_node *pos_node,
                     const char *fmt, va_list ap)
{
    char *path = hp__cfg_node_path(path_node);
    hp__config_errors_vadd(c->errs, hp__cfg_node_file(pos_node, c->file), pos_node->line,
                           pos_node->column, path, fmt, ap);
    free(path);
}

void hp_config_error(hp_config_check *c, hp__cfg_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(c, n, n, fmt, ap);
    va_end(ap);
}

void hp__config_fail_at(hp_config_check *c, hp__cfg_node *path_node, hp__cfg_node *pos_node,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(c, path_node, pos_node, fmt, ap);
    va_end(ap);
}

const char *hp__config_describe(const hp__cfg_node *n, char *buf, size_t len)
{
    if (n->kind == HP__CFG_MAPPING) return "a mapping";
    if (n->kind == HP__CFG_SEQUENCE) return "a list";
    if (hp__cfg_is_null(n)) return "null";
    int shown = n->len > HP_CONFIG_QUOTE_MAX ? HP_CONFIG_QUOTE_MAX : (int)n->len;
    snprintf(buf, len, "\"%.*s%s\"", shown, n->text, n->len > HP_CONFIG_QUOTE_MAX ? "..." : "");
    return buf;
}

void hp__config_fail_type(hp_config_check *c, hp__cfg_node *n, const char *expected)
{
    char buf[HP_CONFIG_QUOTE_MAX + 8];
    hp_config_error(c, n, "expected %s, got %s", expected, hp__config_describe(n, buf, sizeof buf));
}

void hp__config_fail_unknown_key(hp_config_check *c, hp__cfg_node *map, hp__cfg_node *key,
                                 const char *const *allowed)
{
    const char *near = hp__config_suggest(key->text, allowed);
    if (near)
        hp__config_fail_at(c, map, key, "unknown key \"%s\" (did you mean \"%s\"?)", key->text,
                           near);
    else
        hp__config_fail_at(c, map, key, "unknown key \"%s\"", key->text);
}

/* ---- the shape of the document ---- */

hp__cfg_node *hp_config_get(const hp__cfg_node *map, const char *key)
{
    return map->kind == HP__CFG_MAPPING ? hp__cfg_mapping_get(map, key) : NULL;
}

size_t hp_config_count(const hp__cfg_node *n)
{
    return n->kind == HP__CFG_SCALAR ? 0 : n->count;
}

hp__cfg_node *hp_config_key_at(const hp__cfg_node *n, size_t i)
{
    return n->kind == HP__CFG_MAPPING ? n->keys[i] : NULL;
}

hp__cfg_node *hp_config_item(const hp__cfg_node *n, size_t i)
{
    return n->items[i];
}

const char *hp_config_text(const hp__cfg_node *n)
{
    return n->kind == HP__CFG_SCALAR ? n->text : NULL;
}

hp_config_pos hp_config_node_pos(const hp__cfg_node *n)
{
    return (hp_config_pos){n->line, n->column};
}

bool hp_config_expect_mapping(hp_config_check *c, hp__cfg_node *n)
{
    if (n->kind == HP__CFG_MAPPING) return true;
    hp__config_fail_type(c, n, "a mapping");
    return false;
}

/* Every key of `map` is one of `allowed`, or an error (with the allowed key it is near). */
void hp_config_keys(hp_config_check *c, hp__cfg_node *map, const char *const *allowed)
{
    for (size_t i = 0; i < map->count; i++) {
        hp__cfg_node *key = map->keys[i];
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++) known = strcmp(key->text, *a) == 0;
        if (!known) hp__config_fail_unknown_key(c, map, key, allowed);
    }
}

/* ---- typed reads ---- */

const char *hp_config_bytes(hp_config_check *c, hp__cfg_node *n, size_t *len)
{
    if (n->kind != HP__CFG_SCALAR || hp__cfg_is_null(n)) {
        hp__config_fail_type(c, n, "a string");
        return NULL;
    }
    hp__config_read_as(n, HP__CFG_READ_STRING);
    *len = n->len;
    return n->text;
}

const char *hp_config_string(hp_config_check *c, hp__cfg_node *n)
{
    if (n->kind != HP__CFG_SCALAR || hp__cfg_is_null(n)) {
        hp__config_fail_type(c, n, "a string");
        return NULL;
    }
    if (strlen(n->text) != n->len) {
        hp_config_error(c, n, "must not contain a NUL character");
        return NULL;
    }
    hp__config_read_as(n, HP__CFG_READ_STRING);
    return n->text;
}

bool hp__config_plain_number(const hp__cfg_node *n, double *out)
{
    if (n->kind != HP__CFG_SCALAR || n->quoted || n->len == 0) return false;
    if (n->text[0] < '0' || n->text[0] > '9' || strspn(n->text, "0123456789.eE+-") != n->len)
        return false;
    char *end = NULL;
    double v = strtod(n->text, &end);
    if (*end) return false;
    *out = v;
    return true;
}

bool hp__config_plain_integer(const hp__cfg_node *n)
{
    if (n->kind != HP__CFG_SCALAR || n->quoted || n->len == 0) return false;
    const char *p = n->text + (n->text[0] == '-');
    if (!*p) return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return false;
    return true;
}

bool hp_config_integer(hp_config_check *c, hp__cfg_node *n, long long lo, long long hi,
                       long long *out)
{
    if (!hp__config_plain_integer(n)) {
        hp__config_fail_type(c, n, "an integer");
        return false;
    }
    errno = 0;
    long long v = strtoll(n->text, NULL, 10);
    if (errno || v < lo || v > hi) {
        hp_config_error(c, n, "%s out of range (%lld-%lld)", n->text, lo, hi);
        return false;
    }
    hp__config_read_as(n, HP__CFG_READ_INTEGER);
    *out = v;
    return true;
}

bool hp_config_boolean(hp_config_check *c, hp__cfg_node *n, bool *out)
{
    static const char *const words[] = {"true", "on", "yes", "false", "off", "no"};
    for (size_t i = 0; n->kind == HP__CFG_SCALAR && i < sizeof words / sizeof *words; i++) {
        if (strcasecmp(n->text, words[i]) != 0) continue;
        *out = i < 3;
        hp__config_read_as(n, *out ? HP__CFG_READ_TRUE : HP__CFG_READ_FALSE);
        return true;
    }
    hp__config_fail_type(c, n, "on or off");
    return false;
}

bool hp__config_amount(hp_config_check *c, hp__cfg_node *n, hp__config_amount_kind kind,
                       uint64_t min, uint64_t max, uint64_t *out)
{
    char buf[HP_CONFIG_QUOTE_MAX + 8], bound[32];
    bool duration = kind == HP__CONFIG_DURATION;
    if (kind == HP__CONFIG_COUNT) {
        long long v;
        if (!hp_config_integer(c, n, (long long)min, (long long)max, &v)) return false;
        *out = (uint64_t)v;
        return true;
    }
    if (n->kind != HP__CFG_SCALAR || hp__cfg_is_null(n)) {
        hp__config_fail_type(c, n, duration ? "a duration" : "a size");
        return false;
    }
    bool ok = duration ? hp__parse_duration_ms(n->text, out) : hp__parse_size(n->text, out);
    if (!ok) {
        hp_config_error(c, n, "%s is not a %s: %s", hp__config_describe(n, buf, sizeof buf),
                        duration ? "duration" : "size",
                        duration ? HP__DURATION_SYNTAX : HP__SIZE_SYNTAX);
        return false;
    }
    if (*out < min) {
        hp_config_error(c, n, "must be greater than 0");
        return false;
    }
    if (*out > max) {
        if (duration)
            hp__format_duration_ms(max, bound, sizeof bound);
        else
            hp__format_size(max, bound, sizeof bound);
        hp_config_error(c, n, "%s is too large (at most %s)",
                        hp__config_describe(n, buf, sizeof buf), bound);
        return false;
    }
    /* A bare number is kept a number, a number with its unit a string. */
    hp__config_read_as(n, strspn(n->text, "0123456789") == n->len ? HP__CFG_READ_INTEGER
                                                                  : HP__CFG_READ_STRING);
    return true;
}

bool hp__config_name_valid(const char *s)
{
    size_t len = strlen(s);
    return len >= 1 && len <= HP__CONFIG_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") == len;
}
