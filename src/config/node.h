/* A positioned document tree: what a config file says, before it means anything.
 *
 * Three kinds of node, as in YAML: a scalar (its text, and whether it was quoted: "8080" is
 * a string, 8080 may be a number), a mapping (keys in document order, each key a scalar
 * node with its own position) and a sequence. Every node knows its 1-based line and column
 * (0 when the tree was built from a jansson value, which has no positions) and its parent,
 * so the path of any node ("servers[2].listen") can be written for an error.
 *
 * The config checker (config.c) records on each scalar it reads what it read it as (`read`):
 * a string, an integer, a real, a boolean or null. hp__cfg_node_to_json() writes that, so the JSON
 * of a checked tree is the checked form of the document (`name: 5` in YAML, or `"name": 5` in JSON,
 * is the string "5" there), whatever the source spelled.
 *
 * Builders: hp__cfg_parse_* (src/config/parse.c) from YAML or JSON text, and
 * hp__cfg_node_from_json() from a jansson value (the admin API's bodies). A tree is owned by
 * whoever built it and freed with hp__cfg_node_destroy() on its root. */
#ifndef HP_CONFIG_NODE_H
#define HP_CONFIG_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum hp__cfg_kind { HP__CFG_SCALAR, HP__CFG_MAPPING, HP__CFG_SEQUENCE } hp__cfg_kind;

/* What the checker read a scalar as; HP__CFG_UNREAD until it did. */
typedef enum hp__cfg_read {
    HP__CFG_UNREAD,
    HP__CFG_READ_STRING,
    HP__CFG_READ_INTEGER,
    HP__CFG_READ_REAL, /* a number with a fraction: breaker.error_ratio */
    HP__CFG_READ_TRUE,
    HP__CFG_READ_FALSE,
    HP__CFG_READ_NULL,
} hp__cfg_read;

/* hp_config_node in the public API (hostpool/handler_kind.h), which handler kinds read. */
typedef struct hp_config_node hp__cfg_node;
struct hp_config_node {
    hp__cfg_kind kind;
    int line, column; /* 1-based; 0 when unknown */
    hp__cfg_node *parent;
    const char *key; /* in a mapping: the key's text (borrowed from the key node) */
    size_t index;    /* in a sequence: the position */
    /* scalar */
    char *text; /* NUL-terminated; may hold NUL bytes before `len` */
    size_t len;
    bool quoted;       /* quoted in the source, or a JSON string, or tagged !!str */
    hp__cfg_read read; /* set by the checker */
    /* The file this node was read from when it is not its parent's (an entry an `include`
     * brought into a list, config_include.h), else NULL; owned. hp__cfg_node_file() finds it. */
    char *file;
    /* mapping and sequence: `count` items; a mapping's keys[i] is the key of items[i] */
    hp__cfg_node **items;
    hp__cfg_node **keys;
    size_t count, cap;
};

hp__cfg_node *hp__cfg_scalar_create(const char *text, size_t len, bool quoted, int line,
                                    int column);
hp__cfg_node *hp__cfg_collection_create(hp__cfg_kind kind, int line, int column);
void hp__cfg_node_destroy(hp__cfg_node *node);

/* Appends `item` to a sequence; takes ownership. */
void hp__cfg_sequence_append(hp__cfg_node *seq, hp__cfg_node *item);
/* Appends `key: value` to a mapping; takes ownership of both (`key` is a scalar). The caller
 * checks for duplicates first (hp__cfg_mapping_key). */
void hp__cfg_mapping_append(hp__cfg_node *map, hp__cfg_node *key, hp__cfg_node *value);

/* The value of `key` in a mapping, or NULL. Borrowed. */
hp__cfg_node *hp__cfg_mapping_get(const hp__cfg_node *map, const char *key);
/* The key node of `key` in a mapping, or NULL. Borrowed. */
hp__cfg_node *hp__cfg_mapping_key(const hp__cfg_node *map, const char *key, size_t len);

/* Removes `key` and its value from a mapping (and frees them); nothing when it is not there. */
void hp__cfg_mapping_remove(hp__cfg_node *map, const char *key);
/* Replaces the value of `key` in a mapping with `value` (taking ownership, freeing the old one);
 * the key must be there. */
void hp__cfg_mapping_replace(hp__cfg_node *map, const char *key, hp__cfg_node *value);

/* The file `node` was read from: the `file` of the nearest node up from it that has one, else
 * `fallback` (the document's own file). Borrowed. */
const char *hp__cfg_node_file(const hp__cfg_node *node, const char *fallback);

/* Is it a plain null ("", "~", "null")? */
bool hp__cfg_is_null(const hp__cfg_node *node);

/* The path of `node` from the root: "servers[2].listen"; "" for the root. Owned (free). */
char *hp__cfg_node_path(const hp__cfg_node *node);

/* A tree from a jansson value, without positions: strings are quoted scalars, numbers, true,
 * false and null are plain ones (a real in its shortest text that reads back the same, with
 * ".0" when it has no fraction, so it is never taken for an integer). The value is borrowed;
 * the tree is new. */
hp__cfg_node *hp__cfg_node_from_json(const json_t *json);
/* The reverse, for the running config the admin API shows: mappings are objects, sequences
 * arrays; a scalar the checker read is what it read it as (the integer of "0080" is 80, "on"
 * is true). A scalar it did not read (a tree nobody checked: `hostpool add -f` sends one) is a
 * string when quoted, else null, true, false or an integer when it reads as one, else a
 * string. Taking the JSON of a checked tree back through hp__cfg_node_from_json gives a tree
 * the checker reads as it read `node`. New reference. */
json_t *hp__cfg_node_to_json(const hp__cfg_node *node);

#endif
