/* Writing the Prometheus text exposition format (version 0.0.4), the body of GET /metrics.
 *
 * A document is a sequence of metric families; each starts with hp__prom_family() (its # HELP
 * and # TYPE lines) and is followed by all of its samples, since the format wants the samples
 * of one family together. Label values and help texts are escaped as the format requires
 * (backslash, double quote in label values, line feed), so any server name is safe. Integer
 * counters are written exactly (no float rounding); other values with 15 significant digits,
 * what a double holds.
 *
 * Pure: no I/O, no clock; the buffer grows as needed (allocation aborts on failure). */
#ifndef HP_CORE_PROM_TEXT_H
#define HP_CORE_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct hp__prom {
    char *text; /* NUL-terminated; owned */
    size_t len, cap;
} hp__prom;

typedef struct hp__prom_label {
    const char *name; /* a valid label name (the caller's constant) */
    const char *value;
} hp__prom_label;

void hp__prom_init(hp__prom *p);
/* Frees the text. */
void hp__prom_close(hp__prom *p);
/* Hands the text over (the caller frees it) and leaves `p` empty; *len gets its length. */
char *hp__prom_take(hp__prom *p, size_t *len);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void hp__prom_family(hp__prom *p, const char *name, const char *type, const char *help);
/* One sample: name{labels} value. */
void hp__prom_u64(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                  uint64_t value);
void hp__prom_double(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                     double value);
/* The samples of one histogram: name_bucket{labels,le="bound"} cumulative counts for each of
 * `bounds` (bound_count, ascending) then le="+Inf", name_sum and name_count. `counts` has
 * bound_count + 1 entries, not cumulative (the last: above the largest bound). */
void hp__prom_histogram(hp__prom *p, const char *name, const hp__prom_label *labels, size_t n,
                        const double *bounds, size_t bound_count, const uint64_t *counts,
                        double sum);

#endif
