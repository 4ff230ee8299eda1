/* Many connections at once, and --max-connections: beyond the limit the server stops
 * accepting (the kernel still completes the handshake, so the client connects but gets no
 * answer) and resumes as soon as a connection closes. */
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

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static void send_get(hp_test_conn *conn)
{
    assert_int_equal(hp_test_send_str(conn, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

static void expect_ok(hp_test_conn *conn, int timeout_ms)
{
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(conn, &resp, false, timeout_ms), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, HP_TEST_BODY);
    hp_test_response_free(&resp);
}

static void five_hundred_concurrent_keep_alive_connections_are_all_answered(void **state)
{
    enum { COUNT = 500 };
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", NULL), 0);
    hp_test_conn *conns = calloc(COUNT, sizeof *conns);
    for (int i = 0; i < COUNT; i++)
        assert_int_equal(hp_test_connect(&conns[i], srv.port, HP_TEST_DEADLINE_MS), 0);
    /* Two rounds: every connection has a request outstanding at the same time, and every
     * connection is still open (kept alive) for the second round. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < COUNT; i++) send_get(&conns[i]);
        for (int i = 0; i < COUNT; i++) expect_ok(&conns[i], HP_TEST_DEADLINE_MS);
    }
    for (int i = 0; i < COUNT; i++) hp_test_close(&conns[i]);
    free(conns);
}

static void connection_beyond_max_connections_waits_until_one_closes(void **state)
{
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", "--workers", "1",
                                                  "--max-connections", "5", NULL),
                     0);
    hp_test_conn conns[6];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hp_test_connect(&conns[i], srv.port, HP_TEST_DEADLINE_MS), 0);
        send_get(&conns[i]);
        expect_ok(&conns[i], HP_TEST_DEADLINE_MS);
    }
    assert_int_equal(hp_test_connect(&conns[5], srv.port, HP_TEST_DEADLINE_MS), 0);
    send_get(&conns[5]);
    /* Not answered while five connections are open (a bounded wait for nothing to happen). */
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conns[5], &resp, false, 500), HP_TEST_TIMEOUT);
    /* The first five still work. */
    send_get(&conns[1]);
    expect_ok(&conns[1], HP_TEST_DEADLINE_MS);
    hp_test_close(&conns[0]);
    expect_ok(&conns[5], HP_TEST_DEADLINE_MS);
    for (int i = 1; i < 6; i++) hp_test_close(&conns[i]);
}

static void server_accepts_again_after_many_connections_closed(void **state)
{
    /* Connections that come and go do not use up --max-connections. */
    assert_int_equal(hp_test_server_start_respond(&srv, "--no-access-log", "--workers", "1",
                                                  "--max-connections", "5", NULL),
                     0);
    for (int i = 0; i < 50; i++) {
        hp_test_conn conn;
        assert_int_equal(hp_test_connect(&conn, srv.port, HP_TEST_DEADLINE_MS), 0);
        send_get(&conn);
        expect_ok(&conn, HP_TEST_DEADLINE_MS);
        hp_test_close(&conn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(five_hundred_concurrent_keep_alive_connections_are_all_answered,
                                  kill_server),
        cmocka_unit_test_teardown(connection_beyond_max_connections_waits_until_one_closes,
                                  kill_server),
        cmocka_unit_test_teardown(server_accepts_again_after_many_connections_closed, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
