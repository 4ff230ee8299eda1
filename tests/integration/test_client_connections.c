/* limits.max_connections_per_client through `hostpool run` with two workers: a client
 * address's connections beyond the cap of its server are answered 503 and closed at once,
 * wherever the worker, while another address is served; once one of its connections closes
 * the client may open another; each refusal is counted in
 * hostpool_refused_total{reason="client_connections"}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 25880
#define FIXED_PORT_MAX 25899

#define GET_ROOT "GET / HTTP/1.1\r\nHost: web\r\n\r\n"

static hp_test_server srv;
static int web_port, mon_port;

/* Server "web" caps a client address at 2 connections; "mon" (no cap) answers the metrics. */
static int pool_start(void **state)
{
    web_port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    do mon_port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
    while (mon_port == web_port); /* both free, neither bound yet */
    assert_true(web_port > 0 && mon_port > 0);
    char text[1024];
    snprintf(text, sizeof text,
             "workers: 2\n"
             "access_log: off\n"
             /* The pool's own TCP checks connect from 127.0.0.1 too: none during the test. */
             "health: { interval: 1h }\n"
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:%d\n"
             "    limits: { max_connections_per_client: 2 }\n"
             "    routes:\n"
             "      - respond: { body: ok }\n"
             "  - name: mon\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes:\n"
             "      - metrics: {}\n",
             web_port, mon_port);
    hp_test_admin admin; /* on a socket of the test's own, not ./hostpool.sock */
    assert_int_equal(hp_test_admin_start_text(&srv, text, &admin), 0);
    return 0;
}

static int pool_stop(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

/* A new keep-alive connection from `from` and the status of one GET on it; the connection
 * stays open when the answer is 200. */
static int open_and_get(hp_test_conn *conn, const char *from)
{
    assert_int_equal(hp_test_connect_from(conn, from, web_port, HP_TEST_DEADLINE_MS), 0);
    hp_test_response resp;
    assert_int_equal(hp_test_send_str(conn, GET_ROOT, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    int status = resp.status;
    hp_test_response_free(&resp);
    return status;
}

static bool served_again(void *data)
{
    hp_test_conn conn;
    int status = open_and_get(&conn, "127.0.0.1");
    hp_test_close(&conn);
    return status == 200;
}

static long long refused_count(void)
{
    return hp_test_metric(mon_port,
                          "hostpool_refused_total{server=\"web\",reason=\"client_connections\"}");
}

/* Opens the client's two connections (both served). The pool's first health checks, at its
 * start, connect to both servers from 127.0.0.1, and a client's count spans the engine's
 * addresses: until the daemon has freed those connections the test's are refused, and both
 * are tried again. */
static bool two_open(void *data)
{
    hp_test_conn *pair = data;
    if (open_and_get(&pair[0], "127.0.0.1") != 200) {
        hp_test_close(&pair[0]);
        return false;
    }
    if (open_and_get(&pair[1], "127.0.0.1") == 200) return true;
    hp_test_close(&pair[0]);
    hp_test_close(&pair[1]);
    return false;
}

static void a_connection_beyond_the_clients_cap_gets_503_and_is_closed(void **state)
{
    hp_test_conn pair[2], third, other;
    assert_true(hp_test_poll_until(two_open, pair, HP_TEST_DEADLINE_MS));
    long long refused_before = refused_count();
    assert_int_equal(hp_test_connect_from(&third, "127.0.0.1", web_port, HP_TEST_DEADLINE_MS), 0);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&third, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 503);
    assert_true(hp_test_response_header_has(&resp, "Connection", "close"));
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&third, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&third);
    /* Another address is not affected. */
    assert_int_equal(open_and_get(&other, "127.0.0.2"), 200);
    assert_int_equal(refused_count(), refused_before + 1);
    /* Once one of its connections is closed, the client may open another. */
    hp_test_close(&pair[0]);
    assert_true(hp_test_poll_until(served_again, NULL, HP_TEST_DEADLINE_MS));
    hp_test_close(&pair[1]);
    hp_test_close(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_connection_beyond_the_clients_cap_gets_503_and_is_closed),
    };
    return cmocka_run_group_tests(tests, pool_start, pool_stop);
}
