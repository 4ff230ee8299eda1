#include "http/range.h"

#include "common/str.h"

#include <string.h>

/* Parses decimal digits at *p (at least one). A number past UINT64_MAX saturates: it is
 * still past the end of any file, which the caller turns into 416 or clamps. */
static bool number(const char **p, const char *end, uint64_t *out)
{
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9') (*p)++;
    if (*p == start) return false;
    if (!hp__str_to_u64(hp__str(start, (size_t)(*p - start)), UINT64_MAX, out)) *out = UINT64_MAX;
    return true;
}

hp__range_result hp__range_parse(hp_str header, uint64_t size, uint64_t *offset, uint64_t *length)
{
    hp_str h = hp__str_trim(header);
    if (h.len < 6 || !hp__mem_ieq(h.base, "bytes=", 6)) return HP__RANGE_NONE;
    const char *p = h.base + 6, *end = h.base + h.len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    uint64_t first = 0, last = 0;
    bool has_first = p < end && *p != '-';
    if (has_first && !number(&p, end, &first)) return HP__RANGE_NONE;
    if (p == end || *p != '-') return HP__RANGE_NONE;
    p++;
    bool has_last = p < end && *p >= '0' && *p <= '9';
    if (has_last && !number(&p, end, &last)) return HP__RANGE_NONE;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p != end) return HP__RANGE_NONE; /* several ranges, or junk */
    if (!has_first) {                    /* suffix: the last `last` bytes */
        if (!has_last) return HP__RANGE_NONE;
        if (last == 0 || size == 0) return HP__RANGE_UNSATISFIABLE;
        *length = last < size ? last : size;
        *offset = size - *length;
        return HP__RANGE_SATISFIABLE;
    }
    if (has_last && last < first) return HP__RANGE_NONE; /* invalid: ignored */
    if (first >= size) return HP__RANGE_UNSATISFIABLE;
    if (!has_last || last >= size) last = size - 1;
    *offset = first;
    *length = last - first + 1;
    return HP__RANGE_SATISFIABLE;
}
