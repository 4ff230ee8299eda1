#include "core/topic.h"

#include <string.h>

/* Length of the segment starting at s. */
static size_t segment(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot ? (size_t)(dot - s) : strlen(s);
}

bool hp__topic_pattern_valid(const char *p)
{
    if (!p || !*p) return false;
    for (;;) {
        size_t n = segment(p);
        if (n == 0) return false;
        bool wild = memchr(p, '*', n) != NULL;
        bool last = p[n] == '\0';
        if (wild && !(n == 1 || (n == 2 && p[1] == '*'))) return false; /* "ser*" */
        if (n == 2 && p[0] == '*' && p[1] == '*' && !last) return false;
        if (last) return true;
        p += n + 1;
    }
}

bool hp__topic_match(const char *p, const char *t)
{
    for (;;) {
        size_t pn = segment(p), tn = segment(t);
        if (pn == 2 && p[0] == '*' && p[1] == '*') return tn > 0; /* the rest, at least one */
        if (tn == 0) return false;
        if (!(pn == 1 && p[0] == '*') && (pn != tn || memcmp(p, t, pn) != 0)) return false;
        bool p_end = p[pn] == '\0', t_end = t[tn] == '\0';
        if (p_end || t_end) return p_end && t_end;
        p += pn + 1;
        t += tn + 1;
    }
}
