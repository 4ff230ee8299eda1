/* "Did you mean" (src/config/config_suggest.c): the edit distance with swaps of neighbours,
 * and which known key an unknown one is close enough to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config_suggest.h"

#include <string.h>

static void each_kind_of_slip_is_one_edit(void **state)
{
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"limits", "limits", 0},
        {"limts", "limits", 1},
        {"limitss", "limits", 1},
        {"lmiits", "limits", 1},
        {"Limits", "limits", 1},
        {"limitz", "limits", 1},
        {"", "", 0},
        {"", "abc", 3},
        {"abc", "", 3},
        {"ab", "ba", 1},
        {"abcd", "badc", 2},
        {"kitten", "sitting", 3},
        {"ca", "abc", 3}, /* a swapped pair is not edited again: optimal string alignment */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(hp__config_edit_distance(cases[i].a, cases[i].b, 10), cases[i].d);
        assert_int_equal(hp__config_edit_distance(cases[i].b, cases[i].a, 10), cases[i].d);
    }
}

static void a_distance_beyond_the_cap_is_cap_plus_one(void **state)
{
    assert_int_equal(hp__config_edit_distance("kitten", "sitting", 2), 3);
    assert_int_equal(hp__config_edit_distance("a", "abcdef", 1), 2);
    char longer[100];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(hp__config_edit_distance(longer, longer, 1), 2); /* not compared */
}

static void keys_are_suggested_within_one_edit_or_two_when_long(void **state)
{
    static const char *const known[] = {"name",        "listen", "limits", "max_header_bytes",
                                        "max_headers", NULL};
    assert_string_equal(hp__config_suggest("nmae", known), "name");
    assert_string_equal(hp__config_suggest("limit", known), "limits");
    assert_null(hp__config_suggest("lmit", known)); /* two edits from a short key */
    assert_null(hp__config_suggest("colour", known));
    assert_null(hp__config_suggest("", known));
    assert_string_equal(hp__config_suggest("max_headr_byts", known), "max_header_bytes");
    assert_string_equal(hp__config_suggest("max_header", known), "max_headers"); /* closest */
    assert_string_equal(hp__config_suggest("maxheaders", known), "max_headers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_of_slip_is_one_edit),
        cmocka_unit_test(a_distance_beyond_the_cap_is_cap_plus_one),
        cmocka_unit_test(keys_are_suggested_within_one_edit_or_two_when_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
