/* Content encoders: gzip (zlib's deflate with a gzip wrapper) and br (libbrotlienc).
 *
 * Two shapes. hp__encode_once compresses a whole body in one call into a buffer of
 * hp__encode_bound bytes (respond bodies, small files). An hp__encoder compresses a stream as
 * it goes: each run takes what it can of the input into a caller's bounded output buffer and
 * says whether the input is used up (and, at the end, the coding's trailer written); a full
 * buffer is written out before the next run, so memory stays bounded whatever the body's size
 * and a slow client slows the producer. Each piece of a stream is flushed (Z_SYNC_FLUSH,
 * BROTLI_OPERATION_FLUSH) so what the producer sent reaches the client now, not when a later
 * piece fills a block: a stream of events stays live, at a small cost in ratio.
 *
 * Brotli's quality is the policy's level (1..9 of its 0..11: 10 and 11 are for offline work);
 * a stream's window is 2^18 bytes, to bound the encoder's memory. Owned by the exchange that
 * made it, on its worker's thread. */
#ifndef HP_HTTP_ENCODER_H
#define HP_HTTP_ENCODER_H

#include "http/accept_encoding.h"

#include <stdbool.h>
#include <stddef.h>

/* The most bytes `len` input bytes take once encoded whole with hp__encode_once. */
size_t hp__encode_bound(hp__coding coding, size_t len);
/* Encodes in[0..len) whole into out (of hp__encode_bound bytes); returns the encoded length, or
 * 0 on an encoder failure (out of memory inside the library). */
size_t hp__encode_once(hp__coding coding, int level, const void *in, size_t len, char *out,
                       size_t cap);

typedef struct hp__encoder hp__encoder;

typedef enum {
    HP__ENCODE_PROCESS, /* take the input; output may lag (a file read in chunks) */
    HP__ENCODE_FLUSH,   /* and write out everything it makes up to now (a stream's piece) */
    HP__ENCODE_FINISH,  /* and end the encoded stream */
} hp__encode_op;

/* NULL when the library cannot make one. */
hp__encoder *hp__encoder_create(hp__coding coding, int level);
/* NULL: no-op. */
void hp__encoder_destroy(hp__encoder *enc);
/* Takes what fits of [*in, *in + *in_len) (both advance) and writes up to `cap` bytes into
 * `out` (*out_len), as `op` says. Returns 1 when the input is used up (and, for FLUSH and
 * FINISH, all of its output written), 0 when `out` filled first (run again with the same op
 * and the rest once it is written), -1 on an encoder failure. */
int hp__encoder_run(hp__encoder *enc, const char **in, size_t *in_len, hp__encode_op op, char *out,
                    size_t cap, size_t *out_len);

#endif
