/* Named upstreams behind virtual hosts: two servers share one listener, chosen by Host, and
 * each proxies to its own upstream, so a request reaches the upstream of the server its Host
 * names (`hostpool run` with a config). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PORT_MIN 25400
#define PORT_MAX 25449

static void expect_body(int port, const char *host, const char *want)
{
    char request[256];
    snprintf(request, sizeof request, "GET /x HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             host);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    hp_test_response_free(&r);
}

static void a_request_reaches_the_upstream_of_the_server_its_host_names(void **state)
{
    int alpha = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    int beta = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    int shared = hp_test_free_port_in(PORT_MIN, PORT_MAX);
    char text[1500];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             "upstreams:\n"
             "  - { name: to-alpha, targets: [127.0.0.1:%d] }\n"
             "  - { name: to-beta, targets: [127.0.0.1:%d] }\n"
             "servers:\n"
             "  - { name: alpha, listen: 127.0.0.1:%d, routes: [ { respond: { body: alpha } } ] }\n"
             "  - { name: beta, listen: 127.0.0.1:%d, routes: [ { respond: { body: beta } } ] }\n"
             "  - name: a\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: a.test\n"
             "    routes: [ { proxy: { upstream: to-alpha } } ]\n"
             "  - name: b\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: [b.test, \"*.b.test\"]\n"
             "    routes: [ { proxy: { upstream: to-beta } } ]\n",
             alpha, beta, alpha, beta, shared, shared);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "hosts.yaml", text, strlen(text)), 0);
    char config[4200], admin[4200];
    snprintf(config, sizeof config, "%s/hosts.yaml", hp_test_temp_dir());
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    hp_test_server srv;
    assert_int_equal(hp_test_server_startl(&srv, "run", "--config", config, "--admin", admin, NULL),
                     0);
    assert_non_null(hp_test_server_stdout_until(&srv, "servers running", HP_TEST_DEADLINE_MS));
    for (int i = 0; i < 3; i++) {
        expect_body(shared, "a.test", "alpha");
        expect_body(shared, "b.test", "beta");
        expect_body(shared, "x.b.test:8080", "beta");
    }
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_request_reaches_the_upstream_of_the_server_its_host_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
