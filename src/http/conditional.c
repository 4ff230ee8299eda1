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

/* The next entity-tag of a list at *p, without its W/ prefix (*is_weak says whether it had
 * one); empty when the element is not a quoted tag. Leaves *p after the element's comma (or at
 * the end). */
static hp_str next_tag(const char **p, const char *end, bool *is_weak)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == ',')) (*p)++;
    *is_weak = end - *p >= 2 && (*p)[0] == 'W' && (*p)[1] == '/';
    if (*is_weak) *p += 2;
    const char *tag = *p;
    if (*p < end && **p == '"') {
        const char *close = memchr(*p + 1, '"', (size_t)(end - *p - 1));
        *p = close ? close + 1 : end;
    }
    hp_str out = {tag, (size_t)(*p - tag)};
    while (*p < end && **p != ',') (*p)++;
    return out;
}

/* Does the list of entity-tags `list` match `etag`? "*" matches; `weak` says how tags compare:
 * weakly (W/"x" matches "x") or strongly (a W/ tag never matches). */
static bool etag_list_matches(hp_str list, const char *etag, bool weak)
{
    hp_str l = hp__str_trim(list);
    if (hp__str_eq(l, "*")) return true;
    const char *p = l.base, *end = l.base + l.len;
    while (p < end) {
        bool is_weak;
        hp_str tag = next_tag(&p, end, &is_weak);
        if ((weak || !is_weak) && hp__str_eq(tag, etag)) return true;
    }
    return false;
}

/* Whether the lines of the list header `name` match `etag`: -1 when there is none, else 0
 * or 1. Several lines are one list (RFC 9110 5.3). */
static int list_header_matches(const hp_request *req, const char *name, const char *etag, bool weak)
{
    int found = -1;
    for (size_t i = 0; i < req->header_count; i++) {
        const hp_header *h = &req->headers[i];
        if (!hp__str_ieq(h->name, name)) continue;
        if (etag_list_matches(h->value, etag, weak)) return 1;
        found = 0;
    }
    return found;
}

/* The date of the header `name`: false when it is absent, not one valid HTTP-date, or sent
 * in more than one line (a list of dates), all of which make it ignored. */
static bool date_header(const hp_request *req, const char *name, time_t *date)
{
    const hp_str *value = NULL;
    for (size_t i = 0; i < req->header_count; i++) {
        if (!hp__str_ieq(req->headers[i].name, name)) continue;
        if (value) return false;
        value = &req->headers[i].value;
    }
    return value && hp__http_date_parse(*value, date);
}

int hp__conditional_status(const hp_request *req, const char *etag, time_t mtime, time_t now)
{
    time_t date;
    int match = list_header_matches(req, "if-match", etag, false);
    if (match == 0) return 412;
    if (match < 0 && date_header(req, "if-unmodified-since", &date) && mtime > date) return 412;
    int none_match = list_header_matches(req, "if-none-match", etag, true);
    if (none_match >= 0) return none_match ? 304 : 0;
    if (date_header(req, "if-modified-since", &date) && date <= now && mtime <= date) return 304;
    return 0;
}

bool hp__conditional_range_applies(const hp_str *if_range, const char *etag, time_t mtime)
{
    if (!if_range) return true;
    hp_str v = hp__str_trim(*if_range);
    if (v.len && v.base[0] == '"') return hp__str_eq(v, etag);
    time_t date;
    return hp__http_date_parse(v, &date) && date == mtime;
}
