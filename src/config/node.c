#include "config/node.h"

#include "common/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hp__cfg_node *hp__cfg_scalar_create(const char *text, size_t len, bool quoted, int line, int column)
{
    hp__cfg_node *n = HP_NEW(hp__cfg_node);
    n->kind = HP__CFG_SCALAR;
    n->line = line;
    n->column = column;
    n->text = hp__malloc(len + 1);
    memcpy(n->text, text, len);
    n->text[len] = '\0';
    n->len = len;
    n->quoted = quoted;
    return n;
}

hp__cfg_node *hp__cfg_collection_create(hp__cfg_kind kind, int line, int column)
{
    hp__cfg_node *n = HP_NEW(hp__cfg_node);
    n->kind = kind;
    n->line = line;
    n->column = column;
    return n;
}

void hp__cfg_node_destroy(hp__cfg_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->count; i++) {
        hp__cfg_node_destroy(n->items[i]);
        if (n->keys) hp__cfg_node_destroy(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->text);
    free(n->file);
    free(n);
}

static void grow(hp__cfg_node *n)
{
    if (n->count < n->cap) return;
    n->cap = n->cap ? 2 * n->cap : 4;
    n->items = hp__realloc(n->items, n->cap * sizeof *n->items);
    if (n->kind == HP__CFG_MAPPING) n->keys = hp__realloc(n->keys, n->cap * sizeof *n->keys);
}

void hp__cfg_sequence_append(hp__cfg_node *seq, hp__cfg_node *item)
{
    grow(seq);
    item->parent = seq;
    item->index = seq->count;
    seq->items[seq->count++] = item;
}

void hp__cfg_mapping_append(hp__cfg_node *map, hp__cfg_node *key, hp__cfg_node *value)
{
    grow(map);
    key->parent = map;
    key->key = key->text; /* a key's path is its value's */
    value->parent = map;
    value->key = key->text;
    map->keys[map->count] = key;
    map->items[map->count++] = value;
}

hp__cfg_node *hp__cfg_mapping_key(const hp__cfg_node *map, const char *key, size_t len)
{
    for (size_t i = 0; i < map->count; i++)
        if (map->keys[i]->len == len && memcmp(map->keys[i]->text, key, len) == 0)
            return map->keys[i];
    return NULL;
}

/* The index of `key` in `map`, or map->count when it has none. */
static size_t index_of(const hp__cfg_node *map, const char *key)
{
    size_t len = strlen(key), i = 0;
    while (i < map->count &&
           !(map->keys[i]->len == len && memcmp(map->keys[i]->text, key, len) == 0))
        i++;
    return i;
}

hp__cfg_node *hp__cfg_mapping_get(const hp__cfg_node *map, const char *key)
{
    size_t i = index_of(map, key);
    return i < map->count ? map->items[i] : NULL;
}

bool hp__cfg_is_null(const hp__cfg_node *n)
{
    if (n->kind != HP__CFG_SCALAR || n->quoted) return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

void hp__cfg_mapping_remove(hp__cfg_node *map, const char *key)
{
    size_t i = index_of(map, key);
    if (i == map->count) return;
    hp__cfg_node_destroy(map->items[i]);
    hp__cfg_node_destroy(map->keys[i]);
    memmove(map->items + i, map->items + i + 1, (map->count - i - 1) * sizeof *map->items);
    memmove(map->keys + i, map->keys + i + 1, (map->count - i - 1) * sizeof *map->keys);
    map->count--;
}

void hp__cfg_mapping_replace(hp__cfg_node *map, const char *key, hp__cfg_node *value)
{
    size_t i = index_of(map, key);
    hp__cfg_node_destroy(map->items[i]);
    value->parent = map;
    value->key = map->keys[i]->text;
    map->items[i] = value;
}

const char *hp__cfg_node_file(const hp__cfg_node *n, const char *fallback)
{
    for (; n; n = n->parent)
        if (n->file) return n->file;
    return fallback;
}

static size_t write_path(const hp__cfg_node *n, char *out)
{
    if (!n->parent) return 0;
    size_t len = write_path(n->parent, out);
    char index[32];
    const char *part = index;
    if (n->parent->kind == HP__CFG_SEQUENCE) {
        snprintf(index, sizeof index, "[%zu]", n->index);
    } else {
        part = n->key;
        if (len) {
            if (out) out[len] = '.';
            len++;
        }
    }
    size_t plen = strlen(part);
    if (out) memcpy(out + len, part, plen);
    return len + plen;
}

char *hp__cfg_node_path(const hp__cfg_node *n)
{
    size_t len = write_path(n, NULL);
    char *out = hp__malloc(len + 1);
    write_path(n, out);
    out[len] = '\0';
    return out;
}

/* A real as the shortest text that reads back as the same double, never like an integer. */
static void format_real(double v, char *out, size_t cap)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (strtod(out, NULL) == v) break;
    }
    if (strspn(out, "-0123456789") == strlen(out)) strncat(out, ".0", cap - strlen(out) - 1);
}

hp__cfg_node *hp__cfg_node_from_json(const json_t *json)
{
    char number[64];
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        hp__cfg_node *map = hp__cfg_collection_create(HP__CFG_MAPPING, 0, 0);
        const char *key;
        json_t *value;
        /* jansson keeps object keys in insertion order. The iteration macro wants a
         * non-const object; nothing is modified. */
        json_object_foreach((json_t *)json, key, value)
        {
            hp__cfg_node *k = hp__cfg_scalar_create(key, strlen(key), true, 0, 0);
            hp__cfg_mapping_append(map, k, hp__cfg_node_from_json(value));
        }
        return map;
    }
    case JSON_ARRAY: {
        hp__cfg_node *seq = hp__cfg_collection_create(HP__CFG_SEQUENCE, 0, 0);
        for (size_t i = 0; i < json_array_size(json); i++)
            hp__cfg_sequence_append(seq, hp__cfg_node_from_json(json_array_get(json, i)));
        return seq;
    }
    case JSON_STRING:
        return hp__cfg_scalar_create(json_string_value(json), json_string_length(json), true, 0, 0);
    case JSON_INTEGER:
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(json));
        return hp__cfg_scalar_create(number, strlen(number), false, 0, 0);
    case JSON_REAL:
        format_real(json_real_value(json), number, sizeof number);
        return hp__cfg_scalar_create(number, strlen(number), false, 0, 0);
    case JSON_TRUE:
        return hp__cfg_scalar_create("true", 4, false, 0, 0);
    case JSON_FALSE:
        return hp__cfg_scalar_create("false", 5, false, 0, 0);
    case JSON_NULL:
    default:
        return hp__cfg_scalar_create("null", 4, false, 0, 0);
    }
}

/* A plain scalar as JSON: null, a boolean, an integer, or else a string. */
static json_t *plain_scalar_json(const hp__cfg_node *n)
{
    if (hp__cfg_is_null(n)) return json_null();
    if (strcmp(n->text, "true") == 0) return json_true();
    if (strcmp(n->text, "false") == 0) return json_false();
    const char *digits = n->text + (n->text[0] == '-');
    if (*digits && strspn(digits, "0123456789") == strlen(digits) && strlen(digits) < 19)
        return json_integer(strtoll(n->text, NULL, 10));
    return json_stringn(n->text, n->len);
}

/* A scalar the checker read, as it read it. */
static json_t *read_scalar_json(const hp__cfg_node *n)
{
    switch (n->read) {
    case HP__CFG_READ_STRING:
        return json_stringn(n->text, n->len);
    case HP__CFG_READ_INTEGER:
        return json_integer(strtoll(n->text, NULL, 10));
    case HP__CFG_READ_REAL:
        return json_real(strtod(n->text, NULL));
    case HP__CFG_READ_TRUE:
        return json_true();
    case HP__CFG_READ_FALSE:
        return json_false();
    case HP__CFG_READ_NULL:
    default:
        return json_null();
    }
}

json_t *hp__cfg_node_to_json(const hp__cfg_node *node)
{
    json_t *out;
    switch (node->kind) {
    case HP__CFG_MAPPING:
        out = json_object();
        for (size_t i = 0; i < node->count; i++)
            json_object_set_new(out, node->keys[i]->text, hp__cfg_node_to_json(node->items[i]));
        return out;
    case HP__CFG_SEQUENCE:
        out = json_array();
        for (size_t i = 0; i < node->count; i++)
            json_array_append_new(out, hp__cfg_node_to_json(node->items[i]));
        return out;
    case HP__CFG_SCALAR:
    default:
        if (node->read != HP__CFG_UNREAD) return read_scalar_json(node);
        return node->quoted ? json_stringn(node->text, node->len) : plain_scalar_json(node);
    }
}
