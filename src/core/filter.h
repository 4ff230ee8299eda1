/* Selecting servers by one field: the filter of `GET /servers?name=|name_re=|bind=|...`.
 *
 * A filter is compiled once from a field (name, bind address, expose URL), an exact pattern
 * and a regular expression, then tested against records. Semantics (golib's pool filter,
 * with its silent failure on a bad regex made an error):
 *
 *  - pattern: the field equals it, ASCII case-insensitively. For EXPOSE both sides are
 *    compared by their host[:port] only, so "localhost:8080" and "http://LOCALHOST:8080/"
 *    both match the expose URL "http://localhost:8080". The host[:port] of a string with
 *    "://" is what follows it, without any "user@", up to the first '/', '?' or '#'; a string
 *    without "://" is taken whole. The port is compared as written: "localhost" does not match
 *    "http://localhost:80".
 *  - regex: a POSIX extended regular expression (regcomp with REG_EXTENDED | REG_NOSUB), case
 *    sensitive, searched anywhere in the field's full text (for EXPOSE the whole URL); anchor
 *    it with ^ and $ to match the whole field. An invalid regex is an error (HP_EINVAL with
 *    regerror's text in errbuf), never an empty result.
 *  - both given: a record matches if either matches. Both NULL or empty: nothing matches.
 *  - a NULL field in a record (no expose URL) matches neither.
 *
 * A compiled filter is immutable: hp__filter_match() may be called from any thread. */
#ifndef HP_CORE_FILTER_H
#define HP_CORE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    HP__FILTER_NAME,   /* the server's name */
    HP__FILTER_BIND,   /* a listen address, "127.0.0.1:8080" */
    HP__FILTER_EXPOSE, /* the public URL, "http://localhost:8080"; may be NULL */
} hp__filter_field;

/* What a filter looks at; every string is borrowed. */
typedef struct hp__filter_record {
    const char *name;
    const char *bind;
    const char *expose;
} hp__filter_record;

typedef struct hp__filter hp__filter;

/* Compiles a filter; `pattern` and `regex` (either may be NULL) are copied or compiled, not
 * kept. On success *out is a new filter, owned by the caller (hp__filter_free). On error
 * (HP_EINVAL: an unknown field or an invalid regex) *out is untouched and `errbuf`, if
 * errlen > 0, says why. */
int hp__filter_compile(hp__filter_field field, const char *pattern, const char *regex,
                       hp__filter **out, char *errbuf, size_t errlen);
bool hp__filter_match(const hp__filter *filter, const hp__filter_record *record);
/* Writes the indexes of the matching records into `out` (room for `count`, or NULL to only
 * count them), in order; returns how many matched. */
size_t hp__filter_select(const hp__filter *filter, const hp__filter_record *records, size_t count,
                         size_t *out);
/* NULL is a no-op. */
void hp__filter_free(hp__filter *filter);

#endif
