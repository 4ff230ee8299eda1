#include "config/parse.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_FILE_BYTES (16 * 1024 * 1024)

typedef struct reader {
    yaml_parser_t parser;
    const char *text; /* the input, to look at what an error points at */
    size_t len;
    const char *file;
    hp__config_errors *errs;
} reader;

static int line_of(yaml_mark_t mark)
{
    return (int)mark.line + 1;
}

static int column_of(yaml_mark_t mark)
{
    return (int)mark.column + 1;
}

/* The length of the line break at `s` (libyaml's: CR LF, CR, LF, NEL, LS, PS), or 0. */
static size_t line_break(const char *s, const char *end)
{
    if (s[0] == '\r') return end - s > 1 && s[1] == '\n' ? 2 : 1;
    if (s[0] == '\n') return 1;
    if (end - s > 1 && memcmp(s, "\xc2\x85", 2) == 0) return 2;
    if (end - s > 2 && (memcmp(s, "\xe2\x80\xa8", 3) == 0 || memcmp(s, "\xe2\x80\xa9", 3) == 0))
        return 3;
    return 0;
}

/* The character after the one at `s`: past its UTF-8 continuation bytes. */
static const char *next_char(const char *s, const char *end)
{
    s++;
    while (s < end && ((unsigned char)*s & 0xc0) == 0x80) s++;
    return s;
}

/* Is the character at `mark` (its line and column count characters, not bytes) a tab? */
static bool tab_at(const reader *r, yaml_mark_t mark)
{
    const char *s = r->text, *end = r->text + r->len;
    for (size_t line = 0; s < end && line < mark.line;) {
        size_t brk = line_break(s, end);
        s = brk ? s + brk : next_char(s, end);
        line += brk != 0;
    }
    for (size_t column = 0; s < end && column < mark.column; column++) s = next_char(s, end);
    return s < end && *s == '\t';
}

static void syntax_error(reader *r)
{
    yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->error == YAML_SCANNER_ERROR && tab_at(r, p->problem_mark)) {
        /* libyaml says "found character that cannot start any token" or speaks of a tab
         * violating indentation: say it plainly. */
        hp__config_errors_add(r->errs, r->file, line_of(p->problem_mark),
                              column_of(p->problem_mark), NULL,
                              "tabs are not allowed for indentation in YAML; use spaces");
    } else if (p->error == YAML_READER_ERROR) {
        hp__config_errors_add(r->errs, r->file, 0, 0, NULL, "%s at byte %zu", problem,
                              p->problem_offset);
    } else if (p->context) {
        hp__config_errors_add(r->errs, r->file, line_of(p->problem_mark),
                              column_of(p->problem_mark), NULL, "%s (%s started at %d:%d)", problem,
                              p->context, line_of(p->context_mark), column_of(p->context_mark));
    } else {
        hp__config_errors_add(r->errs, r->file, line_of(p->problem_mark),
                              column_of(p->problem_mark), NULL, "%s", problem);
    }
}

static bool next(reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->parser, ev)) return true;
    syntax_error(r);
    return false;
}

static hp__cfg_node *read_node(reader *r, yaml_event_t *ev, int depth, hp__cfg_node *parent,
                               hp__cfg_node *key);

/* Reads the items of a collection whose start event was just read, up to its end event.
 * Items are attached to `coll` before their own items are read, so that the path of any node
 * is complete when an error is reported at it. */
static bool read_items(reader *r, hp__cfg_node *coll, yaml_event_type_t end, int depth)
{
    for (;;) {
        yaml_event_t ev;
        if (!next(r, &ev)) return false;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return true;
        }
        if (coll->kind == HP__CFG_SEQUENCE) {
            if (!read_node(r, &ev, depth + 1, coll, NULL)) return false;
            continue;
        }
        hp__cfg_node *key = read_node(r, &ev, depth + 1, NULL, NULL);
        if (!key) return false;
        /* The key sits under the mapping, for its path, until it is added or dropped. */
        key->parent = coll;
        key->key = key->kind == HP__CFG_SCALAR ? key->text : "?";
        const hp__cfg_node *first = NULL;
        if (key->kind != HP__CFG_SCALAR) {
            char *path = hp__cfg_node_path(coll);
            hp__config_errors_add(r->errs, r->file, key->line, key->column, path,
                                  "mapping keys must be scalars");
            free(path);
        } else if ((first = hp__cfg_mapping_key(coll, key->text, key->len))) {
            char *path = hp__cfg_node_path(key);
            hp__config_errors_add(r->errs, r->file, key->line, key->column, path,
                                  "duplicate key \"%s\" (first at line %d)", key->text,
                                  first->line);
            free(path);
        }
        bool keep = key->kind == HP__CFG_SCALAR && !first;
        hp__cfg_node *value = NULL;
        if (next(r, &ev)) value = read_node(r, &ev, depth + 1, keep ? coll : NULL, key);
        bool attached = coll->count && coll->keys[coll->count - 1] == key;
        if (!attached) hp__cfg_node_destroy(key);
        if (!keep) hp__cfg_node_destroy(value);
        if (!value) return false;
    }
}

/* Builds the node that starts with `ev` (consumed), reading the rest of it. With a `parent`
 * the node is attached to it first (under `key` in a mapping) and belongs to it; without, it
 * belongs to the caller. NULL after a fatal error, which has been reported (an attached node
 * stays with its parent, to be freed with the tree). */
static hp__cfg_node *read_node(reader *r, yaml_event_t *ev, int depth, hp__cfg_node *parent,
                               hp__cfg_node *key)
{
    int line = line_of(ev->start_mark), column = column_of(ev->start_mark);
    hp__cfg_node *n = NULL;
    if (depth > MAX_DEPTH) {
        hp__config_errors_add(r->errs, r->file, line, column, NULL, "nesting deeper than %d levels",
                              MAX_DEPTH);
        yaml_event_delete(ev);
        return NULL;
    }
    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *tag = (const char *)ev->data.scalar.tag;
        bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                      (tag && strcmp(tag, YAML_STR_TAG) == 0);
        n = hp__cfg_scalar_create((const char *)ev->data.scalar.value, ev->data.scalar.length,
                                  quoted, line, column);
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = hp__cfg_collection_create(seq ? HP__CFG_SEQUENCE : HP__CFG_MAPPING, line, column);
        break;
    case YAML_ALIAS_EVENT:
        hp__config_errors_add(r->errs, r->file, line, column, NULL,
                              "aliases are not supported (*%s)", ev->data.alias.anchor);
        yaml_event_delete(ev);
        return NULL;
    default: /* the parser only gives node events here */
        hp__config_errors_add(r->errs, r->file, line, column, NULL, "unexpected YAML event");
        yaml_event_delete(ev);
        return NULL;
    }
    yaml_event_delete(ev);
    if (parent && parent->kind == HP__CFG_SEQUENCE) {
        hp__cfg_sequence_append(parent, n);
    } else if (parent) {
        hp__cfg_mapping_append(parent, key, n);
    } else if (key) { /* a value being dropped: not in the tree, but with its path */
        n->parent = key->parent;
        n->key = key->key;
    }
    if (n->kind == HP__CFG_SCALAR ||
        read_items(r, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth))
        return n;
    if (!parent) hp__cfg_node_destroy(n);
    return NULL;
}

/* The stream: STREAM-START, at most one DOCUMENT-START node DOCUMENT-END, STREAM-END. */
static hp__cfg_node *read_stream(reader *r)
{
    hp__cfg_node *root = NULL;
    yaml_event_t ev;
    for (;;) {
        if (!next(r, &ev)) break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            if (!root) root = hp__cfg_collection_create(HP__CFG_MAPPING, 1, 1);
            return root;
        }
        if (type == YAML_DOCUMENT_START_EVENT && root) {
            hp__config_errors_add(r->errs, r->file, line_of(ev.start_mark),
                                  column_of(ev.start_mark), NULL,
                                  "a config file holds one document");
            yaml_event_delete(&ev);
            break;
        }
        if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_START_EVENT ||
            type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        root = read_node(r, &ev, 0, NULL, NULL);
        if (!root) return NULL;
        /* A document of only a null ("~" or nothing) is an empty config. */
        if (hp__cfg_is_null(root)) {
            int line = root->line, column = root->column;
            hp__cfg_node_destroy(root);
            root = hp__cfg_collection_create(HP__CFG_MAPPING, line, column);
        }
    }
    hp__cfg_node_destroy(root);
    return NULL;
}

hp__cfg_node *hp__cfg_parse_yaml(const char *text, size_t len, const char *file,
                                 hp__config_errors *errs)
{
    reader r = {.text = text, .len = len, .file = file, .errs = errs};
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    hp__cfg_node *root = read_stream(&r);
    yaml_parser_delete(&r.parser);
    return root;
}

hp__cfg_node *hp__cfg_parse_json(const char *text, size_t len, const char *file,
                                 hp__config_errors *errs)
{
    json_error_t error;
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!json) {
        hp__config_errors_add(errs, file, error.line, error.column, NULL, "%s", error.text);
        return NULL;
    }
    hp__config_errors scratch;
    hp__config_errors_init(&scratch);
    hp__cfg_node *root = hp__cfg_parse_yaml(text, len, NULL, &scratch);
    if (!root || scratch.count) {
        hp__cfg_node_destroy(root);
        root = hp__cfg_node_from_json(json);
    }
    hp__config_errors_close(&scratch);
    json_decref(json);
    return root;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *read_file(const char *path, size_t *len, hp__config_errors *errs)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        hp__config_errors_add(errs, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = hp__malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                hp__config_errors_add(errs, path, 0, 0, NULL, "larger than %d bytes",
                                      MAX_FILE_BYTES);
                break;
            }
            cap *= 2;
            buf = hp__realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (!ferror(f)) {
                fclose(f);
                *len = n;
                return buf;
            }
            hp__config_errors_add(errs, path, 0, 0, NULL, "cannot read: %s", strerror(errno));
            break;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

hp__cfg_node *hp__cfg_parse_file(const char *path, hp__config_errors *errs)
{
    size_t len;
    char *text = read_file(path, &len, errs);
    if (!text) return NULL;
    hp__cfg_node *root = ends_with(path, ".json") ? hp__cfg_parse_json(text, len, path, errs)
                                                  : hp__cfg_parse_yaml(text, len, path, errs);
    free(text);
    return root;
}
