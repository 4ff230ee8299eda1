#include "config/config_env.h"

#include "common/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The text being built: grown as needed. */
typedef struct out_text {
    char *base;
    size_t len, cap;
} out_text;

static void append(out_text *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->base = hp__realloc(o->base, o->cap);
    }
    memcpy(o->base + o->len, s, n);
    o->len += n;
    o->base[o->len] = '\0';
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

typedef struct expansion {
    const hp__cfg_node *n;
    const char *file;
    hp__config_errors *errs;
    bool failed;
} expansion;

static void fail(expansion *e, const char *fmt, const char *a, int alen)
{
    char *path = hp__cfg_node_path(e->n);
    hp__config_errors_add(e->errs, hp__cfg_node_file(e->n, e->file), e->n->line, e->n->column, path,
                          fmt, alen, a);
    free(path);
    e->failed = true;
}

/* Expands the ${...} that starts at s[i] (s[i] == '$', s[i + 1] == '{') into `o`; returns the
 * index after it. */
static size_t expand_one(expansion *e, const char *s, size_t len, size_t i, out_text *o)
{
    size_t start = i + 2, end = start;
    while (end < len && name_char(s[end])) end++;
    size_t close = end;
    bool with_default = end + 1 < len && s[end] == ':' && s[end + 1] == '-';
    if (with_default) {
        const char *brace = memchr(s + end + 2, '}', len - end - 2);
        close = brace ? (size_t)(brace - s) : len;
    }
    char name[256];
    if (end == start || end - start >= sizeof name || !name_start(s[start]) || close >= len ||
        s[close] != '}') {
        const char *brace = memchr(s + i, '}', len - i);
        size_t shown = brace ? (size_t)(brace - (s + i)) + 1 : len - i;
        fail(e, "\"%.*s\" is not ${NAME} or ${NAME:-default}", s + i,
             (int)(shown > 64 ? 64 : shown));
        append(o, s + i, shown);
        return i + shown;
    }
    size_t name_len = end - start;
    memcpy(name, s + start, name_len);
    name[name_len] = '\0';
    const char *value = getenv(name);
    if (with_default && (!value || !value[0])) {
        append(o, s + end + 2, close - end - 2);
    } else if (value) {
        append(o, value, strlen(value));
    } else {
        fail(e, "${%.*s} is not set (and has no default)", name, (int)name_len);
    }
    return close + 1;
}

static void expand_scalar(hp__cfg_node *n, const char *file, hp__config_errors *errs)
{
    if (!memchr(n->text, '$', n->len)) return;
    expansion e = {.n = n, .file = file, .errs = errs};
    out_text o = {0};
    append(&o, "", 0);
    const char *s = n->text;
    for (size_t i = 0; i < n->len;) {
        if (s[i] == '$' && i + 1 < n->len && s[i + 1] == '$') {
            append(&o, "$", 1);
            i += 2;
        } else if (s[i] == '$' && i + 1 < n->len && s[i + 1] == '{') {
            i = expand_one(&e, s, n->len, i, &o);
        } else {
            append(&o, s + i, 1);
            i++;
        }
    }
    if (e.failed) {
        free(o.base);
        return;
    }
    free(n->text);
    n->text = o.base;
    n->len = o.len;
}

void hp__config_expand_env(hp__cfg_node *root, const char *file, hp__config_errors *errs)
{
    if (root->kind == HP__CFG_SCALAR) {
        expand_scalar(root, file, errs);
        return;
    }
    for (size_t i = 0; i < root->count; i++) hp__config_expand_env(root->items[i], file, errs);
}
