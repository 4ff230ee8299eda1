/* The Prometheus text format writer (format notes in prom_text.h). */
#include "core/prom_text.h"

#include "common/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 4

void hp__prom_init(hp__prom *p)
{
    p->cap = 4096;
    p->text = hp__malloc(p->cap);
    p->text[0] = '\0';
    p->len = 0;
}

void hp__prom_close(hp__prom *p)
{
    free(p->text);
    *p = (hp__prom){0};
}

char *hp__prom_take(hp__prom *p, size_t *len)
{
    char *text = p->text;
    *len = p->len;
    *p = (hp__prom){0};
    return text;
}

static void reserve(hp__prom *p, size_t more)
{
    if (p->len + more + 1 <= p->cap) return;
    while (p->len + more + 1 > p->cap) p->cap *= 2;
    p->text = hp__realloc(p->text, p->cap);
}

static void put(hp__prom *p, const char *s, size_t len)
{
    reserve(p, len);
    memcpy(p->text + p->len, s, len);
    p->len += len;
    p->text[p->len] = '\0';
}

static void put_str(hp__prom *p, const char *s)
{
    put(p, s, strlen(s));
}

static void putf(hp__prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(hp__prom *p, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(p, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Escapes a backslash and a line feed, and a double quote when `quote`. */
static void put_escaped(hp__prom *p, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put_str(p, "\\\\");
        else if (*s == '\n')
            put_str(p, "\\n");
        else if (*s == '"' && quote)
            put_str(p, "\\\"");
        else
            put(p, s, 1);
    }
}

void hp__prom_family(hp__prom *p, const char *name, const char *type, const char *help)
{
    put_str(p, "# HELP ");
    put_str(p, name);
    put_str(p, " ");
    put_escaped(p, help, 0);
    put_str(p, "\n# TYPE ");
    put_str(p, name);
    put_str(p, " ");
    put_str(p, type);
    put_str(p, "\n");
}

static void put_name(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n)
{
    put_str(p, name);
    if (n == 0) return;
    put_str(p, "{");
    for (size_t i = 0; i < n; i++) {
        if (i) put_str(p, ",");
        put_str(p, labels[i].name);
        put_str(p, "=\"");
        put_escaped(p, labels[i].value, 1);
        put_str(p, "\"");
    }
    put_str(p, "}");
}

void hp__prom_u64(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                  uint64_t value)
{
    put_name(p, name, labels, n);
    putf(p, " %" PRIu64 "\n", value);
}

void hp__prom_double(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                     double value)
{
    put_name(p, name, labels, n);
    putf(p, " %.15g\n", value);
}

/* name + suffix, e.g. "..._bucket". */
static void suffixed(char *out, size_t cap, const char *name, const char *suffix)
{
    snprintf(out, cap, "%s%s", name, suffix);
}

void hp__prom_histogram(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                        const double *bounds, size_t bound_count, const uint64_t *counts,
                        double sum)
{
    char metric[160], le[32];
    hp__prom_label with_le[MAX_LABELS + 1];
    if (n > MAX_LABELS) n = MAX_LABELS;
    memcpy(with_le, labels, n * sizeof *labels);
    with_le[n] = (hp__prom_label){"le", le};
    suffixed(metric, sizeof metric, name, "_bucket");
    uint64_t total = 0;
    for (size_t b = 0; b <= bound_count; b++) {
        total += counts[b];
        if (b < bound_count)
            snprintf(le, sizeof le, "%g", bounds[b]);
        else
            snprintf(le, sizeof le, "+Inf");
        hp__prom_u64(p, metric, with_le, n + 1, total);
    }
    suffixed(metric, sizeof metric, name, "_sum");
    hp__prom_double(p, metric, labels, n, sum);
    suffixed(metric, sizeof metric, name, "_count");
    hp__prom_u64(p, metric, labels, n, total);
}
