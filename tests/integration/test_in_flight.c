/* max_in_flight through `hostpool run` with two workers: while a request is held by a slow
 * backend (a proxy route), a server with max_in_flight: 1 refuses the next one with 503,
 * Retry-After: 1 and a JSON body, counts it in hostpool_refused_total{reason="in_flight"},
 * and once the held request is answered, or its client went away, or it timed out (504), or a
 * request was refused by a rate limit (429), or a stop's drain aborted it, the in-flight gauge
 * is back to 0 and requests are served again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hp_test_admin.h"
#include "script_backend.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 25850
#define FIXED_PORT_MAX 25879

#define GET_ROOT "GET / HTTP/1.1\r\nHost: web\r\n\r\n"
#define GET_SLOW "GET /slow HTTP/1.1\r\nHost: web\r\n\r\n"
#define GET_TIMEOUT "GET /timeout HTTP/1.1\r\nHost: web\r\n\r\n"
#define GET_LIMITED "GET /limited HTTP/1.1\r\nHost: web\r\n\r\n"

/* A backend that holds each request until the test releases it. */
typedef struct holding_backend {
    hp_test_backend base; /* first (script_backend.h) */
    atomic_int holding;   /* requests held now */
    atomic_bool release;
} holding_backend;

static holding_backend backend;
static hp_test_server srv;
static hp_test_admin admin;
static int web_port, mon_port;

static void hold_then_answer(hp_test_backend *base, int fd)
{
    holding_backend *b = (holding_backend *)base;
    char buf[4096];
    size_t head_len;
    if (hp_test_backend_read_head(base, fd, buf, sizeof buf, &head_len) < 0) return;
    atomic_fetch_add(&b->holding, 1);
    while (!atomic_load(&b->release) && !atomic_load(&base->stop)) usleep(2000);
    /* It closes after each answer (script_backend.c), and says so: the proxy never keeps a
     * connection the backend is about to close. */
    static const char reply[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nheld";
    hp_test_send_all(fd, reply, sizeof reply - 1);
    atomic_fetch_sub(&b->holding, 1);
}

static bool backend_free(void *data)
{
    return atomic_load(&backend.holding) == 0;
}

/* The backend holds the requests that come from now on. A test that released the ones before
 * waits until they are let go first: the backend answers one connection at a time. */
static void backend_hold(void)
{
    atomic_store(&backend.release, true);
    assert_true(hp_test_poll_until(backend_free, NULL, HP_TEST_DEADLINE_MS));
    atomic_store(&backend.release, false);
}

static int pool_start(void **state)
{
    memset(&backend, 0, sizeof backend);
    hp_test_backend_start(&backend.base, hold_then_answer);
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
             "    max_in_flight: 1\n"
             "    limits: { drain_timeout: 300ms }\n"
             "    routes:\n"
             "      - match: { path: /slow }\n"
             "        proxy: { to: [127.0.0.1:%d] }\n"
             "      - match: { path: /timeout }\n"
             "        proxy: { to: [127.0.0.1:%d], first_byte_timeout: 300ms }\n"
             "      - match: { path: /limited }\n"
             "        rate_limit: { requests: 1, per: 1m }\n"
             "        respond: { body: once }\n"
             "      - respond: { body: ok }\n"
             "  - name: mon\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes:\n"
             "      - metrics: {}\n",
             web_port, backend.base.port, backend.base.port, mon_port);
    /* on a socket of the test's own, not ./hostpool.sock */
    assert_int_equal(hp_test_admin_start_text(&srv, text, &admin), 0);
    return 0;
}

static int pool_stop(void **state)
{
    hp_test_server_kill(&srv);
    atomic_store(&backend.release, true);
    hp_test_backend_stop(&backend.base);
    return 0;
}

static long long metric(const char *series)
{
    return hp_test_metric(mon_port, series);
}

#define IN_FLIGHT "hostpool_requests_in_flight{server=\"web\"}"
#define REFUSED "hostpool_refused_total{server=\"web\",reason=\"in_flight\"}"

static bool nothing_in_flight(void *data)
{
    return metric(IN_FLIGHT) == 0;
}

static bool backend_holds_one(void *data)
{
    return atomic_load(&backend.holding) == 1;
}

static int status_of(const char *request)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(web_port, request, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    int status = resp.status;
    hp_test_response_free(&resp);
    return status;
}

/* Sends GET /slow on `conn` and waits until the backend holds it (after backend_hold, which
 * left it holding nothing). A request answered just before may still count in flight for an
 * instant (its client read the answer before the server heard its write was done): the cap of
 * 1 would refuse this one, so the count is seen at 0 first. */
static void hold_one(hp_test_conn *conn)
{
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(hp_test_connect(conn, web_port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(conn, GET_SLOW, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_poll_until(backend_holds_one, NULL, HP_TEST_DEADLINE_MS));
}

static void a_request_beyond_max_in_flight_gets_503_until_the_held_one_ends(void **state)
{
    backend_hold();
    hp_test_conn held;
    hold_one(&held);
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(web_port, GET_ROOT, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 503);
    assert_string_equal(hp_test_response_header(&resp, "Retry-After"), "1");
    assert_string_equal(hp_test_response_header(&resp, "Content-Type"), "application/json");
    assert_string_equal(resp.body,
                        "{\"error\": \"too many requests in flight\", \"retry_after\": 1}\n");
    hp_test_response_free(&resp);
    assert_int_equal(metric(REFUSED), 1);
    assert_int_equal(metric(IN_FLIGHT), 1);
    atomic_store(&backend.release, true);
    assert_int_equal(hp_test_read_response(&held, &resp, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "held");
    hp_test_response_free(&resp);
    hp_test_close(&held);
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(status_of(GET_ROOT), 200);
}

static bool served_again(void *data)
{
    return status_of(GET_ROOT) == 200;
}

static void a_held_request_whose_client_went_away_leaves_the_count(void **state)
{
    backend_hold();
    hp_test_conn held;
    hold_one(&held);
    assert_int_equal(status_of(GET_ROOT), 503);
    /* The client gives up (a reset) while the backend still holds its request. */
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(held.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    hp_test_close(&held);
    assert_true(hp_test_poll_until(served_again, NULL, HP_TEST_DEADLINE_MS));
    atomic_store(&backend.release, true);
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
}

static void a_timed_out_request_and_a_rate_limited_one_leave_the_count(void **state)
{
    backend_hold(); /* the backend never answers /timeout in time */
    assert_int_equal(status_of(GET_TIMEOUT), 504);
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(status_of(GET_LIMITED), 200);
    assert_int_equal(status_of(GET_LIMITED), 429);
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(status_of(GET_ROOT), 200); /* nothing left counted against the cap */
    atomic_store(&backend.release, true);
}

/* A stop drains the server: the held request is aborted at the drain deadline (300 ms), and
 * once the server is started again nothing is left counted against its cap. */
static void a_request_aborted_by_a_drain_leaves_the_count(void **state)
{
    backend_hold();
    hp_test_conn held;
    hold_one(&held);
    assert_int_equal(metric(IN_FLIGHT), 1);
    hp_test_answer a = hp_test_admin_call(&admin, "POST", "/servers/web/stop", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    hp_test_close(&held);
    a = hp_test_admin_call(&admin, "POST", "/servers/web/start", NULL, NULL);
    assert_int_equal(a.status, 200);
    hp_test_answer_free(&a);
    assert_true(hp_test_poll_until(nothing_in_flight, NULL, HP_TEST_DEADLINE_MS));
    assert_int_equal(status_of(GET_ROOT), 200);
    atomic_store(&backend.release, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_request_beyond_max_in_flight_gets_503_until_the_held_one_ends),
        cmocka_unit_test(a_held_request_whose_client_went_away_leaves_the_count),
        cmocka_unit_test(a_timed_out_request_and_a_rate_limited_one_leave_the_count),
        cmocka_unit_test(a_request_aborted_by_a_drain_leaves_the_count),
    };
    return cmocka_run_group_tests(tests, pool_start, pool_stop);
}
