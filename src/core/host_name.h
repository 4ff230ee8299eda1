/* Host names and the patterns servers claim them with (`hosts:` in a config).
 *
 * A pattern is a lowercase DNS name ("api.example.com") or a wildcard "*.suffix", which
 * matches every name that ends with ".suffix" ("a.example.com", "a.b.example.com"), never
 * the suffix itself, as nginx's "*.example.com" does. A request's Host is compared
 * case-insensitively after its port and a trailing dot are dropped. */
#ifndef HP_CORE_HOST_NAME_H
#define HP_CORE_HOST_NAME_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>

/* A lowercase DNS name: labels of 1-63 letters, digits and '-', not starting or ending with
 * '-', at most 253 characters. */
bool hp__host_name_valid(const char *name);
/* A valid name, or "*." followed by one. */
bool hp__host_pattern_valid(const char *pattern);

/* The name part of a Host value: without ":port" and a trailing '.'; "[v6]" stays as is. */
hp_str hp__host_strip(hp_str host);

/* How well `pattern` matches the stripped host `name`: -1 no match, HP__HOST_EXACT for the
 * same name, else the length of the wildcard's suffix (a longer suffix is a better match). */
#define HP__HOST_EXACT 1000
int hp__host_match(const char *pattern, hp_str name);

#endif
