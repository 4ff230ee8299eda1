/* A connection whose session gives the transport no room to read into is closed, not read
 * again and again: libuv reports UV_ENOBUFS and keeps the socket polled, so a transport that
 * ignored it spun its worker at 100 % CPU. The way to get there is a read buffer that wraps to
 * zero bytes: max_header_bytes + 4 KiB = 4 GiB in a 32-bit size, which `respond` still takes
 * (the config checker bounds max_header_bytes to 1 MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "hp_test.h"

#define WRAPPING_MAX_HEADER_BYTES "4294963200" /* + 4096 = 2^32 */

static hp_test_server srv;

static int teardown(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static void a_connection_with_no_room_to_read_is_closed_and_costs_no_cpu(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--workers", "1", "--no-access-log",
                                                  "--max-header-bytes", WRAPPING_MAX_HEADER_BYTES,
                                                  NULL),
                     0);
    long before = hp_test_cpu_ms(srv.pid);
    assert_true(before >= 0);
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
    long used = hp_test_cpu_ms(srv.pid) - before;
    if (used > 300) fprintf(stderr, "the server used %ld ms of CPU\n", used);
    assert_true(used <= 300);
    assert_true(hp_test_server_running(&srv));
}

int main(void)
{
    srv.stdout_fd = -1; /* not started yet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_connection_with_no_room_to_read_is_closed_and_costs_no_cpu,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
