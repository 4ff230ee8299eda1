#include "common/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit {
    const char *suffix;
    uint64_t factor;
} unit;

static bool parse(const char *text, const unit *units, uint64_t bare_factor, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno) return false;
    uint64_t factor = 0;
    if (*end == '\0') {
        factor = bare_factor;
    } else {
        for (const unit *u = units; u->suffix; u++)
            if (strcmp(end, u->suffix) == 0) factor = u->factor;
    }
    if (!factor || v > UINT64_MAX / factor) return false;
    *out = (uint64_t)v * factor;
    return true;
}

bool hp__parse_duration_ms(const char *text, uint64_t *ms)
{
    static const unit units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {NULL, 0}};
    return parse(text, units, 1000, ms);
}

bool hp__parse_size(const char *text, uint64_t *bytes)
{
    static const unit units[] = {
        {"B", 1},        {"KiB", 1024},  {"KB", 1024},        {"k", 1024},        {"MiB", 1048576},
        {"MB", 1048576}, {"m", 1048576}, {"GiB", 1073741824}, {"GB", 1073741824}, {NULL, 0}};
    return parse(text, units, 1, bytes);
}
