/* The validator of utf8.h: RFC 3629's table of well-formed sequences, one byte at a time, with
 * the one state a split sequence needs (how many bytes are left and the range of the next). An
 * ASCII run is skipped eight bytes at a time, the common case of text. */
#include "common/utf8.h"

#include <string.h>

/* The sequence a lead byte starts: its continuation count and the range of its second byte;
 * false for a byte that cannot lead. */
static bool lead(hp__utf8 *v, unsigned char c)
{
    v->lo = 0x80, v->hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        v->need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        v->need = 2;
        if (c == 0xe0) v->lo = 0xa0; /* overlong */
        if (c == 0xed) v->hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        v->need = 3;
        if (c == 0xf0) v->lo = 0x90; /* overlong */
        if (c == 0xf4) v->hi = 0x8f; /* past U+10FFFF */
    } else {
        return false;
    }
    return true;
}

bool hp__utf8_feed(hp__utf8 *v, const void *bytes, size_t len)
{
    const unsigned char *s = bytes;
    size_t i = 0;
    while (i < len) {
        if (v->need == 0) {
            if (i + 8 <= len) {
                uint64_t word;
                memcpy(&word, s + i, 8);
                if ((word & 0x8080808080808080ull) == 0) {
                    i += 8;
                    continue;
                }
            }
            unsigned char c = s[i++];
            if (c >= 0x80 && !lead(v, c)) return false;
        } else {
            unsigned char c = s[i++];
            if (c < v->lo || c > v->hi) return false;
            v->need--;
            v->lo = 0x80, v->hi = 0xbf;
        }
    }
    return true;
}
