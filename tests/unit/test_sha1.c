/* SHA-1 (src/common/sha1.c) against the FIPS 180 examples, and base64 (src/common/base64.c)
 * against RFC 4648's test vectors, strict in what it decodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/base64.h"
#include "common/sha1.h"

#include <stdio.h>
#include <string.h>

static void hex_digest(const void *data, size_t len, size_t pieces, char out[41])
{
    hp__sha1 s;
    unsigned char d[HP__SHA1_DIGEST];
    hp__sha1_init(&s);
    const char *p = data;
    for (size_t i = 0; i < pieces; i++) hp__sha1_update(&s, p, len);
    hp__sha1_final(&s, d);
    for (int i = 0; i < HP__SHA1_DIGEST; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_matches_the_fips_180_examples(void **state)
{
    char hex[41];
    hex_digest("abc", 3, 1, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_digest(two_blocks, strlen(two_blocks), 1, hex);
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    hex_digest("", 0, 1, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

static void sha1_of_a_million_a_fed_in_pieces(void **state)
{
    char hex[41];
    hex_digest("aaaaaaaaaa", 10, 100000, hex);
    assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void base64_encodes_the_rfc_4648_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        hp__base64_encode(plain[i], strlen(plain[i]), out);
        assert_string_equal(out, coded[i]);
        unsigned char back[16];
        size_t n;
        assert_true(hp__base64_decode(coded[i], strlen(coded[i]), back, &n));
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(back, plain[i], n);
    }
}

static void base64_refuses_what_is_not_canonical(void **state)
{
    unsigned char out[16];
    size_t n;
    assert_false(hp__base64_decode("Zg=", 3, out, &n));      /* not a multiple of 4 */
    assert_false(hp__base64_decode("Zh==", 4, out, &n));     /* unused bits set */
    assert_false(hp__base64_decode("Z===", 4, out, &n));     /* too much padding */
    assert_false(hp__base64_decode("Zm 9", 4, out, &n));     /* not the alphabet */
    assert_false(hp__base64_decode("Zg==Zg==", 8, out, &n)); /* padding inside */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_matches_the_fips_180_examples),
        cmocka_unit_test(sha1_of_a_million_a_fed_in_pieces),
        cmocka_unit_test(base64_encodes_the_rfc_4648_vectors),
        cmocka_unit_test(base64_refuses_what_is_not_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
