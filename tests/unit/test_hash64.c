/* The stable hash of src/core/hash64.c: FNV-1a against its published vectors, and the whole
 * hash pinned, since changing it would move every consistently hashed key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/hash64.h"

#include <string.h>

static uint64_t fnv(const char *s)
{
    return hp__fnv1a64(s, strlen(s));
}

static uint64_t hash(const char *s)
{
    return hp__hash64(s, strlen(s));
}

static void fnv1a64_matches_the_published_vectors(void **state)
{
    assert_true(fnv("") == UINT64_C(0xcbf29ce484222325));
    assert_true(fnv("a") == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(fnv("foobar") == UINT64_C(0x85944171f73967e8));
}

static void mix_is_murmur3_fmix64(void **state)
{
    assert_true(hp__hash64_mix(0) == 0);
    assert_true(hp__hash64_mix(1) == UINT64_C(0xb456bcfc34c2cb2c));
}

static void hash64_values_are_pinned(void **state)
{
    assert_true(hash("") == UINT64_C(0xefd01f60ba992926));
    assert_true(hash("127.0.0.1:9001") == UINT64_C(0x33ac4f5af5b06ee4));
    assert_true(hash("10.0.0.1") == UINT64_C(0xc879e56ddc6c5c88));
}

static void keys_differing_in_the_last_byte_differ_in_many_bits(void **state)
{
    /* FNV-1a alone leaves them 10 bits apart, most of them low: neighbours on a ring. */
    assert_true(__builtin_popcountll(fnv("10.0.0.1") ^ fnv("10.0.0.2")) < 16);
    assert_true(__builtin_popcountll(hash("10.0.0.1") ^ hash("10.0.0.2")) >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fnv1a64_matches_the_published_vectors),
        cmocka_unit_test(mix_is_murmur3_fmix64),
        cmocka_unit_test(hash64_values_are_pinned),
        cmocka_unit_test(keys_differing_in_the_last_byte_differ_in_many_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
