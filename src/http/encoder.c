#include "http/encoder.h"

#include "common/alloc.h"

#include <brotli/encode.h>
#include <stdlib.h>
#include <zlib.h>

#define GZIP_WINDOW (15 + 16) /* 32 KiB window, gzip header and trailer */
#define BROTLI_STREAM_WINDOW 18

struct hp__encoder {
    hp__coding coding;
    z_stream z;
    BrotliEncoderState *br;
    bool ended; /* the trailer is out */
};

size_t hp__encode_bound(hp__coding coding, size_t len)
{
    if (coding == HP__CODING_BR) return BrotliEncoderMaxCompressedSize(len) + 16;
    return (size_t)compressBound((uLong)len) + 32; /* deflate's bound plus the gzip wrapper */
}

static size_t gzip_once(int level, const void *in, size_t len, char *out, size_t cap)
{
    z_stream z = {0};
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? n : 0;
}

size_t hp__encode_once(hp__coding coding, int level, const void *in, size_t len, char *out,
                       size_t cap)
{
    if (coding == HP__CODING_GZIP) return gzip_once(level, in, len, out, cap);
    size_t n = cap;
    if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len,
                               (const uint8_t *)in, &n, (uint8_t *)out))
        return 0;
    return n;
}

hp__encoder *hp__encoder_create(hp__coding coding, int level)
{
    hp__encoder *enc = HP_NEW(hp__encoder);
    enc->coding = coding;
    if (coding == HP__CODING_GZIP) {
        if (deflateInit2(&enc->z, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) == Z_OK)
            return enc;
    } else if ((enc->br = BrotliEncoderCreateInstance(NULL, NULL, NULL))) {
        BrotliEncoderSetParameter(enc->br, BROTLI_PARAM_QUALITY, (uint32_t)level);
        BrotliEncoderSetParameter(enc->br, BROTLI_PARAM_LGWIN, BROTLI_STREAM_WINDOW);
        return enc;
    }
    free(enc);
    return NULL;
}

void hp__encoder_destroy(hp__encoder *enc)
{
    if (!enc) return;
    if (enc->coding == HP__CODING_GZIP)
        deflateEnd(&enc->z);
    else
        BrotliEncoderDestroyInstance(enc->br);
    free(enc);
}

static const int zlib_flush[] = {[HP__ENCODE_PROCESS] = Z_NO_FLUSH,
                                 [HP__ENCODE_FLUSH] = Z_SYNC_FLUSH,
                                 [HP__ENCODE_FINISH] = Z_FINISH};
static const BrotliEncoderOperation brotli_op[] = {[HP__ENCODE_PROCESS] = BROTLI_OPERATION_PROCESS,
                                                   [HP__ENCODE_FLUSH] = BROTLI_OPERATION_FLUSH,
                                                   [HP__ENCODE_FINISH] = BROTLI_OPERATION_FINISH};

static int gzip_run(hp__encoder *enc, const char **in, size_t *in_len, hp__encode_op op, char *out,
                    size_t cap, size_t *out_len)
{
    z_stream *z = &enc->z;
    z->next_in = (Bytef *)*in;
    z->avail_in = (uInt)*in_len;
    z->next_out = (Bytef *)out;
    z->avail_out = (uInt)cap;
    int rc = deflate(z, zlib_flush[op]);
    *in = (const char *)z->next_in;
    *in_len = z->avail_in;
    *out_len = cap - z->avail_out;
    if (rc == Z_STREAM_END) return 1;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return -1;
    if (op == HP__ENCODE_PROCESS) return z->avail_in == 0;
    /* A flush is complete when deflate took all the input and left room in the output. */
    return op == HP__ENCODE_FLUSH && z->avail_in == 0 && z->avail_out > 0;
}

static int br_run(hp__encoder *enc, const char **in, size_t *in_len, hp__encode_op op, char *out,
                  size_t cap, size_t *out_len)
{
    const uint8_t *next_in = (const uint8_t *)*in;
    uint8_t *next_out = (uint8_t *)out;
    size_t avail_out = cap;
    if (!BrotliEncoderCompressStream(enc->br, brotli_op[op], in_len, &next_in, &avail_out,
                                     &next_out, NULL))
        return -1;
    *in = (const char *)next_in;
    *out_len = cap - avail_out;
    if (op == HP__ENCODE_PROCESS) return *in_len == 0;
    if (BrotliEncoderHasMoreOutput(enc->br)) return 0;
    if (op == HP__ENCODE_FINISH) return BrotliEncoderIsFinished(enc->br);
    return *in_len == 0;
}

int hp__encoder_run(hp__encoder *enc, const char **in, size_t *in_len, hp__encode_op op, char *out,
                    size_t cap, size_t *out_len)
{
    if (enc->ended) {
        *out_len = 0;
        return 1;
    }
    int rc = enc->coding == HP__CODING_GZIP ? gzip_run(enc, in, in_len, op, out, cap, out_len)
                                            : br_run(enc, in, in_len, op, out, cap, out_len);
    if (rc == 1 && op == HP__ENCODE_FINISH) enc->ended = true;
    return rc;
}
