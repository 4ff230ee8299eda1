/* The per-worker deflate streams of permessage-deflate (ws_deflate.h): raw deflate (no zlib
 * header), a 15-bit window, reset before each message. */
#include "ws/ws_deflate.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#define OUT_MIN 4096

/* A growing output buffer. */
typedef struct out_buffer {
    unsigned char *bytes;
    size_t cap;
} out_buffer;

/* Compressing and expanding write to buffers of their own: a message expanded for on_message
 * stays whole while the callback sends (and so compresses) on the same worker. */
struct hp__ws_deflate {
    z_stream deflater, inflater;
    bool deflater_ready, inflater_ready;
    out_buffer compressed, expanded;
};

static void zlib_failed(const char *what)
{
    fprintf(stderr, "hostpool: zlib %s failed (out of memory)\n", what);
    abort();
}

hp__ws_deflate *hp__ws_deflate_create(void)
{
    return HP_NEW(hp__ws_deflate);
}

void hp__ws_deflate_destroy(hp__ws_deflate *d)
{
    if (!d) return;
    if (d->deflater_ready) deflateEnd(&d->deflater);
    if (d->inflater_ready) inflateEnd(&d->inflater);
    free(d->compressed.bytes);
    free(d->expanded.bytes);
    free(d);
}

static void reserve(out_buffer *b, size_t need)
{
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : OUT_MIN;
    while (cap < need) cap *= 2;
    b->bytes = hp__realloc(b->bytes, cap);
    b->cap = cap;
}

void hp__ws_deflate_compress(hp__ws_deflate *d, const void *in, size_t len,
                             const unsigned char **out, size_t *out_len)
{
    z_stream *z = &d->deflater;
    if (!d->deflater_ready) {
        if (deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            zlib_failed("deflateInit2");
        d->deflater_ready = true;
    } else {
        deflateReset(z);
    }
    out_buffer *b = &d->compressed;
    reserve(b, deflateBound(z, (uLong)len) + 16);
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    z->next_out = b->bytes;
    z->avail_out = (uInt)b->cap;
    deflate(z, Z_SYNC_FLUSH); /* the bound leaves room for all of it */
    size_t n = b->cap - z->avail_out;
    /* A sync flush ends with an empty stored block, 00 00 ff ff: the receiver adds it back. */
    if (n >= 4) n -= 4;
    *out = b->bytes;
    *out_len = n;
}

int hp__ws_deflate_expand(hp__ws_deflate *d, const void *in, size_t len, uint64_t max,
                          const unsigned char **out, size_t *out_len)
{
    static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
    z_stream *z = &d->inflater;
    if (!d->inflater_ready) {
        if (inflateInit2(z, -15) != Z_OK) zlib_failed("inflateInit2");
        d->inflater_ready = true;
    } else {
        inflateReset(z);
    }
    out_buffer *b = &d->expanded;
    reserve(b, OUT_MIN);
    size_t used = 0;
    bool ended = false; /* a final block came: what follows it is ignored */
    for (int part = 0; part < 2 && !ended; part++) {
        z->next_in = (Bytef *)(part == 0 ? in : tail);
        z->avail_in = (uInt)(part == 0 ? len : sizeof tail);
        for (;;) {
            if (used == b->cap) reserve(b, b->cap * 2);
            z->next_out = b->bytes + used;
            z->avail_out = (uInt)(b->cap - used);
            int rc = inflate(z, Z_SYNC_FLUSH);
            used = b->cap - z->avail_out;
            if (used > max) return HP_ELIMIT;
            if (rc == Z_STREAM_END) {
                ended = true;
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) return HP_EINVAL;
            if (z->avail_in == 0 && z->avail_out != 0) break; /* all in, all out */
        }
    }
    *out = b->bytes;
    *out_len = used;
    return 0;
}
