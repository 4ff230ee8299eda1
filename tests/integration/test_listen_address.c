/* One address syntax for the command line and the config: a port alone means every address (as
 * nginx reads `listen 8080`) in both, and what a server prints is what it bound: a wildcard
 * says so beside the URL that reaches it from this machine, a unix socket prints its path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

static hp_test_server srv;

static int teardown(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static void expect_hello(int port)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    hp_test_response_free(&resp);
}

static void respond_on_a_port_alone_listens_on_every_address_and_says_so(void **state)
{
    assert_int_equal(hp_test_server_startl(&srv, "respond", "--listen", "0", "--body", "hi",
                                           "--no-access-log", NULL),
                     0);
    char line[128];
    snprintf(line, sizeof line,
             "hostpool: listening on http://127.0.0.1:%d/ (every IPv4 address)\n", srv.port);
    assert_non_null(strstr(srv.out, line));
    expect_hello(srv.port);
}

static void respond_on_a_unix_socket_prints_its_path(void **state)
{
    char listen[4200], line[4300];
    snprintf(listen, sizeof listen, "unix:%s/respond.sock", hp_test_temp_dir());
    const char *argv[] = {"respond", "--listen", listen, "--body", "hi", NULL};
    assert_int_equal(hp_test_server_spawn(&srv, argv), 0);
    snprintf(line, sizeof line, "hostpool: listening on %s\n", listen);
    assert_non_null(hp_test_server_stdout_until(&srv, line, HP_TEST_DEADLINE_MS));
    hp_test_response resp;
    assert_int_equal(hp_test_exchange_unix(listen + 5, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_string_equal(resp.body, "hi");
    hp_test_response_free(&resp);
}

static const char *write_config(const char *listen)
{
    static char path[4200];
    char yaml[9000];
    snprintf(yaml, sizeof yaml,
             "admin: { listen: \"unix:%s/admin.sock\" }\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: %s\n"
             "    routes: [ { respond: { body: web } } ]\n",
             hp_test_temp_dir(), listen);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", yaml, strlen(yaml)), 0);
    snprintf(path, sizeof path, "%s/pool.yaml", hp_test_temp_dir());
    return path;
}

static void a_config_takes_a_port_alone_as_every_address(void **state)
{
    const char *argv[] = {hp_test_bin(), "validate", "--config",
                          write_config("[8080, \"*:8081\", \":8082\", \"unix:web.sock\"]"), NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, HP_TEST_DEADLINE_MS);
    assert_int_equal(r.status, 0);
    hp_test_run_free(&r);
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", write_config("0"), NULL), 0);
    char line[128];
    snprintf(line, sizeof line,
             "hostpool: listening on http://127.0.0.1:%d/ (web, every IPv4 address)\n", srv.port);
    assert_non_null(strstr(srv.out, line));
    expect_hello(srv.port);
}

int main(void)
{
    srv.stdout_fd = -1; /* not started yet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(respond_on_a_port_alone_listens_on_every_address_and_says_so,
                                  teardown),
        cmocka_unit_test_teardown(respond_on_a_unix_socket_prints_its_path, teardown),
        cmocka_unit_test_teardown(a_config_takes_a_port_alone_as_every_address, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
