#include "core/host_name.h"

#include "common/str.h"

#include <string.h>

bool hp__host_name_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253) return false;
    while (*s) {
        size_t label = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
        if (label == 0 || label > 63 || s[0] == '-' || s[label - 1] == '-') return false;
        s += label;
        if (*s == '.' && s[1]) {
            s++;
        } else if (*s) {
            return false;
        }
    }
    return true;
}

bool hp__host_pattern_valid(const char *pattern)
{
    return hp__host_name_valid(strncmp(pattern, "*.", 2) == 0 ? pattern + 2 : pattern);
}

hp_str hp__host_strip(hp_str host)
{
    size_t len = host.len;
    if (len == 0) return host; /* no Host (HTTP/1.0): base may be NULL */
    if (host.base[0] == '[') {
        const char *close = memchr(host.base, ']', len);
        return close ? hp__str(host.base, (size_t)(close - host.base) + 1) : host;
    }
    const char *colon = memchr(host.base, ':', len);
    if (colon) len = (size_t)(colon - host.base);
    if (len && host.base[len - 1] == '.') len--;
    return hp__str(host.base, len);
}

int hp__host_match(const char *pattern, hp_str name)
{
    size_t plen = strlen(pattern);
    if (strncmp(pattern, "*.", 2) != 0)
        return plen == name.len && hp__mem_ieq(pattern, name.base, plen) ? HP__HOST_EXACT : -1;
    size_t suffix = plen - 1; /* ".example.com" */
    if (name.len <= suffix) return -1;
    const char *tail = name.base + name.len - suffix;
    return hp__mem_ieq(pattern + 1, tail, suffix) ? (int)suffix : -1;
}
