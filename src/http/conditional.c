#include "http/conditional.h"

#include "common/str.h"
#include "http/http_date.h"

#include <stdio.h>
#include <string.h>

void hp__etag_format(char out[HP__ETAG_MAX], struct timespec mtime, uint64_t size, uint64_t ino)
{
    snprintf(out, HP__ETAG_MAX, "\"%llx.%lx-%llx-%llx\"", (unsigned long long)mtime.tv_sec,
             (unsigned long)mtime.tv_nsec, (unsigned long long)size, (unsigned long long)ino);
}

/* The next entity-tag of a list at *p, without its W/ prefix; empty when the element is not
 * a quoted tag. Leaves *p after the element's comma (or at the end). */
static hp_str next_tag(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == ',')) (*p)++;
    if (end - *p >= 2 && (*p)[0] == 'W' && (*p)[1] == '/') *p += 2;
    const char *tag = *p;
    if (*p < end && **p == '"') {
        const char *close = memchr(*p + 1, '"', (size_t)(end - *p - 1));
        *p = close ? close + 1 : end;
    }
    hp_str out = {tag, (size_t)(*p - tag)};
    while (*p < end && **p != ',') (*p)++;
    return out;
}

bool hp__etag_list_matches(hp_str list, const char *etag)
{
    hp_str l = hp__str_trim(list);
    if (hp__str_eq(l, "*")) return true;
    const char *p = l.base, *end = l.base + l.len;
    while (p < end)
        if (hp__str_eq(next_tag(&p, end), etag)) return true;
    return false;
}

bool hp__conditional_not_modified(const hp_str *if_none_match, const hp_str *if_modified_since,
                                  const char *etag, time_t mtime)
{
    if (if_none_match) return hp__etag_list_matches(*if_none_match, etag);
    time_t since;
    return if_modified_since && hp__http_date_parse(*if_modified_since, &since) && mtime <= since;
}

bool hp__conditional_range_applies(const hp_str *if_range, const char *etag, time_t mtime)
{
    if (!if_range) return true;
    hp_str v = hp__str_trim(*if_range);
    if (v.len && v.base[0] == '"') return hp__str_eq(v, etag);
    time_t date;
    return hp__http_date_parse(v, &date) && date == mtime;
}
