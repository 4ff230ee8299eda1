/* The content encoders (src/http/encoder.c): a whole body in one call, and a stream run into a
 * small bounded buffer (the loop the response writer runs when a buffer fills), both decoded
 * with zlib and libbrotlidec; each flushed piece decodes at once to everything sent so far. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/encoder.h"

#include <brotli/decode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define INPUT_LEN (300 * 1024)

static char *input;

static int make_input(void **state)
{
    input = malloc(INPUT_LEN);
    uint32_t x = 7;
    for (size_t i = 0; i < INPUT_LEN; i++) { /* half text, half noise: both kinds of blocks */
        x = x * 1103515245u + 12345u;
        input[i] = i < INPUT_LEN / 2 ? "abcdefgh "[(x >> 16) % 9] : (char)(x >> 16);
    }
    return 0;
}

static int free_input(void **state)
{
    free(input);
    return 0;
}

/* A decoder of either coding, fed piece by piece. */
typedef struct decoder {
    hp__coding coding;
    z_stream z;
    BrotliDecoderState *br;
    char *out;
    size_t len, cap;
} decoder;

static void decoder_init(decoder *d, hp__coding coding)
{
    memset(d, 0, sizeof *d);
    d->coding = coding;
    d->cap = INPUT_LEN + 1;
    d->out = malloc(d->cap);
    if (coding == HP__CODING_GZIP)
        assert_int_equal(inflateInit2(&d->z, 16 + 15), Z_OK);
    else
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
}

static void decoder_feed(decoder *d, const char *in, size_t len)
{
    if (d->coding == HP__CODING_GZIP) {
        d->z.next_in = (Bytef *)in;
        d->z.avail_in = (uInt)len;
        d->z.next_out = (Bytef *)d->out + d->len;
        d->z.avail_out = (uInt)(d->cap - d->len);
        int rc = inflate(&d->z, Z_SYNC_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END || (rc == Z_BUF_ERROR && len == 0));
        d->len = d->cap - d->z.avail_out;
        assert_int_equal(d->z.avail_in, 0);
        return;
    }
    const uint8_t *next_in = (const uint8_t *)in;
    uint8_t *next_out = (uint8_t *)d->out + d->len;
    size_t avail_out = d->cap - d->len;
    BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(d->br, &len, &next_in, &avail_out, &next_out, NULL);
    assert_int_not_equal(rc, BROTLI_DECODER_RESULT_ERROR);
    d->len = d->cap - avail_out;
}

static void decoder_close(decoder *d)
{
    if (d->coding == HP__CODING_GZIP)
        inflateEnd(&d->z);
    else
        BrotliDecoderDestroyInstance(d->br);
    free(d->out);
}

static void whole_body_round_trips(hp__coding coding)
{
    size_t bound = hp__encode_bound(coding, INPUT_LEN);
    char *out = malloc(bound);
    size_t n = hp__encode_once(coding, 5, input, INPUT_LEN, out, bound);
    assert_true(n > 0 && n < INPUT_LEN);
    decoder d;
    decoder_init(&d, coding);
    decoder_feed(&d, out, n);
    assert_int_equal(d.len, INPUT_LEN);
    assert_memory_equal(d.out, input, INPUT_LEN);
    decoder_close(&d);
    free(out);
}

static void a_whole_body_round_trips_in_gzip_and_br(void **state)
{
    whole_body_round_trips(HP__CODING_GZIP);
    whole_body_round_trips(HP__CODING_BR);
}

/* The stream in pieces of `piece` bytes, each flushed, through an output buffer of `cap`
 * bytes: after each piece is used up, the decoder has every byte sent so far. */
static void stream_round_trips(hp__coding coding, size_t piece, size_t cap)
{
    hp__encoder *enc = hp__encoder_create(coding, 5);
    assert_non_null(enc);
    char *buf = malloc(cap);
    decoder d;
    decoder_init(&d, coding);
    size_t sent = 0;
    unsigned full_buffers = 0;
    while (sent < INPUT_LEN) {
        size_t len = INPUT_LEN - sent < piece ? INPUT_LEN - sent : piece;
        const char *in = input + sent;
        size_t left = len;
        bool last = sent + len == INPUT_LEN;
        int rc;
        do {
            size_t out_len;
            rc = hp__encoder_run(enc, &in, &left, last ? HP__ENCODE_FINISH : HP__ENCODE_FLUSH, buf,
                                 cap, &out_len);
            assert_true(rc >= 0 && out_len <= cap);
            full_buffers += rc == 0;
            decoder_feed(&d, buf, out_len);
        } while (rc == 0);
        assert_int_equal(left, 0);
        sent += len;
        assert_int_equal(d.len, sent); /* flushed: nothing held back */
    }
    assert_true(full_buffers > 0); /* the bounded buffer did fill and was run again */
    assert_memory_equal(d.out, input, INPUT_LEN);
    decoder_close(&d);
    free(buf);
    hp__encoder_destroy(enc);
}

static void a_flushed_stream_round_trips_through_a_small_buffer(void **state)
{
    stream_round_trips(HP__CODING_GZIP, 10000, 512);
    stream_round_trips(HP__CODING_BR, 10000, 512);
    stream_round_trips(HP__CODING_GZIP, 64 * 1024, 16 * 1024);
    stream_round_trips(HP__CODING_BR, 64 * 1024, 16 * 1024);
}

/* A file's chunks: PROCESS between them, FINISH with the last; output may lag the input. */
static void processed_chunks_round_trip(hp__coding coding)
{
    hp__encoder *enc = hp__encoder_create(coding, 5);
    char buf[4096];
    decoder d;
    decoder_init(&d, coding);
    for (size_t sent = 0; sent < INPUT_LEN; sent += 65536) {
        size_t len = INPUT_LEN - sent < 65536 ? INPUT_LEN - sent : 65536;
        bool last = sent + len == INPUT_LEN;
        const char *in = input + sent;
        size_t left = len;
        int rc;
        do {
            size_t out_len;
            rc = hp__encoder_run(enc, &in, &left, last ? HP__ENCODE_FINISH : HP__ENCODE_PROCESS,
                                 buf, sizeof buf, &out_len);
            assert_true(rc >= 0);
            decoder_feed(&d, buf, out_len);
        } while (rc == 0);
    }
    assert_int_equal(d.len, INPUT_LEN);
    assert_memory_equal(d.out, input, INPUT_LEN);
    decoder_close(&d);
    hp__encoder_destroy(enc);
}

static void file_chunks_round_trip(void **state)
{
    processed_chunks_round_trip(HP__CODING_GZIP);
    processed_chunks_round_trip(HP__CODING_BR);
}

static void destroying_null_is_a_no_op(void **state)
{
    hp__encoder_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_whole_body_round_trips_in_gzip_and_br),
        cmocka_unit_test(a_flushed_stream_round_trips_through_a_small_buffer),
        cmocka_unit_test(file_chunks_round_trip),
        cmocka_unit_test(destroying_null_is_a_no_op),
    };
    return cmocka_run_group_tests(tests, make_input, free_input);
}
