#include "core/filter.h"

#include "common/alloc.h"
#include "common/str.h"
#include "hostpool/errors.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hp__filter {
    hp__filter_field field;
    char *pattern; /* NULL: no exact pattern; for EXPOSE already reduced to host[:port] */
    size_t pattern_len;
    bool has_regex;
    regex_t regex;
};

/* The host[:port] of a URL (see filter.h), as a borrowed slice of `s`. */
static hp_str authority(const char *s)
{
    const char *scheme_end = strstr(s, "://");
    if (!scheme_end) return hp__str(s, strlen(s));
    const char *start = scheme_end + 3;
    size_t len = strcspn(start, "/?#");
    for (size_t i = len; i > 0; i--) { /* the last '@' ends the userinfo */
        if (start[i - 1] == '@') {
            start += i;
            len -= i;
            break;
        }
    }
    return hp__str(start, len);
}

static const char *field_text(hp__filter_field field, const hp__filter_record *r)
{
    switch (field) {
    case HP__FILTER_NAME:
        return r->name;
    case HP__FILTER_BIND:
        return r->bind;
    case HP__FILTER_EXPOSE:
        return r->expose;
    }
    return NULL;
}

int hp__filter_compile(hp__filter_field field, const char *pattern, const char *regex,
                       hp__filter **out, char *errbuf, size_t errlen)
{
    if (field != HP__FILTER_NAME && field != HP__FILTER_BIND && field != HP__FILTER_EXPOSE) {
        if (errlen) snprintf(errbuf, errlen, "unknown filter field %d", (int)field);
        return HP_EINVAL;
    }
    hp__filter *f = HP_NEW(hp__filter);
    f->field = field;
    if (regex && *regex) {
        int err = regcomp(&f->regex, regex, REG_EXTENDED | REG_NOSUB);
        if (err) {
            if (errlen) {
                char why[256];
                regerror(err, &f->regex, why, sizeof why);
                snprintf(errbuf, errlen, "invalid regex \"%s\": %s", regex, why);
            }
            free(f);
            return HP_EINVAL;
        }
        f->has_regex = true;
    }
    if (pattern && *pattern) {
        hp_str p =
            field == HP__FILTER_EXPOSE ? authority(pattern) : hp__str(pattern, strlen(pattern));
        if (p.len) { /* "http://" has no host: no pattern */
            f->pattern = hp__strndup(p.base, p.len);
            f->pattern_len = p.len;
        }
    }
    *out = f;
    return 0;
}

bool hp__filter_match(const hp__filter *f, const hp__filter_record *record)
{
    const char *text = field_text(f->field, record);
    if (!text) return false;
    if (f->pattern) {
        hp_str t = f->field == HP__FILTER_EXPOSE ? authority(text) : hp__str(text, strlen(text));
        if (t.len == f->pattern_len && hp__mem_ieq(t.base, f->pattern, t.len)) return true;
    }
    return f->has_regex && regexec(&f->regex, text, 0, NULL, 0) == 0;
}

size_t hp__filter_select(const hp__filter *f, const hp__filter_record *records, size_t count,
                         size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (!hp__filter_match(f, &records[i])) continue;
        if (out) out[n] = i;
        n++;
    }
    return n;
}

void hp__filter_free(hp__filter *f)
{
    if (!f) return;
    if (f->has_regex) regfree(&f->regex);
    free(f->pattern);
    free(f);
}
