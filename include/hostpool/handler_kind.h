/* Handler kinds: the handlers a config can name, each described once.
 *
 * A handler kind is what a handler key of a route means in a config (`respond: {...}`,
 * `file: {...}`, or a key an embedding program registers): how its settings are checked, what
 * the checked settings (its model) are, and how a handler is made from a model. Everything
 * that reads a config finds handlers through one registry: the built-in kinds (respond, file,
 * redirect, metrics, health, proxy; src/handlers/, one file each) and the kinds registered with
 * hp_handler_kind_register(). So a registered key works wherever the library reads a config:
 * a file loaded with hp_config_load_file() (hostpool/config.h), and the admin API's POST
 * /servers and POST /config in a program that registered it.
 *
 * Checking. check() reads its settings through the hp_config_* functions below. Each reports
 * a problem the way every config error is reported, as `file:line:column: path: message`
 * (`servers[0].routes[1].echo.prefix: expected a string, got a list`), and marks the scalar
 * it read with what it read it as, so the running config (GET /config) is the checked form of
 * the document, whatever the source spelled. A scalar no read touched goes into the running
 * config as JSON would read it. A check reports every problem it finds, never only the first:
 * any problem discards the whole config, models included (free_model). Loading never makes a
 * handler and opens no file; build() does, when the server is built (on `validate` and
 * before a server joins a pool).
 *
 * Threads: register every kind before any config is loaded or checked, on one thread. The
 * first check closes the registry (later registrations fail with HP_ESTATE), and it is read
 * without a lock from then on. check() runs on the thread that loads a config, build() on
 * the one that builds a server (the control thread in the daemon; a handler it makes is then
 * shared by every worker: hostpool/handler.h). */
#ifndef HOSTPOOL_HANDLER_KIND_H
#define HOSTPOOL_HANDLER_KIND_H

#include "hostpool/handler.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp_config_node hp_config_node;   /* a node of a config document (borrowed) */
typedef struct hp_config_check hp_config_check; /* the check of a config in progress */
typedef struct hp_config_build hp_config_build; /* the build of one route's handler */

/* Where a node is written: 1-based; line 0 when unknown (a document posted as JSON). */
typedef struct hp_config_pos {
    int line, column;
} hp_config_pos;

/* At most this many characters of a value are quoted in a message. */
#define HP_CONFIG_QUOTE_MAX 60

typedef struct hp_handler_kind {
    /* The route's key: 1 to 32 of a-z 0-9 _, starting with a letter; not "match". */
    const char *key;
    /* Checks `settings` (the key's value: any node, not always a mapping) and returns the
     * model: the checked settings the kind keeps until the config is destroyed. NULL is a
     * model too (a kind without settings). Problems are reported, not returned. Required. */
    void *(*check)(hp_config_check *check, hp_config_node *settings);
    /* Makes a handler from a model (of a config without errors) into *out and returns 0, or
     * returns an error code (hostpool/errors.h). A failure that hp_config_build_error() did
     * not report is reported as "cannot create the handler: <the error's message>" at the
     * route. Required. */
    int (*build)(const void *model, hp_config_build *build, hp_handler **out);
    /* Frees a model check() returned (never called with NULL). NULL: there is nothing to
     * free. */
    void (*free_model)(void *model);
} hp_handler_kind;

/* Makes configs accept `kind->key` as a route's handler. `kind` is copied, its key too.
 * Errors: HP_EINVAL (a key that is not a valid one, no check or build), HP_EEXISTS (the key is
 * a built-in's or was registered already), HP_ELIMIT (32 kinds are registered already),
 * HP_ESTATE (a config was checked already: see Threads above). */
int hp_handler_kind_register(const hp_handler_kind *kind);

/* ---- reading settings, for check() ------------------------------------------------------- */

/* The value of `key` in a mapping, or NULL (also when `map` is not a mapping). Borrowed. */
hp_config_node *hp_config_get(const hp_config_node *map, const char *key);
/* The entries of a mapping or the items of a list; 0 for a scalar. */
size_t hp_config_count(const hp_config_node *node);
/* Entry `i` (< hp_config_count) of a mapping: its key node and its value; an item of a list
 * (hp_config_key_at is NULL then). Borrowed. */
hp_config_node *hp_config_key_at(const hp_config_node *node, size_t i);
hp_config_node *hp_config_item(const hp_config_node *node, size_t i);
/* A scalar's text as written, not marked as read (a mapping key's name); NULL for a mapping
 * or a list. Borrowed. */
const char *hp_config_text(const hp_config_node *node);
/* Where `node` is written, for an error found by build(). */
hp_config_pos hp_config_node_pos(const hp_config_node *node);

/* Each read below reports its own problem ("expected a string, got a list") and then
 * returns false or NULL; on success it marks the scalar as read. */

/* Is it a mapping? */
bool hp_config_expect_mapping(hp_config_check *check, hp_config_node *node);
/* Reports every key of `map` that is not in `allowed` (NULL-terminated), with the allowed key
 * it is one slip from, if any ("unknown key \"stauts\" (did you mean \"status\"?)"). */
void hp_config_keys(hp_config_check *check, hp_config_node *map, const char *const *allowed);
/* A string: a scalar that is not null (`body: 200` is "200") and holds no NUL byte. Borrowed
 * from the document: copy what the model keeps. */
const char *hp_config_string(hp_config_check *check, hp_config_node *node);
/* The same, NUL bytes allowed (from JSON "\u0000"); its length in *len. */
const char *hp_config_bytes(hp_config_check *check, hp_config_node *node, size_t *len);
/* A plain integer (not quoted) in [lo, hi]. */
bool hp_config_integer(hp_config_check *check, hp_config_node *node, long long lo, long long hi,
                       long long *out);
/* true, on, yes or false, off, no (any case). */
bool hp_config_boolean(hp_config_check *check, hp_config_node *node, bool *out);

/* Reports a problem of its own at `node`, under its path. */
void hp_config_error(hp_config_check *check, hp_config_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- reporting, for build() -------------------------------------------------------------- */

/* Reports why the handler cannot be made, under the route's path and `key` (NULL: the
 * settings as a whole), at `pos` (kept in the model by check()):
 * "file.yaml:8:23: servers[1].routes[1].file.root: cannot serve ...". */
void hp_config_build_error(hp_config_build *build, const char *key, hp_config_pos pos,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
