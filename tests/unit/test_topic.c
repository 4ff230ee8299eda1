/* Topic patterns (src/core/topic.c): `*` is one segment, a final `**` one or more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/topic.h"

static int count(const char *pattern, const char *const *topics, int n)
{
    int hits = 0;
    for (int i = 0; i < n; i++) hits += hp__topic_match(pattern, topics[i]);
    return hits;
}

static void star_matches_exactly_one_segment(void **state)
{
    static const char *const user[] = {"user.created", "user.deleted", "user.updated"};
    static const char *const other[] = {"order.created", "admin.created"};
    static const char *const email[] = {"user.a.email", "user.b.email", "user.c.email"};
    static const char *const event[] = {"a.b.event", "c.d.event", "e.f.event"};
    assert_int_equal(count("user.*", user, 3), 3);
    assert_int_equal(count("user.*", other, 2), 0);
    assert_int_equal(count("user.*.email", email, 3), 3);
    assert_int_equal(count("*.*.event", event, 3), 3);
    assert_false(hp__topic_match("user.*", "user.profile.updated"));
    assert_false(hp__topic_match("a.*", "a"));
    assert_true(hp__topic_match("*", "single"));
    assert_false(hp__topic_match("*", "two.segments"));
}

static void double_star_matches_the_rest_but_not_nothing(void **state)
{
    assert_true(hp__topic_match("user.**", "user.profile.updated"));
    assert_true(hp__topic_match("user.**", "user.created"));
    assert_false(hp__topic_match("user.**", "user"));
    assert_true(hp__topic_match("**", "server.started"));
    assert_true(hp__topic_match("**", "pool"));
}

static void literal_patterns_match_only_themselves(void **state)
{
    static const char *const versions[] = {"user.created.v1", "user.created.v2", "user.created"};
    assert_int_equal(count("user.created.v1", versions, 3), 1);
    assert_true(hp__topic_match("user.created.v1", "user.created.v1"));
}

static void malformed_patterns_are_invalid(void **state)
{
    assert_true(hp__topic_pattern_valid("server.*"));
    assert_true(hp__topic_pattern_valid("server.**"));
    assert_true(hp__topic_pattern_valid("**"));
    assert_false(hp__topic_pattern_valid(""));
    assert_false(hp__topic_pattern_valid("server..started"));
    assert_false(hp__topic_pattern_valid("server."));
    assert_false(hp__topic_pattern_valid("**.started"));
    assert_false(hp__topic_pattern_valid("ser*"));
    assert_false(hp__topic_pattern_valid("server.***"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(star_matches_exactly_one_segment),
        cmocka_unit_test(double_star_matches_the_rest_but_not_nothing),
        cmocka_unit_test(literal_patterns_match_only_themselves),
        cmocka_unit_test(malformed_patterns_are_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
