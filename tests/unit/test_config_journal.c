/* A server's `journal:` key (src/config/config_journal.c): read into the server's model with
 * drop_oldest by default, none without the key; each mistake reported at its file:line:column;
 * a journal whose memory (hp__journal_bytes for the config's workers) is over 256 MiB refused
 * with the figure. */
#include "config_fixture.h"
#include "hp_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define HEAD "servers:\n  - name: api\n    listen: 127.0.0.1:8081\n"

static void assert_errors(const char *text, const char *expected)
{
    char *got = config_fixture_load_errors("j.yaml", text);
    assert_string_equal(got, expected);
    free(got);
}

static hp_journal_config load_journal(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = config_fixture_load("j.yaml", text, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    hp_journal_config j = config->servers[0].journal;
    hp__config_destroy(config);
    hp__config_errors_close(&errs);
    return j;
}

static void a_journal_is_read_with_its_capacity_and_overflow(void **state)
{
    hp_journal_config j = load_journal(HEAD "    journal: { capacity: 10000, overflow: reject }\n");
    assert_int_equal(j.capacity, 10000);
    assert_int_equal(j.overflow, HP_JOURNAL_REJECT);
    j = load_journal(HEAD "    journal: { capacity: 3 }\n");
    assert_int_equal(j.capacity, 3);
    assert_int_equal(j.overflow, HP_JOURNAL_DROP_OLDEST);
}

static void a_server_without_the_key_has_no_journal(void **state)
{
    assert_int_equal(load_journal(HEAD).capacity, 0);
}

static void mistakes_are_reported_at_their_position(void **state)
{
    assert_errors(HEAD "    journal: { capacity: 10, overflow: drop_newest }\n",
                  "j.yaml:4:40: servers[0].journal.overflow: expected drop_oldest or reject, got "
                  "\"drop_newest\"\n");
    assert_errors(HEAD "    journal: { overflow: reject }\n",
                  "j.yaml:4:14: servers[0].journal: \"capacity\" is required\n");
    assert_errors(HEAD "    journal: { capacity: 0 }\n",
                  "j.yaml:4:26: servers[0].journal.capacity: 0 out of range (1-10000000)\n");
}

static void a_journal_over_the_memory_budget_is_refused_with_the_figure(void **state)
{
    /* 200,000 entries of 1,352 bytes: 258 MiB, over the 256 MiB budget; 190,000 fit. */
    assert_errors(HEAD "    journal: { capacity: 200000 }\n",
                  "j.yaml:4:26: servers[0].journal.capacity: a journal of 200000 entries takes "
                  "258 MiB, more than 256 MiB\n");
    assert_int_equal(load_journal(HEAD "    journal: { capacity: 190000 }\n").capacity, 190000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_journal_is_read_with_its_capacity_and_overflow),
        cmocka_unit_test(a_server_without_the_key_has_no_journal),
        cmocka_unit_test(mistakes_are_reported_at_their_position),
        cmocka_unit_test(a_journal_over_the_memory_budget_is_refused_with_the_figure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
