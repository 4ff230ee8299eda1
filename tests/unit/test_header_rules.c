/* Response header rules (src/http/header_rules.c): the check refuses what a rule could not do,
 * a server's rules and a route's compose into one prebuilt set (the route's set or remove of a
 * name drops the server's line of that name), and the filter cuts exactly the dropped fields
 * from a handler's, in any case. */
#include "http/header_rules.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int check(const hp_header_rules *r)
{
    char why[160];
    return hp__header_rules_check(r, why, sizeof why);
}

static void the_check_refuses_what_a_rule_cannot_do(void **state)
{
    const char *bad_name[] = {"X Y", "1"}, *bad_value[] = {"X-A", "a\nb"};
    const char *date[] = {"Date", "x"}, *twice[] = {"X-A", "1", "x-a", "2"};
    const char *a[] = {"X-A", "1"}, *remove_a[] = {"x-A"}, *framing[] = {"Transfer-Encoding"};
    assert_int_not_equal(check(&(hp_header_rules){.set = bad_name, .set_count = 1}), 0);
    assert_int_not_equal(check(&(hp_header_rules){.add = bad_value, .add_count = 1}), 0);
    assert_int_not_equal(check(&(hp_header_rules){.add = date, .add_count = 1}), 0);
    assert_int_not_equal(check(&(hp_header_rules){.remove = framing, .remove_count = 1}), 0);
    assert_int_not_equal(check(&(hp_header_rules){.set = twice, .set_count = 2}), 0);
    assert_int_not_equal(
        check(&(hp_header_rules){.set = a, .set_count = 1, .remove = remove_a, .remove_count = 1}),
        0);
    assert_int_equal(check(&(hp_header_rules){.set = a, .set_count = 1, .add = a, .add_count = 1}),
                     0);
    assert_int_equal(check(NULL), 0);
}

static void a_route_s_rules_compose_after_the_server_s(void **state)
{
    const char *server_set[] = {"X-A", "1"}, *server_add[] = {"X-B", "s", "X-D", "d"};
    const char *route_set[] = {"X-C", "r"}, *route_remove[] = {"x-b"};
    hp_header_rules server = {.set = server_set, .set_count = 1, .add = server_add, .add_count = 2};
    hp_header_rules route = {
        .set = route_set, .set_count = 1, .remove = route_remove, .remove_count = 1};
    hp__header_rules *rules = hp__header_rules_create(&server, &route);
    assert_non_null(rules);
    assert_int_equal(rules->lines_len, strlen("X-A: 1\r\nX-D: d\r\nX-C: r\r\n"));
    assert_memory_equal(rules->lines, "X-A: 1\r\nX-D: d\r\nX-C: r\r\n", rules->lines_len);
    assert_int_equal(rules->drop_count, 3); /* X-A, X-C, x-b */
    hp__header_rules_destroy(rules);
    assert_null(hp__header_rules_create(NULL, &(hp_header_rules){0}));
}

static void the_filter_cuts_the_dropped_fields_in_any_case(void **state)
{
    const char *set[] = {"X-A", "1"}, *remove[] = {"X-B"};
    hp__header_rules *rules = hp__header_rules_create(
        NULL, &(hp_header_rules){.set = set, .set_count = 1, .remove = remove, .remove_count = 1});
    char fields[] = "Content-Type: t\r\nx-b: h\r\nX-A: old\r\nKeep: 1\r\nX-B: again\r\nX-AB: 2\r\n";
    size_t len = hp__header_rules_filter(rules, fields, strlen(fields));
    assert_int_equal(len, strlen("Content-Type: t\r\nKeep: 1\r\nX-AB: 2\r\n"));
    assert_memory_equal(fields, "Content-Type: t\r\nKeep: 1\r\nX-AB: 2\r\n", len);
    hp__header_rules_destroy(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_check_refuses_what_a_rule_cannot_do),
        cmocka_unit_test(a_route_s_rules_compose_after_the_server_s),
        cmocka_unit_test(the_filter_cuts_the_dropped_fields_in_any_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
