#include "core/url_path.h"

#include <stdbool.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* RFC 3986 pchar without pct-encoded: the bytes a segment of the normalized form holds as
 * themselves. */
static bool segment_literal(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~': /* unreserved */
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')': /* sub-delims */
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
        return true;
    default:
        return false;
    }
}

/* Writes the segment at *p (up to the next '/' or `end`) into out from out[*n], decoded and
 * written back in the normalized form; *p is left on the '/' or at `end`. Returns 0, 400 or
 * 414. */
static int put_segment(const char **p, const char *end, char *out, size_t cap, size_t *n)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *q = *p;
    while (q < end && *q != '/') {
        unsigned char c = (unsigned char)*q++;
        if (c == '%') {
            int hi = end - q >= 2 ? hex_value(q[0]) : -1;
            int lo = hi >= 0 ? hex_value(q[1]) : -1;
            if (lo < 0) return 400;
            c = (unsigned char)(hi << 4 | lo);
            q += 2;
        }
        if (c == '\0') return 400;
        bool plain = segment_literal(c);
        if (*n + (plain ? 1 : 3) >= cap) return 414; /* one byte stays for the NUL */
        if (plain) {
            out[(*n)++] = (char)c;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
    *p = q;
    return 0;
}

/* out[0..n) is "/" followed by segments that each end in '/', except perhaps the last one:
 * so the segment before a ".." always ends in '/', and dropping it is a walk back to the '/'
 * before it. */
int hp__url_path_normalize(hp_str raw, char *out, size_t cap, size_t *len)
{
    if (raw.len == 0 || raw.base[0] != '/') return 400;
    if (cap < 2) return 414;
    const char *p = raw.base + 1, *end = raw.base + raw.len;
    size_t n = 0;
    out[n++] = '/';
    for (;;) {
        size_t start = n;
        int status = put_segment(&p, end, out, cap, &n);
        if (status) return status;
        bool more = p < end; /* a '/' follows */
        size_t seg = n - start;
        if (seg == 1 && out[start] == '.') {
            n = start;
        } else if (seg == 2 && out[start] == '.' && out[start + 1] == '.') {
            if (start == 1) return 400; /* above the root */
            n = start - 1;              /* on the '/' that ends the segment before */
            while (out[n - 1] != '/') n--;
        } else if (seg > 0 && more) {
            if (n + 1 >= cap) return 414;
            out[n++] = '/';
        }
        if (!more) break;
        p++;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}
