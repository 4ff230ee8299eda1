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
    if (!p || !*p || strnlen(p, HP__TOPIC_MAX + 1) > HP__TOPIC_MAX) return false;
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
    if (!t || !*t || strnlen(t, HP__TOPIC_MAX + 1) > HP__TOPIC_MAX || strchr(t, '*')) return false;
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

bool hp__topic_patterns_overlap(const char *a, const char *b)
{
    if (!hp__topic_pattern_valid(a) || !hp__topic_pattern_valid(b)) return false;
    for (;;) {
        size_t an = segment(a), bn = segment(b);
        /* `**` matches one or more segments: the other has at least this one left, and
         * whatever follows it in the other (wildcards or literals) is one of the topics. */
        if (is_double_star(a, an) || is_double_star(b, bn)) return true;
        if (!is_star(a, an) && !is_star(b, bn) && (an != bn || memcmp(a, b, an) != 0)) return false;
        bool a_end = a[an] == '\0', b_end = b[bn] == '\0';
        if (a_end || b_end) return a_end && b_end;
        a += an + 1;
        b += bn + 1;
    }
}

/* A topic standing for all those a pattern matches (see topic.h): its segments, literal or
 * fresh (NULL), at most MAX_WITNESS of them (a longer pattern is never covered). */
#define MAX_WITNESS 64

typedef struct witness_segment {
    const char *s; /* NULL: fresh, matched only by a wildcard */
    size_t n;
} witness_segment;

static size_t count_segments(const char *p)
{
    size_t k = 1;
    for (; *p; p++) k += *p == '.';
    return k;
}

/* Does the valid pattern `p` match the witness `w` of `k` segments? */
static bool match_witness(const char *p, const witness_segment *w, size_t k)
{
    for (size_t i = 0;; i++) {
        if (i == k) return false; /* the pattern is longer */
        size_t pn = segment(p);
        if (is_double_star(p, pn)) return true;
        if (!is_star(p, pn) && (!w[i].s || w[i].n != pn || memcmp(w[i].s, p, pn) != 0))
            return false;
        if (p[pn] == '\0') return i + 1 == k;
        p += pn + 1;
    }
}

static bool witness_allowed(const witness_segment *w, size_t k, const char *const *allowed,
                            size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hp__topic_pattern_valid(allowed[i]) && match_witness(allowed[i], w, k)) return true;
    return false;
}

bool hp__topic_pattern_covered(const char *pattern, const char *const *allowed, size_t n)
{
    if (!hp__topic_pattern_valid(pattern)) return false;
    size_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (hp__topic_pattern_valid(allowed[i]) && count_segments(allowed[i]) > longest)
            longest = count_segments(allowed[i]);
    witness_segment w[MAX_WITNESS];
    size_t k = 0;
    bool open_end = false; /* the pattern ends in `**` */
    for (const char *p = pattern;;) {
        size_t pn = segment(p);
        if (is_double_star(p, pn)) {
            open_end = true;
            break;
        }
        if (k == MAX_WITNESS) return false;
        w[k++] = (witness_segment){is_star(p, pn) ? NULL : p, pn};
        if (p[pn] == '\0') break;
        p += pn + 1;
    }
    if (!open_end) return witness_allowed(w, k, allowed, n);
    size_t most = longest + 1 > k + 1 ? longest + 1 - k : 1; /* lengths past it all alike */
    for (size_t extra = 1; extra <= most; extra++) {
        if (k + extra > MAX_WITNESS) return false;
        for (size_t i = 0; i < extra; i++) w[k + i] = (witness_segment){NULL, 0};
        if (!witness_allowed(w, k + extra, allowed, n)) return false;
    }
    return true;
}
