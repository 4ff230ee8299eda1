/* SHA-1 (FIPS 180-4), for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 §4.2.2)
 * only: SHA-1 is not collision resistant and must not be used where that matters. */
#ifndef HP_COMMON_SHA1_H
#define HP_COMMON_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define HP__SHA1_DIGEST 20

typedef struct hp__sha1 {
    uint32_t h[5];
    uint64_t length; /* bytes hashed so far */
    unsigned char block[64];
    size_t used; /* bytes of `block` filled */
} hp__sha1;

void hp__sha1_init(hp__sha1 *s);
void hp__sha1_update(hp__sha1 *s, const void *data, size_t len);
void hp__sha1_final(hp__sha1 *s, unsigned char digest[HP__SHA1_DIGEST]);

#endif
