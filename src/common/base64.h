/* Base64 (RFC 4648 §4, with padding): what the WebSocket handshake's key and accept are. */
#ifndef HP_COMMON_BASE64_H
#define HP_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* The encoded length of `len` bytes (without a terminator). */
#define HP__BASE64_LEN(len) (((len) + 2) / 3 * 4)

/* Writes HP__BASE64_LEN(len) characters to `out` and a NUL after them. */
void hp__base64_encode(const void *in, size_t len, char *out);

/* Decodes `len` characters (padded, no whitespace) into `out` (room for len / 4 * 3 bytes);
 * returns the bytes written in *out_len, or false for anything that is not canonical base64. */
bool hp__base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

#endif
