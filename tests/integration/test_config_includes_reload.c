/* A reload of `hostpool run` reads every included file again and expands the environment
 * again: a file that appears under an include pattern after the start adds its servers at
 * SIGHUP, with ${VAR} and ${VAR:-default} in it taken from the daemon's environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hp_test_admin.h"

/* Fixed ports of this file (tests/support/hp_test.h: hp_test_free_port_in). */
#define PORT_MIN 27350
#define PORT_MAX 27399

static hp_test_server srv;

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static bool stderr_has(void *data)
{
    char *err = hp_test_server_stderr(&srv);
    bool found = strstr(err, data) != NULL;
    free(err);
    return found;
}

static void sighup_reads_a_new_included_file_with_its_variables(void **state)
{
    int port_main = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    int port_new = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char value[16], dir[4200], config[4200];
    snprintf(value, sizeof value, "%d", port_main);
    setenv("HP_TEST_MAIN_PORT", value, 1);
    snprintf(value, sizeof value, "%d", port_new);
    setenv("HP_TEST_NEW_PORT", value, 1);
    setenv("HP_TEST_NEW_BODY", "from-env", 1);
    snprintf(dir, sizeof dir, "%s/conf.d", hp_test_temp_dir());
    mkdir(dir, 0755);
    const char *main_text =
        "access_log: off\n"
        "include: [ \"conf.d/*.yaml\" ]\n"
        "servers:\n"
        "  - name: main\n"
        "    listen: 127.0.0.1:${HP_TEST_MAIN_PORT}\n"
        "    routes: [ { respond: { body: \"${HP_TEST_MAIN_BODY:-main}\" } } ]\n";
    assert_int_equal(
        hp_test_write_file(hp_test_temp_dir(), "main.yaml", main_text, strlen(main_text)), 0);
    snprintf(config, sizeof config, "%s/main.yaml", hp_test_temp_dir());
    hp_test_admin admin;
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
    hp_test_assert_answers(port_main, NULL, "main");
    hp_test_assert_refuses(port_new);

    const char *added = "servers:\n"
                        "  - name: added\n"
                        "    listen: 127.0.0.1:${HP_TEST_NEW_PORT}\n"
                        "    routes: [ { respond: { body: \"${HP_TEST_NEW_BODY}\" } } ]\n";
    assert_int_equal(hp_test_write_file(dir, "added.yaml", added, strlen(added)), 0);
    assert_int_equal(hp_test_server_signal(&srv, SIGHUP), 0);
    assert_true(hp_test_poll_until(stderr_has, "hostpool: reloaded:", HP_TEST_DEADLINE_MS));
    char *err = hp_test_server_stderr(&srv);
    assert_non_null(strstr(err, "added added"));
    free(err);
    hp_test_assert_answers(port_new, NULL, "from-env");
    hp_test_assert_answers(port_main, NULL, "main");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sighup_reads_a_new_included_file_with_its_variables, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
