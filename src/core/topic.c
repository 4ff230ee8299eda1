#include "core/topic.h"

#include <string.h>

/* Length of the segment starting at s (up to the next dot or the end). */
static size_t segment(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot ? (size_t)(dot - s) : strlen(s);
}

static bool is_star(const char *s, size_t n)
{
    return n == 1 && s[0] == '*';
}

static bool is_double_star(const char *s, size_t n)
{
    return n == 2 && s[0] == '*' && s[1] == '*';
}

bool hp__topic_pattern_valid(const char *p)
{
    if (!p || !*p) return false;
    for (;;) {
        size_t n = segment(p);
        bool last = p[n] == '\0';
        if (n == 0) return false;
        if (is_double_star(p, n)) {
            if (!last) return false;
        } else if (!is_star(p, n) && memchr(p, '*', n)) {
            return false; /* "ser*", "*x", "***" */
        }
        if (last) return true;
        p += n + 1;
    }
}

bool hp__topic_valid(const char *t)
{
    if (!t || !*t || strchr(t, '*')) return false;
    for (;;) {
        size_t n = segment(t);
        if (n == 0) return false;
        if (t[n] == '\0') return true;
        t += n + 1;
    }
}

bool hp__topic_match(const char *p, const char *t)
{
    if (!hp__topic_pattern_valid(p) || !hp__topic_valid(t)) return false;
    /* Both valid from here: every segment is non-empty and `**` can only be last. */
    for (;;) {
        size_t pn = segment(p), tn = segment(t);
        if (is_double_star(p, pn)) return true; /* t has at least this one segment left */
        if (!is_star(p, pn) && (pn != tn || memcmp(p, t, pn) != 0)) return false;
        bool p_end = p[pn] == '\0', t_end = t[tn] == '\0';
        if (p_end || t_end) return p_end && t_end;
        p += pn + 1;
        t += tn + 1;
    }
}
