#include "common/str.h"

#include <string.h>

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool hp__mem_ieq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

hp_str hp__str_trim(hp_str s)
{
    while (s.len && (s.base[0] == ' ' || s.base[0] == '\t')) s.base++, s.len--;
    while (s.len && (s.base[s.len - 1] == ' ' || s.base[s.len - 1] == '\t')) s.len--;
    return s;
}

bool hp__str_to_u64(hp_str s, uint64_t max, uint64_t *out)
{
    if (s.len == 0 || s.len > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (c < '0' || c > '9') return false;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

size_t hp__ipv4_text(const unsigned char *addr, char *buf)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = addr[i];
        if (v >= 100) buf[n++] = (char)('0' + v / 100);
        if (v >= 10) buf[n++] = (char)('0' + v / 10 % 10);
        buf[n++] = (char)('0' + v % 10);
        if (i < 3) buf[n++] = '.';
    }
    buf[n] = '\0';
    return n;
}
