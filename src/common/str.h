/* Small helpers over hp_str (a borrowed, non-terminated byte string). */
#ifndef HP_COMMON_STR_H
#define HP_COMMON_STR_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline hp_str hp__str(const char *base, size_t len)
{
    return (hp_str){base, len};
}

bool hp__mem_ieq(const char *a, const char *b, size_t len); /* ASCII case-insensitive */

/* Inline so the length of a literal folds at compile time and mismatched lengths cost one
 * comparison (these run for every header of every request). */
static inline bool hp__str_eq(hp_str a, const char *lit)
{
    size_t n = __builtin_strlen(lit);
    return a.len == n && __builtin_memcmp(a.base, lit, n) == 0;
}

static inline bool hp__str_ieq(hp_str a, const char *lit)
{
    size_t n = __builtin_strlen(lit);
    return a.len == n && hp__mem_ieq(a.base, lit, n);
}
hp_str hp__str_trim(hp_str s); /* strip SP and HTAB at both ends */
/* Parses a non-negative decimal integer that fills `s` entirely, at most `max`. */
bool hp__str_to_u64(hp_str s, uint64_t max, uint64_t *out);
/* An IPv4 address (4 bytes) in dotted decimal, as inet_ntop writes it but without its
 * sprintf (a proxied request's X-Forwarded-For); `buf` holds 16 bytes. Returns the length. */
size_t hp__ipv4_text(const unsigned char *addr, char *buf);
/* `len` bytes as valid UTF-8 (what JSON may carry): each byte of an invalid, overlong,
 * surrogate or out-of-range sequence becomes U+FFFD. `out` holds 3 * len bytes; returns the
 * length written. */
size_t hp__utf8_repair(const char *in, size_t len, char *out);

/* The length of the valid UTF-8 sequence at s[0..len) (len >= 1), or 0 (RFC 3629's table: no
 * overlong form, no surrogate, nothing past U+10FFFF). */
size_t hp__utf8_sequence(const unsigned char *s, size_t len);

#endif
