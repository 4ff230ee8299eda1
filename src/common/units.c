#include "common/units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit {
    const char *suffix; /* "" for a bare number */
    uint64_t factor;
} unit;

/* Largest first, for formatting; the bare number's factor is the parsers' to give. */
static const unit duration_units[] = {
    {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}, {NULL, 0}};
static const unit size_units[] = {
    {"GiB", 1073741824}, {"MiB", 1048576}, {"KiB", 1024}, {"", 1}, {NULL, 0}};

static bool parse(const char *text, const unit *units, uint64_t bare_factor, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno) return false;
    uint64_t factor = *end == '\0' ? bare_factor : 0;
    for (const unit *u = units; u->suffix && !factor; u++)
        if (*end && strcmp(end, u->suffix) == 0) factor = u->factor;
    if (!factor || v > UINT64_MAX / factor) return false;
    *out = (uint64_t)v * factor;
    return true;
}

bool hp__parse_duration_ms(const char *text, uint64_t *ms)
{
    return parse(text, duration_units, 1000, ms);
}

bool hp__parse_size(const char *text, uint64_t *bytes)
{
    return parse(text, size_units, 1, bytes);
}

static void format(uint64_t v, const unit *units, char *out, size_t cap)
{
    const unit *u = units;
    while (u[1].suffix && (v == 0 || v % u->factor != 0)) u++;
    snprintf(out, cap, "%" PRIu64 "%s", v / u->factor, u->suffix);
}

void hp__format_duration_ms(uint64_t ms, char *out, size_t cap)
{
    format(ms, duration_units, out, cap);
}

void hp__format_size(uint64_t bytes, char *out, size_t cap)
{
    format(bytes, size_units, out, cap);
}
