#include "http/compress_plan.h"

#include "common/str.h"
#include "http/compress.h"

#include <string.h>

static const char *const variant_suffix[] = {[HP__CODING_GZIP] = "-gz", [HP__CODING_BR] = "-br"};

/* The handler header named `name` (lowercase) in x->extra: its line's value and where the line
 * starts (*line); false when there is none. */
static bool extra_header(const hp__exchange *x, const char *name, hp_str *value, size_t *line)
{
    size_t n = strlen(name);
    const char *p = x->extra, *end = x->extra + x->extra_len;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > n + 1 && p[n] == ':' && hp__mem_ieq(p, name, n)) {
            const char *v = p + n + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            *value = hp__str(v, (size_t)(eol - v));
            if (line) *line = (size_t)(p - x->extra);
            return true;
        }
        p = eol + 2;
    }
    return false;
}

static bool names_accept_encoding(hp_str v)
{
    static const char token[] = "accept-encoding";
    for (size_t i = 0; i + sizeof token - 1 <= v.len; i++)
        if (hp__mem_ieq(v.base + i, token, sizeof token - 1)) return true;
    return false;
}

static bool vary_said(const hp__exchange *x)
{
    hp_str v;
    return extra_header(x, "vary", &v, NULL) && (names_accept_encoding(v) || hp__str_eq(v, "*"));
}

size_t hp__etag_variant(const char *etag, size_t len, hp__coding coding, char *out, size_t cap)
{
    if (len < 2 || etag[len - 1] != '"' || coding == HP__CODING_IDENTITY) return 0;
    const char *suffix = variant_suffix[coding];
    size_t n = strlen(suffix);
    if (len + n + 1 > cap) return 0;
    memcpy(out, etag, len - 1);
    memcpy(out + len - 1, suffix, n);
    out[len - 1 + n] = '"';
    out[len + n] = '\0';
    return len + n;
}

/* Inserts the variant suffix before the closing quote of the handler's ETag, if it has one. */
static void rewrite_etag(hp__exchange *x, hp__coding coding)
{
    hp_str v;
    if (!extra_header(x, "etag", &v, NULL) || v.len < 2 || v.base[v.len - 1] != '"') return;
    size_t at = (size_t)(v.base + v.len - 1 - x->extra), n = strlen(variant_suffix[coding]);
    hp__exchange_extra_reserve(x, n);
    memmove(x->extra + at + n, x->extra + at, x->extra_len - at);
    memcpy(x->extra + at, variant_suffix[coding], n);
    x->extra_len += n;
}

static bool status_encodable(int status)
{
    return status >= 200 && status != 204 && status != 206 && status != 304;
}

static hp__coding decide(const hp__exchange *x, int64_t length)
{
    if (length >= 0 && (uint64_t)length < x->compress->config.min_bytes) return HP__CODING_IDENTITY;
    if (hp_request_header(&x->req, "range")) return HP__CODING_IDENTITY;
    return hp__accept_encoding_choose(&x->req, HP__OFFER_ALL);
}

hp__coding hp__compress_plan(hp__exchange *x, int status, int64_t length)
{
    hp_str type, encoding;
    bool candidate = x->planned || (extra_header(x, "content-type", &type, NULL) &&
                                    hp__compress_type_matches(x->compress, type));
    if (!candidate || extra_header(x, "content-encoding", &encoding, NULL))
        return HP__CODING_IDENTITY;
    if (!vary_said(x)) hp_response_header(&x->req, "Vary", 4, "Accept-Encoding", 15);
    hp__coding coding = HP__CODING_IDENTITY;
    if (status == 304 && x->planned)
        coding = (hp__coding)(x->planned - 1);
    else if (status_encodable(status))
        coding = decide(x, length);
    if (coding == HP__CODING_IDENTITY) return coding;
    rewrite_etag(x, coding);
    if (status == 304) return HP__CODING_IDENTITY; /* the variant's validators, no body */
    const char *name = hp__coding_name(coding);
    hp_response_header(&x->req, "Content-Encoding", 16, name, strlen(name));
    return coding;
}

hp__coding hp__compress_choose_slow(hp_request *req, const char *type, uint64_t size)
{
    hp__exchange *x = req->exchange;
    if (!hp__compress_type_matches(x->compress, hp__str(type, strlen(type))))
        return HP__CODING_IDENTITY;
    hp__coding coding = decide(x, size > INT64_MAX ? INT64_MAX : (int64_t)size);
    x->planned = (uint8_t)(coding + 1);
    return coding;
}
