#include "config/config_suggest.h"

#include <string.h>

/* Longer keys than this are not compared: no known key is near one. */
#define MAX_LEN 64

size_t hp__config_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAX_LEN || m > MAX_LEN || (n > m ? n - m : m - n) > cap) return cap + 1;
    /* Three rows of the table: d[i][j] is the distance from a's first i to b's first j. */
    size_t rows[3][MAX_LEN + 1], *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++) prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        size_t low = cur[0];
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = prev[j - 1] + cost;
            if (prev[j] + 1 < d) d = prev[j] + 1;
            if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < d)
                d = before[j - 2] + 1;
            cur[j] = d;
            if (d < low) low = d;
        }
        if (low > cap) return cap + 1;
        size_t *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] <= cap ? prev[m] : cap + 1;
}

const char *hp__config_suggest(const char *key, const char *const *known)
{
    size_t cap = strlen(key) >= 8 ? 2 : 1, best_distance = cap + 1;
    const char *best = NULL;
    for (const char *const *k = known; *k; k++) {
        size_t d = hp__config_edit_distance(key, *k, cap);
        if (d < best_distance) {
            best_distance = d;
            best = *k;
        }
    }
    return best;
}
