/* A WebSocket upgrade through a process server reaches its program: the request is proxied with
 * its Upgrade, the program's 101 comes back, and then bytes go both ways through the proxy's
 * tunnel. The program is tests/programs/upgrade_echo.c (101, then an echo). */
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

#define RANGE "25750-25799"

static hp_test_server srv;
static hp_test_admin admin;

static int start_pool(void **state)
{
    const char *echo = getenv("HP_UPGRADE_ECHO");
    assert_non_null(echo);
    char text[2048];
    snprintf(text, sizeof text,
             "workers: 1\n"
             "ports: { range: " RANGE " }\n"
             "access_log: off\n"
             "servers:\n"
             "  - name: ws\n"
             "    listen: auto\n"
             "    process: { command: [\"%s\", \"{port}\"] }\n",
             echo);
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

static bool has_text(const hp_test_conn *c, const char *text)
{
    return c->len >= strlen(text) && memmem(c->buf, c->len, text, strlen(text)) != NULL;
}

static bool wait_for_text(hp_test_conn *c, const char *text)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!has_text(c, text)) {
        if (c->eof || hp_test_now_ms() >= deadline) return false;
        hp_test_read_some(c, 20);
    }
    return true;
}

static void a_websocket_upgrade_reaches_the_program_and_bytes_flow_both_ways(void **state)
{
    hp_test_assert_answers(srv.port, NULL, "ok"); /* a plain request: proxied, once it is up */
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&c,
                                      "GET /socket HTTP/1.1\r\nHost: ws.test\r\n"
                                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Sec-WebSocket-Version: 13\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(wait_for_text(&c, "\r\n\r\n"));
    assert_memory_equal(c.buf, "HTTP/1.1 101 ", 13);
    assert_true(has_text(&c, "Upgrade: websocket\r\n"));
    c.len = 0;
    assert_int_equal(hp_test_send_str(&c, "bytes through the tunnel", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_true(wait_for_text(&c, "bytes through the tunnel"));
    hp_test_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_websocket_upgrade_reaches_the_program_and_bytes_flow_both_ways, start_pool,
            stop_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
