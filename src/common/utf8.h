/* An incremental UTF-8 validator (RFC 3629: no overlong form, no surrogate, nothing past
 * U+10FFFF) for text that arrives in pieces: a WebSocket text message's fragments. A sequence
 * may be split across pieces; a byte that cannot continue valid text fails at once, so a
 * message is refused at the first bad fragment (RFC 6455 §8.1), not at its end. */
#ifndef HP_COMMON_UTF8_H
#define HP_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hp__utf8 {
    uint8_t need;   /* continuation bytes still to come in the current sequence */
    uint8_t lo, hi; /* the range of the next continuation byte */
} hp__utf8;

static inline void hp__utf8_init(hp__utf8 *v)
{
    v->need = 0;
    v->lo = 0x80, v->hi = 0xbf;
}

/* Feeds `len` more bytes; false as soon as they cannot be part of valid text (the validator
 * is then of no further use until hp__utf8_init). */
bool hp__utf8_feed(hp__utf8 *v, const void *bytes, size_t len);

/* Is the text fed so far whole (no sequence cut in the middle)? */
static inline bool hp__utf8_complete(const hp__utf8 *v)
{
    return v->need == 0;
}

#endif
