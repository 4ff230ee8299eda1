/* "Did you mean": the known key an unknown one was probably meant to be.
 *
 * Closeness is the optimal string alignment distance (Damerau-Levenshtein without moving a
 * substring twice): one insertion, deletion, substitution or swap of two neighbours is one
 * edit, so "limts", "limitss", "lmiits" and "Limits" are each one edit from "limits". A key
 * is suggested within one edit, or two for keys of 8 characters or more (where two slips are
 * still an obvious match: "max_headr_byts"); the closest wins, the first listed on a tie. */
#ifndef HP_CONFIG_SUGGEST_H
#define HP_CONFIG_SUGGEST_H

#include <stddef.h>

/* The edits from `a` to `b`, or `cap` + 1 when more than `cap`. */
size_t hp__config_edit_distance(const char *a, const char *b, size_t cap);

/* The entry of `known` (NULL-terminated; borrowed) that `key` is close to, or NULL. */
const char *hp__config_suggest(const char *key, const char *const *known);

#endif
