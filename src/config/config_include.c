#include "config/config_include.h"

#include "common/alloc.h"
#include "config/parse.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const merged_lists[] = {"servers", "upstreams", "switchboards", NULL};

typedef struct including {
    hp__cfg_node *root; /* the including document */
    const char *file;
    hp__config_errors *errs;
} including;

static void fail_at(including *in, const char *file, const hp__cfg_node *n, const char *fmt,
                    const char *a)
{
    char *path = hp__cfg_node_path(n);
    hp__config_errors_add(in->errs, file, n->line, n->column, path, fmt, a);
    free(path);
}

/* The including document's list `key`, made (at the include's position) when it has none or
 * it is null; NULL when it is something else, which the checker reports. */
static hp__cfg_node *target_list(including *in, const char *key, const hp__cfg_node *at)
{
    hp__cfg_node *list = hp__cfg_mapping_get(in->root, key);
    if (list && list->kind == HP__CFG_SEQUENCE) return list;
    if (list && !(list->kind == HP__CFG_SCALAR && hp__cfg_is_null(list))) return NULL;
    hp__cfg_node *made = hp__cfg_collection_create(HP__CFG_SEQUENCE, at->line, at->column);
    if (list)
        hp__cfg_mapping_replace(in->root, key, made);
    else
        hp__cfg_mapping_append(
            in->root, hp__cfg_scalar_create(key, strlen(key), false, at->line, at->column), made);
    return made;
}

static bool merged_list(const char *key)
{
    for (const char *const *k = merged_lists; *k; k++)
        if (strcmp(*k, key) == 0) return true;
    return false;
}

/* Moves the entries of the included document `inc` (read from `path`) into the including
 * one's lists. */
static void merge(including *in, hp__cfg_node *inc, const char *path, const hp__cfg_node *at)
{
    if (inc->kind != HP__CFG_MAPPING) {
        fail_at(in, path, inc, "%s",
                "an included file is a mapping of servers, upstreams and switchboards lists");
        return;
    }
    for (size_t i = 0; i < inc->count; i++) {
        hp__cfg_node *key = inc->keys[i], *list = inc->items[i];
        if (!merged_list(key->text)) {
            fail_at(in, path, key,
                    strcmp(key->text, "include") == 0
                        ? "includes do not nest: \"%s\" is read only in the main config file"
                        : "an included file holds only servers, upstreams and switchboards, "
                          "not \"%s\"",
                    key->text);
            continue;
        }
        if (list->kind == HP__CFG_SCALAR && hp__cfg_is_null(list)) continue;
        if (list->kind != HP__CFG_SEQUENCE) {
            fail_at(in, path, list, "%s", "expected a list");
            continue;
        }
        hp__cfg_node *target = target_list(in, key->text, at);
        if (!target) continue;
        for (size_t j = 0; j < list->count; j++) {
            hp__cfg_node *entry = list->items[j];
            entry->file = hp__strdup(path);
            hp__cfg_sequence_append(target, entry);
        }
        list->count = 0; /* the entries belong to the target now */
    }
}

static void include_file(including *in, const char *path, const hp__cfg_node *at)
{
    hp__cfg_node *inc = hp__cfg_parse_file(path, in->errs);
    if (!inc) return;
    merge(in, inc, path, at);
    hp__cfg_node_destroy(inc);
}

static bool is_pattern(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* One entry of `include`: a pattern's files in sorted order, or one plain path. */
static void include_entry(including *in, const hp__cfg_node *n)
{
    if (n->kind != HP__CFG_SCALAR || hp__cfg_is_null(n)) {
        fail_at(in, in->file, n, "%s", "expected a file path or a glob pattern");
        return;
    }
    char *full;
    const char *slash = in->file ? strrchr(in->file, '/') : NULL;
    if (n->text[0] == '/' || !slash) {
        full = hp__strdup(n->text);
    } else {
        size_t dir = (size_t)(slash - in->file);
        full = hp__malloc(dir + 1 + n->len + 1);
        memcpy(full, in->file, dir + 1);
        memcpy(full + dir + 1, n->text, n->len + 1);
    }
    struct stat st;
    if (!is_pattern(n->text)) {
        if (stat(full, &st) != 0) {
            char reason[4200];
            snprintf(reason, sizeof reason, "%s: %s", full, strerror(errno));
            fail_at(in, in->file, n, "cannot include %s", reason);
        } else {
            include_file(in, full, n);
        }
        free(full);
        return;
    }
    glob_t g;
    int rc = glob(full, GLOB_MARK, NULL, &g);
    if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *match = g.gl_pathv[i];
            if (match[strlen(match) - 1] != '/') include_file(in, match, n); /* not a folder */
        }
    } else if (rc != GLOB_NOMATCH) {
        fail_at(in, in->file, n, "cannot read the folders of %s", full);
    }
    globfree(&g);
    free(full);
}

void hp__config_read_includes(hp__cfg_node *root, const char *file, hp__config_errors *errs)
{
    hp__cfg_node *list =
        root->kind == HP__CFG_MAPPING ? hp__cfg_mapping_get(root, "include") : NULL;
    if (!list) return;
    including in = {.root = root, .file = file, .errs = errs};
    if (list->kind == HP__CFG_SEQUENCE) {
        for (size_t i = 0; i < list->count; i++) include_entry(&in, list->items[i]);
    } else {
        include_entry(&in, list);
    }
    hp__cfg_mapping_remove(root, "include");
}
