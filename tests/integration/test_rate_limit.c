/* Rate limits through `hostpool run` with two workers (so one client's connections land on
 * both and the limit still holds): a client over the server's limit gets 429 with
 * Retry-After, RateLimit-Policy, RateLimit and a JSON body while another client (source
 * address 127.0.0.2) is served; once Retry-After passes it is served again; a route's own
 * limit, keyed by a header, replaces the server's, and its block_for keeps a key out; every
 * refusal is counted in hostpool_refused_total{server,reason="rate_limited"}; a refused request
 * that waits for 100 Continue is answered without it. */
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
#define FIXED_PORT_MIN 25800
#define FIXED_PORT_MAX 25849

#define GET_ROOT "GET / HTTP/1.1\r\nHost: web\r\n\r\n"

static hp_test_server srv;
static int web_port, mon_port;

/* Server "web": 3 requests a second by client address; its /login route: 1 a minute by
 * X-Api-Key, blocked for 10 minutes once over. Server "mon" answers the metrics. */
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
             "servers:\n"
             "  - name: web\n"
             "    listen: 127.0.0.1:%d\n"
             "    rate_limit: { requests: 3, per: 1s, key: client_ip }\n"
             "    routes:\n"
             "      - match: { path: /login }\n"
             "        rate_limit: { requests: 1, per: 1m, block_for: 10m, key: "
             "\"header:X-Api-Key\" }\n"
             "        respond: { body: welcome }\n"
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

/* One request on a new connection from `from`; the response in *resp. */
static void exchange_from(const char *from, const char *request, hp_test_response *resp)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect_from(&conn, from, web_port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&conn, resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_close(&conn);
}

static int status_from(const char *from, const char *request)
{
    hp_test_response resp;
    exchange_from(from, request, &resp);
    int status = resp.status;
    hp_test_response_free(&resp);
    return status;
}

static bool served_again(void *data)
{
    return status_from(data, GET_ROOT) == 200;
}

static long long refused_count(const char *server)
{
    char series[128];
    snprintf(series, sizeof series, "hostpool_refused_total{server=\"%s\",reason=\"rate_limited\"}",
             server);
    return hp_test_metric(mon_port, series);
}

static void a_client_over_the_limit_gets_429_while_another_is_served(void **state)
{
    int64_t start = hp_test_now_ms();
    /* Three connections (the two workers share them), then the fourth request is over. */
    for (int i = 0; i < 3; i++) assert_int_equal(status_from("127.0.0.1", GET_ROOT), 200);
    hp_test_response resp;
    exchange_from("127.0.0.1", GET_ROOT, &resp);
    if (hp_test_now_ms() - start >= 300) { /* the machine stalled for a whole interval */
        hp_test_response_free(&resp);
        skip();
    }
    assert_int_equal(resp.status, 429);
    assert_string_equal(hp_test_response_header(&resp, "Retry-After"), "1");
    assert_string_equal(hp_test_response_header(&resp, "RateLimit-Policy"), "\"web\";q=3;w=1");
    assert_string_equal(hp_test_response_header(&resp, "RateLimit"), "\"web\";r=0;t=1");
    assert_string_equal(hp_test_response_header(&resp, "Content-Type"), "application/json");
    assert_string_equal(resp.body, "{\"error\": \"rate limited\", \"retry_after\": 1}\n");
    hp_test_response_free(&resp);
    /* Another client is not affected. */
    assert_int_equal(status_from("127.0.0.2", GET_ROOT), 200);
    /* After Retry-After the first client is served again. */
    assert_true(hp_test_poll_until(served_again, "127.0.0.1", HP_TEST_DEADLINE_MS));
    assert_true(refused_count("web") >= 1);
}

#define LOGIN(key) "GET /login HTTP/1.1\r\nHost: web\r\nX-Api-Key: " key "\r\n\r\n"

static void a_routes_own_limit_keys_by_header_and_block_for_keeps_the_key_out(void **state)
{
    long long before = refused_count("web");
    /* The route's limit replaces the server's: five keys from one address all pass. */
    const char *keys[] = {LOGIN("k1"), LOGIN("k2"), LOGIN("k3"), LOGIN("k4"), LOGIN("k5")};
    for (int i = 0; i < 5; i++) assert_int_equal(status_from("127.0.0.1", keys[i]), 200);
    /* k1's second try is over: blocked for 10 minutes, not the minute its rate says. */
    hp_test_response resp;
    exchange_from("127.0.0.2", LOGIN("k1"), &resp);
    assert_int_equal(resp.status, 429);
    assert_string_equal(hp_test_response_header(&resp, "Retry-After"), "600");
    assert_string_equal(hp_test_response_header(&resp, "RateLimit-Policy"), "\"web/0\";q=1;w=60");
    hp_test_response_free(&resp);
    exchange_from("127.0.0.1", LOGIN("k1"), &resp);
    assert_int_equal(resp.status, 429);
    long retry = atol(hp_test_response_header(&resp, "Retry-After"));
    assert_true(retry > 60 && retry <= 600);
    hp_test_response_free(&resp);
    /* Another key is served. */
    assert_int_equal(status_from("127.0.0.1", LOGIN("k6")), 200);
    assert_int_equal(refused_count("web"), before + 2);
}

/* A refused request that waits for 100 Continue gets its 429 at once, without the 100, and the
 * connection closes (its body is never read). k1 is still blocked from the test before. */
static void a_refused_request_waiting_for_100_continue_gets_429_without_it(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect_from(&conn, "127.0.0.1", web_port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(&conn,
                                      "POST /login HTTP/1.1\r\nHost: web\r\nX-Api-Key: k1\r\n"
                                      "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 429);
    assert_true(hp_test_response_header_has(&resp, "Connection", "close"));
    hp_test_response_free(&resp);
    assert_int_equal(hp_test_wait_closed(&conn, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_client_over_the_limit_gets_429_while_another_is_served),
        cmocka_unit_test(a_routes_own_limit_keys_by_header_and_block_for_keeps_the_key_out),
        cmocka_unit_test(a_refused_request_waiting_for_100_continue_gets_429_without_it),
    };
    return cmocka_run_group_tests(tests, pool_start, pool_stop);
}
