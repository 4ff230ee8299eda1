/* Topic patterns (src/core/topic.c): `*` is exactly one segment, a final `**` one or more.
 *
 * The first test is noex's EventBus wildcard table, adapted to these semantics: where noex
 * lets a trailing `*` match several segments (`user.*` vs `user.profile.updated`), ours does
 * not, and `**` is the way to say "one or more". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/topic.h"

#include <string.h>

typedef struct row {
    const char *pattern;
    const char *topics[3];
    int matches;
} row;

static void the_noex_wildcard_table_under_our_semantics(void **state)
{
    static const row table[] = {
        {"*", {"alpha", "beta", "gamma"}, 3},
        {"*", {"user.created", "a.b.c", "x.y"}, 0}, /* one segment only */
        {"**", {"user.created", "a.b.c", "x"}, 3},
        {"user.*", {"user.created", "user.deleted", "user.updated"}, 3},
        {"user.*", {"order.created", "admin.created", NULL}, 0},
        {"user.*.email", {"user.a.email", "user.b.email", "user.c.email"}, 3},
        {"user.*", {"user.profile.updated", NULL, NULL}, 0},
        {"user.**", {"user.profile.updated", NULL, NULL}, 1},
        {"*.*.event", {"a.b.event", "c.d.event", "e.f.event"}, 3},
        {"user.created.v1", {"user.created.v1", "user.created.v2", "user.created"}, 1},
    };
    for (size_t r = 0; r < sizeof table / sizeof table[0]; r++) {
        int hits = 0;
        for (int i = 0; i < 3 && table[r].topics[i]; i++)
            hits += hp__topic_match(table[r].pattern, table[r].topics[i]);
        if (hits != table[r].matches)
            fail_msg("%s: %d matches, expected %d", table[r].pattern, hits, table[r].matches);
    }
}

static void star_does_not_match_a_missing_segment(void **state)
{
    assert_false(hp__topic_match("a.*", "a"));
    assert_false(hp__topic_match("a.*", "a.b.c"));
    assert_true(hp__topic_match("a.*", "a.b"));
    assert_false(hp__topic_match("*.b", "b"));
}

static void double_star_needs_at_least_one_segment(void **state)
{
    assert_false(hp__topic_match("a.**", "a"));
    assert_true(hp__topic_match("a.**", "a.b"));
    assert_true(hp__topic_match("a.**", "a.b.c.d"));
    assert_false(hp__topic_match("a.**", "ab.c"));
    assert_true(hp__topic_match("**", "pool"));
    assert_true(hp__topic_match("*.**", "a.b"));
    assert_false(hp__topic_match("*.**", "a"));
}

static void the_server_examples_of_the_header(void **state)
{
    assert_true(hp__topic_match("server.*", "server.started"));
    assert_false(hp__topic_match("server.*", "server.health.changed"));
    assert_false(hp__topic_match("server.*", "server"));
    assert_true(hp__topic_match("server.**", "server.started"));
    assert_true(hp__topic_match("server.**", "server.health.changed"));
    assert_false(hp__topic_match("server.**", "server"));
}

static void literal_segments_are_compared_whole_and_case_sensitively(void **state)
{
    assert_false(hp__topic_match("server.start", "server.started"));
    assert_false(hp__topic_match("server.started", "server.start"));
    assert_false(hp__topic_match("Server.started", "server.started"));
    assert_false(hp__topic_match("server", "server.started"));
}

static void malformed_patterns_are_invalid(void **state)
{
    assert_true(hp__topic_pattern_valid("server.started"));
    assert_true(hp__topic_pattern_valid("server.*"));
    assert_true(hp__topic_pattern_valid("*.started"));
    assert_true(hp__topic_pattern_valid("server.**"));
    assert_true(hp__topic_pattern_valid("*"));
    assert_true(hp__topic_pattern_valid("**"));
    assert_false(hp__topic_pattern_valid(NULL));
    assert_false(hp__topic_pattern_valid(""));
    assert_false(hp__topic_pattern_valid("."));
    assert_false(hp__topic_pattern_valid("server..started"));
    assert_false(hp__topic_pattern_valid("server."));
    assert_false(hp__topic_pattern_valid(".server"));
    assert_false(hp__topic_pattern_valid("**.started"));
    assert_false(hp__topic_pattern_valid("a.**.b"));
    assert_false(hp__topic_pattern_valid("ser*"));
    assert_false(hp__topic_pattern_valid("*ver"));
    assert_false(hp__topic_pattern_valid("x*"));
    assert_false(hp__topic_pattern_valid("server.***"));
}

static void invalid_topics_match_nothing(void **state)
{
    assert_false(hp__topic_valid(NULL));
    assert_false(hp__topic_valid(""));
    assert_false(hp__topic_valid("a..b"));
    assert_false(hp__topic_valid("a."));
    assert_false(hp__topic_valid("a.*"));
    assert_true(hp__topic_valid("a.b"));
    assert_false(hp__topic_match("**", "a..b"));
    assert_false(hp__topic_match("a.**", "a."));
    assert_false(hp__topic_match("*", ""));
    assert_false(hp__topic_match("ser*", "ser*")); /* an invalid pattern matches nothing */
}

static void topics_and_patterns_longer_than_the_bound_are_invalid(void **state)
{
    char text[HP__TOPIC_MAX + 2];
    memset(text, 'a', sizeof text - 1);
    text[HP__TOPIC_MAX] = '\0'; /* 255 bytes: the longest */
    assert_true(hp__topic_valid(text));
    assert_true(hp__topic_pattern_valid(text));
    text[HP__TOPIC_MAX] = 'a';
    text[HP__TOPIC_MAX + 1] = '\0'; /* 256 */
    assert_false(hp__topic_valid(text));
    assert_false(hp__topic_pattern_valid(text));
}

static void patterns_overlap_when_one_topic_matches_both(void **state)
{
    assert_true(hp__topic_patterns_overlap("chat.*", "*.room"));
    assert_true(hp__topic_patterns_overlap("chat.*", "chat.**"));
    assert_true(hp__topic_patterns_overlap("chat.**", "*.a.b"));
    assert_true(hp__topic_patterns_overlap("**", "x"));
    assert_true(hp__topic_patterns_overlap("chat.room", "chat.room"));
    assert_false(hp__topic_patterns_overlap("a.*", "a.*.b"));
    assert_false(hp__topic_patterns_overlap("chat.*", "news.*"));
    assert_false(hp__topic_patterns_overlap("chat.**", "chat"));
    assert_false(hp__topic_patterns_overlap("chat.a", "chat.b"));
    assert_false(hp__topic_patterns_overlap("ser*", "ser*"));
}

static void a_pattern_is_covered_by_one_wider_allowed_pattern(void **state)
{
    const char *chat[] = {"chat.**", "presence"};
    assert_true(hp__topic_pattern_covered("chat.*", chat, 2));
    assert_true(hp__topic_pattern_covered("chat.room", chat, 2));
    assert_true(hp__topic_pattern_covered("chat.**", chat, 2));
    assert_true(hp__topic_pattern_covered("chat.*.x.**", chat, 2));
    assert_true(hp__topic_pattern_covered("presence", chat, 2));
    assert_false(hp__topic_pattern_covered("presence.*", chat, 2));
    assert_false(hp__topic_pattern_covered("*", chat, 2));
    assert_false(hp__topic_pattern_covered("**", chat, 2));
    assert_false(hp__topic_pattern_covered("chat", chat, 2));
    assert_false(hp__topic_pattern_covered("*.room", chat, 2));
    const char *all[] = {"**"};
    assert_true(hp__topic_pattern_covered("**", all, 1));
    assert_true(hp__topic_pattern_covered("a.*.c", all, 1));
}

static void a_wildcard_is_not_covered_by_literals(void **state)
{
    const char *ab[] = {"a", "b"};
    assert_false(hp__topic_pattern_covered("*", ab, 2));
    const char *star[] = {"chat.*"};
    assert_false(hp__topic_pattern_covered("chat.**", star, 1)); /* chat.a.b is not allowed */
    assert_true(hp__topic_pattern_covered("chat.*", star, 1));
    assert_false(hp__topic_pattern_covered("ser*", star, 1));
    const char *invalid[] = {"chat.**.x"};
    assert_false(hp__topic_pattern_covered("chat.a", invalid, 1));
    assert_false(hp__topic_pattern_covered("chat.a", NULL, 0));
}

static void a_pattern_is_covered_by_several_allowed_patterns_together(void **state)
{
    const char *lengths[] = {"chat.*", "chat.*.**"};
    assert_true(hp__topic_pattern_covered("chat.**", lengths, 2));
    const char *gap[] = {"chat.*", "chat.*.*.**"}; /* chat.a.b is in neither */
    assert_false(hp__topic_pattern_covered("chat.**", gap, 2));
    const char *three[] = {"x.*", "x.*.*", "x.*.*.*", "x.*.*.*.**"};
    assert_true(hp__topic_pattern_covered("x.**", three, 4));
    assert_false(hp__topic_pattern_covered("x.**", three, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_noex_wildcard_table_under_our_semantics),
        cmocka_unit_test(star_does_not_match_a_missing_segment),
        cmocka_unit_test(double_star_needs_at_least_one_segment),
        cmocka_unit_test(the_server_examples_of_the_header),
        cmocka_unit_test(literal_segments_are_compared_whole_and_case_sensitively),
        cmocka_unit_test(malformed_patterns_are_invalid),
        cmocka_unit_test(invalid_topics_match_nothing),
        cmocka_unit_test(topics_and_patterns_longer_than_the_bound_are_invalid),
        cmocka_unit_test(patterns_overlap_when_one_topic_matches_both),
        cmocka_unit_test(a_pattern_is_covered_by_one_wider_allowed_pattern),
        cmocka_unit_test(a_wildcard_is_not_covered_by_literals),
        cmocka_unit_test(a_pattern_is_covered_by_several_allowed_patterns_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
