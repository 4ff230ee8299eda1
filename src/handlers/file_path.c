#include "handlers/file_path.h"

#include <stdbool.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes `in` into out[cap]; returns the decoded length, -400 or -414. */
static long decode(hp_str in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.base[i];
        if (c == '%') {
            int hi = i + 2 < in.len ? hex_value(in.base[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(in.base[i + 2]) : -1;
            if (lo < 0) return -400;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return -400;
        if (n + 1 >= cap) return -414;
        out[n++] = c;
    }
    out[n] = '\0';
    return (long)n;
}

int hp__file_path_normalize(hp_str path, char *out, size_t cap, size_t *len)
{
    char decoded[4096];
    long dlen = decode(path, decoded, sizeof decoded < cap ? sizeof decoded : cap);
    if (dlen < 0) return (int)-dlen;
    size_t n = 0; /* out[0..n): segments joined by '/' */
    const char *p = decoded, *end = decoded + dlen;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        size_t seg = (size_t)(seg_end - p);
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0) return 400; /* above the root */
            while (n > 0 && out[n - 1] != '/') n--;
            if (n > 0) n--; /* the '/' before the removed segment */
        } else if (seg > 0 && !(seg == 1 && p[0] == '.')) {
            if (n + seg + 2 > cap) return 414;
            if (n > 0) out[n++] = '/';
            memcpy(out + n, p, seg);
            n += seg;
        }
        p = seg_end + (slash ? 1 : 0);
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

/* RFC 3986 pchar minus '%', plus '/': what a path may carry unescaped. */
static bool path_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* Appends `len` bytes of `src` at out[*n], escaping with `escape`; false when out is full. */
static bool append(char *out, size_t cap, size_t *n, const char *src, size_t len, bool escape)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        bool plain = !escape || path_safe(c);
        if (*n + (plain ? 1 : 3) >= cap) return false;
        if (plain) {
            out[(*n)++] = (char)c;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
    return true;
}

size_t hp__file_path_folder_location(const char *path, size_t len, hp_str query, char *out,
                                     size_t cap)
{
    size_t n = 0;
    bool ok = append(out, cap, &n, "/", 1, false) && append(out, cap, &n, path, len, true) &&
              (len == 0 || append(out, cap, &n, "/", 1, false)) &&
              (query.len == 0 || (append(out, cap, &n, "?", 1, false) &&
                                  append(out, cap, &n, query.base, query.len, false)));
    if (!ok) return 0;
    out[n] = '\0';
    return n;
}
