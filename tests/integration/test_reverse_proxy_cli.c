/* `hostpool reverse-proxy`: it prints where it listens as the other commands do, forwards
 * to its targets in turn (the access log names the target that answered), and refuses bad options
 * with a usage error (exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void it_listens_and_forwards_to_its_targets_in_turn(void **state)
{
    hp_test_server one, two, proxy;
    assert_int_equal(hp_test_server_startl(&one, "respond", "--listen", HP_TEST_LISTEN, "--body",
                                           "one", "--no-access-log", NULL),
                     0);
    assert_int_equal(hp_test_server_startl(&two, "respond", "--listen", HP_TEST_LISTEN, "--body",
                                           "two", "--no-access-log", NULL),
                     0);
    char to[64];
    snprintf(to, sizeof to, "127.0.0.1:%d,127.0.0.1:%d", one.port, two.port);
    assert_int_equal(hp_test_server_startl(&proxy, "reverse-proxy", "--from", HP_TEST_LISTEN,
                                           "--to", to, "--workers", "1", NULL),
                     0);
    assert_true(
        hp_test_matches(proxy.out, "^hostpool: listening on http://127\\.0\\.0\\.1:[0-9]+/"));
    const char *expect[] = {"one", "two", "one"};
    for (int i = 0; i < 3; i++) {
        hp_test_response r;
        assert_int_equal(hp_test_exchange(proxy.port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, expect[i]);
        hp_test_response_free(&r);
    }
    assert_int_equal(hp_test_server_stop(&proxy, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    char *err = hp_test_server_stderr(&proxy);
    assert_non_null(strstr(err, "\"GET / HTTP/1.1\" 200"));
    char answered[64]; /* the access log's last field: the target that answered */
    snprintf(answered, sizeof answered, " 127.0.0.1:%d\n", two.port);
    assert_non_null(strstr(err, answered));
    free(err);
    hp_test_server_kill(&one);
    hp_test_server_kill(&two);
}

static hp_test_run_result run(const char *a, const char *b, const char *c, const char *d)
{
    const char *argv[] = {hp_test_bin(), "reverse-proxy", a, b, c, d, NULL};
    return hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
}

static void help_prints_its_usage(void **state)
{
    hp_test_run_result r = run("--help", NULL, NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "reverse-proxy --from ADDR --to ADDR[,ADDR...]"));
    hp_test_run_free(&r);
}

static void bad_options_are_usage_errors(void **state)
{
    const char *cases[][5] = {
        {"--from", "127.0.0.1:0", NULL, NULL, "--to ADDR[,ADDR...] is required"},
        {"--to", "127.0.0.1:1", NULL, NULL, "--from ADDR is required"},
        {"--from", "127.0.0.1:0", "--to", "127.0.0.1:1,", "addresses separated by commas"},
        {"--from", "127.0.0.1:0", "--to", "127.0.0.1:99999", "out of range"},
        {"--from", "127.0.0.1:0", "--to", "127.0.0.1:0", "needs a host and a port"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_test_run_result r = run(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
        assert_int_equal(r.status, 2);
        if (!strstr(r.err, cases[i][4])) fail_msg("case %zu: %s", i, r.err);
        hp_test_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(it_listens_and_forwards_to_its_targets_in_turn),
        cmocka_unit_test(help_prints_its_usage),
        cmocka_unit_test(bad_options_are_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
