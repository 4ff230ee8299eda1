/* The incremental UTF-8 validator (src/common/utf8.c): RFC 3629's well-formed text, split
 * anywhere; overlong forms, surrogates, values past U+10FFFF and stray bytes refused at the
 * first byte that cannot continue valid text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/utf8.h"

#include <string.h>

static bool valid(const char *s, size_t len)
{
    hp__utf8 v;
    hp__utf8_init(&v);
    return hp__utf8_feed(&v, s, len) && hp__utf8_complete(&v);
}

static void valid_text_of_every_length_passes(void **state)
{
    const char *text = "plain ASCII long enough for the 8-byte path, caf\xc3\xa9, "
                       "\xe2\x82\xac, \xf0\x9f\x98\x80, \xf4\x8f\xbf\xbf, \xed\x9f\xbf";
    assert_true(valid(text, strlen(text)));
    assert_true(valid("", 0));
}

static void text_split_at_every_byte_passes(void **state)
{
    const char *text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    size_t len = strlen(text);
    for (size_t cut = 0; cut <= len; cut++) {
        hp__utf8 v;
        hp__utf8_init(&v);
        assert_true(hp__utf8_feed(&v, text, cut));
        assert_true(hp__utf8_feed(&v, text + cut, len - cut));
        assert_true(hp__utf8_complete(&v));
    }
}

static void invalid_sequences_fail(void **state)
{
    assert_false(valid("\xc0\xaf", 2));                 /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf", 3));             /* overlong, 3 bytes */
    assert_false(valid("\xed\xa0\x80", 3));             /* a surrogate */
    assert_false(valid("\xf4\x90\x80\x80", 4));         /* past U+10FFFF */
    assert_false(valid("\xf5\x80\x80\x80", 4));         /* no such lead byte */
    assert_false(valid("\x80", 1));                     /* a stray continuation */
    assert_false(valid("abc\xc3(", 5));                 /* a sequence cut by ASCII */
    assert_false(valid("\xce\xba\xe1\xbd\xb9\xcf", 6)); /* a sequence never finished */
}

static void a_bad_byte_fails_in_its_own_fragment(void **state)
{
    hp__utf8 v;
    hp__utf8_init(&v);
    assert_true(hp__utf8_feed(&v, "\xf0\x9f", 2)); /* a valid start, cut */
    assert_false(hp__utf8_complete(&v));
    assert_false(hp__utf8_feed(&v, "A", 1)); /* cannot continue it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_text_of_every_length_passes),
        cmocka_unit_test(text_split_at_every_byte_passes),
        cmocka_unit_test(invalid_sequences_fail),
        cmocka_unit_test(a_bad_byte_fails_in_its_own_fragment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
