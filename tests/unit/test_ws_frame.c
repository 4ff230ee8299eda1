/* WebSocket frames (src/ws/ws_frame.c), the handshake (src/ws/ws_handshake.c) and
 * permessage-deflate (src/ws/ws_deflate.c): the accept key of RFC 6455's example, the length
 * of a frame from its first bytes, server frames as RFC 6455 §5.2 lays them out, the
 * permessage-deflate offers accepted, and a message compressed and expanded again, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "ws/ws_deflate.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"

#include <stdlib.h>
#include <string.h>

static void the_accept_key_of_rfc_6455s_example(void **state)
{
    char accept[HP__WS_ACCEPT_LEN + 1];
    hp__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, accept);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 §1.3 */
}

static void peek_reads_each_length_form(void **state)
{
    uint64_t len;
    const unsigned char small[] = {0x81, 0x85};
    assert_false(hp__ws_frame_peek(small, 1, &len));
    assert_true(hp__ws_frame_peek(small, 2, &len));
    assert_int_equal(len, 2 + 4 + 5); /* masked */
    const unsigned char medium[] = {0x82, 0x7e, 0x01, 0x00};
    assert_false(hp__ws_frame_peek(medium, 3, &len));
    assert_true(hp__ws_frame_peek(medium, 4, &len));
    assert_int_equal(len, 4 + 256); /* unmasked */
    const unsigned char large[] = {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0};
    assert_false(hp__ws_frame_peek(large, 9, &len));
    assert_true(hp__ws_frame_peek(large, 10, &len));
    assert_int_equal(len, 10 + 4 + 65536);
}

static void server_frames_are_unmasked_with_the_shortest_length(void **state)
{
    hp__ws_frame *f = hp__ws_frame_create(HP__WS_TEXT, "hi", 2, false);
    const unsigned char want[] = {0x81, 0x02, 'h', 'i'};
    assert_int_equal(f->len, sizeof want);
    assert_memory_equal(f->bytes, want, sizeof want);
    assert_int_equal(f->head_len, 2);
    hp__ws_frame_unref(f);

    char *big = calloc(1, 300);
    f = hp__ws_frame_create(HP__WS_BINARY, big, 300, true);
    assert_int_equal(f->bytes[0], 0x80 | 0x40 | 0x02); /* FIN, RSV1, binary */
    assert_int_equal(f->bytes[1], 126);
    assert_int_equal(f->bytes[2] << 8 | f->bytes[3], 300);
    assert_int_equal(hp__ws_frame_payload_len(f), 300);
    hp__ws_frame_ref(f);
    hp__ws_frame_unref(f);
    hp__ws_frame_unref(f);
    free(big);

    f = hp__ws_frame_close(1001, "bye");
    const unsigned char close[] = {0x88, 0x05, 0x03, 0xe9, 'b', 'y', 'e'};
    assert_memory_equal(f->bytes, close, sizeof close);
    hp__ws_frame_unref(f);
}

static bool offered(const char *value)
{
    return hp__ws_deflate_offered((hp_str){value, strlen(value)});
}

static void deflate_offers_we_can_take(void **state)
{
    assert_true(offered("permessage-deflate"));
    assert_true(offered("permessage-deflate; client_max_window_bits"));
    assert_true(
        offered("permessage-deflate; client_max_window_bits=10; server_no_context_takeover"));
    assert_true(offered("x-other, permessage-deflate; client_no_context_takeover"));
    assert_false(offered("permessage-deflate; server_max_window_bits=10"));
    assert_false(offered("permessage-deflate; unknown_param"));
    assert_false(offered("permessage-deflate; server_no_context_takeover; "
                         "server_no_context_takeover"));
    assert_false(offered("x-webkit-deflate-frame"));
}

/* An expanded message stays whole while the worker compresses another (an on_message that
 * sends on a compressing connection). */
static void compressing_leaves_the_message_just_expanded_alone(void **state)
{
    hp__ws_deflate *d = hp__ws_deflate_create();
    char text[4000], other[70000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "abcdefgh"[i % 8];
    for (size_t i = 0; i < sizeof other; i++) other[i] = (char)(i * 7919 % 251);
    const unsigned char *out, *expanded;
    size_t out_len, expanded_len;
    hp__ws_deflate_compress(d, text, sizeof text, &out, &out_len);
    unsigned char *copy = malloc(out_len);
    memcpy(copy, out, out_len);
    assert_int_equal(hp__ws_deflate_expand(d, copy, out_len, sizeof text, &expanded, &expanded_len),
                     0);
    hp__ws_deflate_compress(d, other, sizeof other, &out, &out_len); /* grows its buffer */
    assert_int_equal(expanded_len, sizeof text);
    assert_memory_equal(expanded, text, sizeof text);
    free(copy);
    hp__ws_deflate_destroy(d);
}

static void a_message_compressed_expands_back_within_its_bound(void **state)
{
    hp__ws_deflate *d = hp__ws_deflate_create();
    char text[4000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "abcdefgh"[i % 8];
    const unsigned char *out;
    size_t out_len;
    hp__ws_deflate_compress(d, text, sizeof text, &out, &out_len);
    assert_true(out_len < sizeof text / 10);
    size_t n = out_len;
    unsigned char *copy = malloc(n);
    memcpy(copy, out, n);
    assert_int_equal(hp__ws_deflate_expand(d, copy, n, sizeof text, &out, &out_len), 0);
    assert_int_equal(out_len, sizeof text);
    assert_memory_equal(out, text, sizeof text);
    hp__ws_deflate_compress(d, text, sizeof text, &out, &out_len);
    assert_int_equal(out_len, n); /* the same bytes again: no context kept between messages */
    assert_memory_equal(out, copy, n);
    assert_int_equal(hp__ws_deflate_expand(d, copy, n, sizeof text - 1, &out, &out_len), HP_ELIMIT);
    assert_int_equal(hp__ws_deflate_expand(d, "\xff\xff\xff", 3, 100, &out, &out_len), HP_EINVAL);
    free(copy);
    hp__ws_deflate_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_accept_key_of_rfc_6455s_example),
        cmocka_unit_test(peek_reads_each_length_form),
        cmocka_unit_test(server_frames_are_unmasked_with_the_shortest_length),
        cmocka_unit_test(deflate_offers_we_can_take),
        cmocka_unit_test(a_message_compressed_expands_back_within_its_bound),
        cmocka_unit_test(compressing_leaves_the_message_just_expanded_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
