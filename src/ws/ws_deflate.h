/* permessage-deflate (RFC 7692) for a worker: one deflate and one inflate stream (zlib's are
 * ~300 KB each) serve every connection of the worker. That is possible because the handshake
 * negotiates no context takeover both ways (ws_handshake.h): each message is compressed and
 * expanded on its own, so a stream is reset per message and keeps nothing between them.
 *
 * The streams are made on first use, so a worker whose clients never negotiate compression
 * pays nothing. Threads: the worker's only. */
#ifndef HP_WS_WS_DEFLATE_H
#define HP_WS_WS_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hp__ws_deflate hp__ws_deflate;

hp__ws_deflate *hp__ws_deflate_create(void);
void hp__ws_deflate_destroy(hp__ws_deflate *d); /* NULL: no-op */

/* Compresses one message's payload (RFC 7692 §7.2.1: the final 00 00 ff ff removed). The
 * result is the worker's buffer for compressing, valid until the next compress. */
void hp__ws_deflate_compress(hp__ws_deflate *d, const void *in, size_t len,
                             const unsigned char **out, size_t *out_len);

/* Expands one message's compressed payload, at most `max` bytes of it: returns 0 (the result
 * is the worker's buffer for expanding, valid until the next expand: compressing meanwhile
 * leaves it alone), HP_ELIMIT past `max` (a compression
 * bomb stops there), HP_EINVAL for data that is not deflate. */
int hp__ws_deflate_expand(hp__ws_deflate *d, const void *in, size_t len, uint64_t max,
                          const unsigned char **out, size_t *out_len);

#endif
