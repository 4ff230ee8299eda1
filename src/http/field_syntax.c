/* Header field syntax: the grammar is in field_syntax.h. Nothing to initialise, nothing to
 * allocate: byte classes are one table built at compile time, and values, most of a head's
 * bytes, are checked 8 or 16 bytes at a time. Every request pays for these checks; on a
 * 500-byte browser head (callgrind) the values take 930 instructions (1,320 a byte at a time),
 * the names 510, the Host 150, against llhttp's own 4,500. */
#include "http/field_syntax.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Byte classes, as one table of flags built at compile time from sets of ASCII bytes written
 * as two masks each: bit c of LO for c < 64, bit c - 64 of HI for 64 <= c < 128. */
#define LO(c) ((uint64_t)1 << (c))
#define HI(c) ((uint64_t)1 << ((c)-64))
#define DIGITS 0x03ff000000000000u  /* '0'-'9': bits 48-57 of LO */
#define LETTERS 0x07fffffe07fffffeu /* 'A'-'Z' and 'a'-'z': bits 1-26 and 33-58 of HI */

#define TCHAR_LO                                                                                   \
    (LO('!') | LO('#') | LO('$') | LO('%') | LO('&') | LO('\'') | LO('*') | LO('+') | LO('-') |    \
     LO('.') | DIGITS)
#define TCHAR_HI (HI('^') | HI('_') | HI('`') | HI('|') | HI('~') | LETTERS)
/* unreserved and sub-delims (RFC 3986 §2.2, §2.3) but '.': a reg-name's bytes besides
 * pct-encoded and the dots, which reg_name_end takes itself. */
#define REG_NAME_LO                                                                                \
    (LO('-') | DIGITS | LO('!') | LO('$') | LO('&') | LO('\'') | LO('(') | LO(')') | LO('*') |     \
     LO('+') | LO(',') | LO(';') | LO('='))
#define REG_NAME_HI (HI('_') | HI('~') | LETTERS)
#define HEX_LO DIGITS
#define HEX_HI 0x0000007e0000007eu /* 'A'-'F' and 'a'-'f' */

enum { TCHAR = 1, REG_NAME = 2, HEX = 4 };

#define IN(set, c)                                                                                 \
    ((c) < 64 ? (set##_LO >> ((c)&63)) & 1 : (c) < 128 ? (set##_HI >> ((c)&63)) & 1 : 0)
#define CLASS(c) (IN(TCHAR, c) * TCHAR | IN(REG_NAME, c) * REG_NAME | IN(HEX, c) * HEX)
#define C4(c) CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define C16(c) C4(c), C4((c) + 4), C4((c) + 8), C4((c) + 12)
#define C64(c) C16(c), C16((c) + 16), C16((c) + 32), C16((c) + 48)

static const uint8_t byte_class[256] = {C64(0), C64(64), C64(128), C64(192)};

static bool is(unsigned flag, char c)
{
    return byte_class[(unsigned char)c] & flag;
}

size_t hp__token_length(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is(TCHAR, s[i])) i++;
    return i;
}

static bool bytes_are_field_content(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

/* Nonzero when one of the 8 bytes at p is below 0x20 or is 0x7f (the classic "has less than"
 * and "has zero" word tricks, exact as to whether there is one; bytes >= 0x80 never count). */
static uint64_t may_hold_control(const char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w, del;
    memcpy(&w, p, sizeof w);
    del = w ^ (ones * 0x7f);
    return ((w - ones * 0x20) & ~w & highs) | ((del - ones) & ~del & highs);
}

/* Values are most of a head's bytes, so they are taken 16 at a time, then 8, the last 8
 * overlapping the ones before when the length is not a multiple of 8; the few words that hold
 * a control (a HTAB, which is allowed, or a refused byte) are looked at byte by byte. */
bool hp__field_value_valid(hp_str value)
{
    const char *p = value.base;
    if (value.len < 8) return bytes_are_field_content(p, value.len);
    const char *last = p + value.len - 8;
    for (; p + 8 < last; p += 16)
        if ((may_hold_control(p) | may_hold_control(p + 8)) && !bytes_are_field_content(p, 16))
            return false;
    for (; p < last; p += 8)
        if (may_hold_control(p) && !bytes_are_field_content(p, 8)) return false;
    return !may_hold_control(last) || bytes_are_field_content(last, 8);
}

bool hp__field_valid(hp_str name, hp_str value)
{
    return name.len > 0 && hp__token_length(name.base, name.len) == name.len &&
           hp__field_value_valid(value);
}

bool hp__upgrade_protocol_valid(hp_str p)
{
    const char *slash = p.len ? memchr(p.base, '/', p.len) : NULL;
    size_t name = slash ? (size_t)(slash - p.base) : p.len;
    if (name == 0 || hp__token_length(p.base, name) != name) return false;
    if (!slash) return true;
    size_t version = p.len - name - 1;
    return version > 0 && hp__token_length(slash + 1, version) == version;
}

/* ---- Host --------------------------------------------------------------------------------- */

/* The end of the reg-name that starts at p: unreserved, sub-delims and "%" HEXDIG HEXDIG. It
 * stops at the first byte that cannot continue one (a bad escape included), which the caller
 * then finds is not the ':' or the end it expects. An empty label ("a..b") also stops it: as
 * nginx, no name with one is taken, since it is no DNS name and ".." is a path's parent should
 * a host ever become part of a path. (IPv4address is a reg-name too: digits and dots.) */
static const char *reg_name_end(const char *p, const char *end)
{
    while (p < end) {
        if (is(REG_NAME, *p)) {
            p++;
        } else if (*p == '.' && (p + 1 == end || p[1] != '.')) {
            p++;
        } else if (*p == '%' && end - p >= 3 && is(HEX, p[1]) && is(HEX, p[2])) {
            p += 3;
        } else {
            return p;
        }
    }
    return p;
}

/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ), after its "v". */
static bool ipv_future_valid(const char *p, const char *end)
{
    const char *digits = p;
    while (p < end && is(HEX, *p)) p++;
    if (p == digits || p == end || *p != '.') return false;
    const char *rest = ++p;
    while (p < end && (*p == ':' || *p == '.' || is(REG_NAME, *p))) p++;
    return p == end && p > rest;
}

/* What is between the brackets of an IP-literal: IPv6address (checked by inet_pton, which
 * takes exactly RFC 4291's text forms and no zone identifier) or IPvFuture. */
static bool ip_literal_valid(const char *p, const char *end)
{
    size_t len = (size_t)(end - p);
    if (len > 0 && (*p == 'v' || *p == 'V')) return ipv_future_valid(p + 1, end);
    char text[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof text) return false;
    memcpy(text, p, len);
    text[len] = '\0';
    struct in6_addr addr;
    return inet_pton(AF_INET6, text, &addr) == 1;
}

/* port = *DIGIT, at most 65535 (leading zeros are digits like any other). */
static bool port_valid(const char *p, const char *end)
{
    uint32_t port = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return false;
        port = port * 10 + (uint32_t)(*p - '0');
        if (port > 65535) return false;
    }
    return true;
}

bool hp__host_valid(hp_str host)
{
    if (host.len == 0) return false;
    const char *p = host.base, *end = host.base + host.len, *name_end;
    if (*p == '[') {
        const char *close = memchr(p, ']', host.len);
        if (!close || !ip_literal_valid(p + 1, close)) return false;
        name_end = close + 1;
    } else {
        name_end = reg_name_end(p, end);
        if (name_end == p) return false; /* no host before the port, or nothing valid */
    }
    if (name_end == end) return true;
    return *name_end == ':' && port_valid(name_end + 1, end);
}
