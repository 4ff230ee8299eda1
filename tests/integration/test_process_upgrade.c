/* A WebSocket upgrade through a process server, and through a switchboard whose template is a
 * process, reaches its program: the request is proxied with its Upgrade, the program's 101
 * comes back, and then bytes go both ways through the proxy's tunnel. The program is
 * tests/programs/upgrade_echo.c (101, then an echo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

#define RANGE "25750-25789"

static hp_test_server srv;
static hp_test_admin admin;
static int switchboard_port;

static int start_pool(void **state)
{
    const char *echo = getenv("HP_UPGRADE_ECHO");
    assert_non_null(echo);
    switchboard_port = hp_test_free_port_in(25790, 25799);
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: " RANGE " }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: ws\n"
             "    listen: auto\n"
             "    process: { command: [\"%s\", \"{port}\"] }\n"
             "switchboards:\n"
             "  - name: apps\n"
             "    listen: 127.0.0.1:%d\n"
             "    hosts: \"{name}.localhost\"\n"
             "    template: { process: { command: [\"%s\", \"{port}\"] } }\n",
             echo, switchboard_port, echo);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, strlen(text)), 0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&srv, config, &admin), 0);
    return 0;
}

static int stop_pool(void **state)
{
    hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS);
    return 0;
}

/* Upgrades on `port` with Host `host`: the 101, then bytes echoed through the tunnel. */
static void assert_upgrade_reaches_the_program(int port, const char *host)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, port, HP_TEST_DEADLINE_MS), 0);
    char req[512];
    snprintf(req, sizeof req,
             "GET /socket HTTP/1.1\r\nHost: %s\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             host);
    assert_int_equal(hp_test_send_str(&c, req, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&c, "\r\n\r\n", HP_TEST_DEADLINE_MS));
    assert_memory_equal(c.buf, "HTTP/1.1 101 ", 13);
    assert_true(hp_test_received(&c, "Upgrade: websocket\r\n"));
    c.len = 0;
    assert_int_equal(hp_test_send_str(&c, "bytes through the tunnel", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(hp_test_wait_for_text(&c, "bytes through the tunnel", HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
}

static void a_websocket_upgrade_reaches_a_process_servers_program(void **state)
{
    hp_test_assert_answers(srv.port, NULL, "ok"); /* a plain request: proxied, once it is up */
    assert_upgrade_reaches_the_program(srv.port, "ws.test");
}

static void a_websocket_upgrade_through_a_switchboard_reaches_the_program_made_for_it(void **state)
{
    /* The first request for the name is the upgrade itself: made, booted, then tunnelled. */
    assert_upgrade_reaches_the_program(switchboard_port, "chat.localhost");
    hp_test_answer a = hp_test_admin_call(&admin, "GET", "/servers/chat", NULL, NULL);
    assert_int_equal(a.status, 200);
    assert_true(json_is_true(json_object_get(a.json, "on_demand")));
    hp_test_answer_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_websocket_upgrade_reaches_a_process_servers_program,
                                        start_pool, stop_pool),
        cmocka_unit_test_setup_teardown(
            a_websocket_upgrade_through_a_switchboard_reaches_the_program_made_for_it, start_pool,
            stop_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
