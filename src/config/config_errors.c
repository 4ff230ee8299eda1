#include "config/config_errors.h"

#include "common/alloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void hp__config_errors_init(hp__config_errors *errs)
{
    *errs = (hp__config_errors){0};
}

void hp__config_errors_close(hp__config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].file);
        free(errs->items[i].path);
        free(errs->items[i].message);
    }
    free(errs->items);
    *errs = (hp__config_errors){0};
}

void hp__config_errors_vadd(hp__config_errors *errs, const char *file, int line, int column,
                            const char *path, const char *fmt, va_list ap)
{
    if (errs->count == errs->cap) {
        errs->cap = errs->cap ? 2 * errs->cap : 8;
        errs->items = hp__realloc(errs->items, errs->cap * sizeof *errs->items);
    }
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *message = hp__malloc((size_t)n + 1);
    vsnprintf(message, (size_t)n + 1, fmt, ap);
    errs->items[errs->count++] = (hp__config_error){
        .file = file ? hp__strdup(file) : NULL,
        .line = line > 0 ? line : 0,
        .column = line > 0 ? (column > 0 ? column : 1) : 0,
        .path = hp__strdup(path ? path : ""),
        .message = message,
    };
}

void hp__config_errors_add(hp__config_errors *errs, const char *file, int line, int column,
                           const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp__config_errors_vadd(errs, file, line, column, path, fmt, ap);
    va_end(ap);
}

static bool same_file(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Errors of one file stay together (a config with includes reports several files), the files
 * in the order their first error came, each file's errors in document order. */
static size_t file_rank(const hp__config_errors *errs, size_t from, const char *file)
{
    size_t rank = 0;
    for (size_t i = from; i < errs->count; i++) {
        if (same_file(errs->items[i].file, file)) return rank;
        bool first = true;
        for (size_t j = from; j < i && first; j++)
            first = !same_file(errs->items[j].file, errs->items[i].file);
        rank += first;
    }
    return rank;
}

static bool before(size_t rank_a, const hp__config_error *a, size_t rank_b,
                   const hp__config_error *b)
{
    if (rank_a != rank_b) return rank_a < rank_b;
    return a->line < b->line || (a->line == b->line && a->column < b->column);
}

void hp__config_errors_sort(hp__config_errors *errs, size_t from)
{
    /* Insertion sort: stable, and a config rarely has more than a few dozen errors. The ranks
     * are taken before anything moves. */
    size_t n = errs->count > from ? errs->count - from : 0;
    if (n < 2) return;
    size_t *rank = hp__malloc(n * sizeof *rank);
    for (size_t i = 0; i < n; i++) rank[i] = file_rank(errs, from, errs->items[from + i].file);
    for (size_t i = 1; i < n; i++) {
        hp__config_error e = errs->items[from + i];
        size_t r = rank[i], j = i;
        while (j > 0 && before(r, &e, rank[j - 1], &errs->items[from + j - 1])) {
            errs->items[from + j] = errs->items[from + j - 1];
            rank[j] = rank[j - 1];
            j--;
        }
        errs->items[from + j] = e;
        rank[j] = r;
    }
    free(rank);
}

char *hp__config_error_format(const hp__config_error *e)
{
    char where[64] = "";
    if (e->line > 0) snprintf(where, sizeof where, "%d:%d", e->line, e->column);
    const char *parts[4];
    size_t n = 0;
    /* "file:7:13" is one part; the parts are then joined with ": ". */
    char *file_where = NULL;
    if (e->file && where[0]) {
        size_t len = strlen(e->file) + 1 + strlen(where) + 1;
        file_where = hp__malloc(len);
        snprintf(file_where, len, "%s:%s", e->file, where);
        parts[n++] = file_where;
    } else if (e->file) {
        parts[n++] = e->file;
    } else if (where[0]) {
        parts[n++] = where;
    }
    if (e->path[0]) parts[n++] = e->path;
    parts[n++] = e->message;
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(parts[i]) + 2;
    char *out = hp__malloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, ": ");
        strcat(out, parts[i]);
    }
    free(file_where);
    return out;
}

void hp__config_errors_print(const hp__config_errors *errs, FILE *out)
{
    for (size_t i = 0; i < errs->count; i++) {
        char *line = hp__config_error_format(&errs->items[i]);
        fprintf(out, "%s\n", line);
        free(line);
    }
}
