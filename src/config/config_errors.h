/* Config errors: every problem found in a config, each with where it is.
 *
 * An error names the file, the 1-based line and column of the offending node, the path of
 * that node in the document ("servers[2].listen") and a message; one printed line is
 * "file:line:column: path: message". Parts that are unknown are left out: a tree built from a
 * jansson value (admin API bodies) has no positions (line 0), the document itself has the
 * empty path, and text that is not a file has no file name.
 *
 * The collection is caller-owned (init/close) and only grows; loaders add to it and never
 * stop at the first problem. */
#ifndef HP_CONFIG_ERRORS_H
#define HP_CONFIG_ERRORS_H

#include <stdarg.h>
#include <stdio.h>

typedef struct hp__config_error {
    char *file; /* NULL when the source has no file name */
    int line;   /* 1-based; 0 when unknown (then column is 0 too) */
    int column; /* 1-based */
    char *path; /* "servers[2].listen"; "" for the whole document */
    char *message;
} hp__config_error;

typedef struct hp__config_errors {
    hp__config_error *items;
    size_t count, cap;
} hp__config_errors;

void hp__config_errors_init(hp__config_errors *errs);
void hp__config_errors_close(hp__config_errors *errs);

/* Adds one error; `file` and `path` are copied (NULL path is the empty path). */
void hp__config_errors_add(hp__config_errors *errs, const char *file, int line, int column,
                           const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void hp__config_errors_vadd(hp__config_errors *errs, const char *file, int line, int column,
                            const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* Sorts the errors added from index `from` on into document order (line, then column),
 * keeping the order of errors at the same place. */
void hp__config_errors_sort(hp__config_errors *errs, size_t from);

/* One error as its printed line, without a newline. Owned by the caller (free). */
char *hp__config_error_format(const hp__config_error *err);

/* Prints every error, one line each. */
void hp__config_errors_print(const hp__config_errors *errs, FILE *out);

#endif
