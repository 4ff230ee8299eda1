/* Request hooks (hostpool/hooks.h) over real sockets, on a pool run in-process with two
 * workers: every request is heard of at its start and at its end, with its status and bytes;
 * the end of a response cut after its head says "aborted" (with the status of the head), the
 * end of a request whose client went away before any answer says "connection lost" (status
 * 0), and one answered in full has no error; each names its server, with its bytes and
 * duration.
 *
 * The hooks run on the workers: they record into a fixed table under a mutex, which the test
 * polls with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/hostpool.h"
#include "hp_test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define PORT_MIN 26200
#define PORT_MAX 26249
#define ENDS_MAX 16

typedef struct end_record {
    char path[32];
    char server[16];
    int status;
    uint64_t bytes_in, bytes_out, duration_us;
    char error[32]; /* "" when none */
} end_record;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static end_record ends[ENDS_MAX];
static size_t end_count, start_count;

static uv_loop_t loop;
static hp_pool *pool;
static int pool_done;
static int port;

static void on_start(const hp_request *req, void *data)
{
    pthread_mutex_lock(&lock);
    start_count++;
    pthread_mutex_unlock(&lock);
}

static void on_end(const hp_request *req, const hp_request_end *end, void *data)
{
    pthread_mutex_lock(&lock);
    if (end_count < ENDS_MAX) {
        end_record *r = &ends[end_count++];
        snprintf(r->path, sizeof r->path, "%.*s", (int)req->path.len, req->path.base);
        snprintf(r->server, sizeof r->server, "%s", end->server);
        r->status = end->status;
        r->bytes_in = end->bytes_in;
        r->bytes_out = end->bytes_out;
        r->duration_us = end->duration_us;
        snprintf(r->error, sizeof r->error, "%s", end->error ? end->error : "");
    }
    pthread_mutex_unlock(&lock);
}

/* "/cut": a body of 100 bytes announced, 10 sent, then the handler gives up. */
static void cut_proceed(hp_request *req, void *data)
{
    int *pieces = data;
    if ((*pieces)++ == 0)
        hp_stream_send(req, "0123456789", 10, false);
    else
        hp_request_abort(req);
}

static void cut_stop(hp_request *req, void *data) {}

static const hp_body_producer cut_producer = {.proceed = cut_proceed, .stop = cut_stop};

/* "/cut" as above; "/hang" never answers; anything else: 200 "ok". */
static void answer(hp_request *req, void *data)
{
    static _Thread_local int pieces;
    if (req->path.len == 4 && memcmp(req->path.base, "/cut", 4) == 0) {
        pieces = 0;
        hp_respond_stream(req, 200, 100, &cut_producer, &pieces);
    } else if (!(req->path.len == 5 && memcmp(req->path.base, "/hang", 5) == 0)) {
        hp_respond(req, 200, "ok", 2);
    }
}

static const hp_hooks hooks = {.request_start = on_start, .request_end = on_end};

static void pool_stopped(hp_pool *p, void *data)
{
    pool_done++;
}

static int setup(void **state)
{
    uv_loop_init(&loop);
    hp_pool_options o = {.workers = 2, .port_min = PORT_MIN, .port_max = PORT_MAX, .hooks = &hooks};
    if (hp_pool_create(&loop, &o, &pool) != 0) return -1;
    hp_route_config route = {.handler = hp_callback_handler_create(answer, NULL)};
    const char *listen = "127.0.0.1:auto";
    hp_server_config c = {
        .name = "web", .listen = &listen, .listen_count = 1, .routes = &route, .route_count = 1};
    hp_limits_init(&c.limits);
    char err[256];
    if (hp_pool_add(pool, &c, err, sizeof err) != 0) return -1;
    if (hp_pool_start(pool, "web", err, sizeof err) != 0) return -1;
    hp_server_info info;
    hp_pool_info(pool, "web", &info);
    port = hp_pool_bound_port(pool, info.server, 0);
    return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    hp_pool_shutdown(pool, pool_stopped, NULL);
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!pool_done && hp_test_now_ms() < deadline) uv_run(&loop, UV_RUN_NOWAIT);
    hp_pool_destroy(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    return pool_done && uv_loop_close(&loop) == 0 ? 0 : -1;
}

static bool ended(void *data)
{
    pthread_mutex_lock(&lock);
    bool enough = end_count >= *(size_t *)data;
    pthread_mutex_unlock(&lock);
    return enough;
}

/* The record of the `nth` end (0-based), once it came. */
static end_record end_number(size_t nth)
{
    size_t want = nth + 1;
    assert_true(hp_test_poll_until(ended, &want, HP_TEST_DEADLINE_MS));
    pthread_mutex_lock(&lock);
    end_record r = ends[nth];
    pthread_mutex_unlock(&lock);
    return r;
}

static void a_request_answered_in_full_ends_without_an_error(void **state)
{
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(port, "GET /hello HTTP/1.1\r\nHost: web\r\n\r\n", &resp,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    hp_test_response_free(&resp);
    end_record r = end_number(0);
    assert_string_equal(r.path, "/hello");
    assert_string_equal(r.server, "web");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.bytes_in, strlen("GET /hello HTTP/1.1\r\nHost: web\r\n\r\n"));
    assert_true(r.bytes_out > 2);
    assert_string_equal(r.error, "");
}

static void a_response_cut_after_its_head_ends_aborted(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(
        hp_test_send_str(&conn, "GET /cut HTTP/1.1\r\nHost: web\r\n\r\n", HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, HP_TEST_DEADLINE_MS),
                     HP_TEST_TRUNCATED);
    hp_test_close(&conn);
    end_record r = end_number(1);
    assert_string_equal(r.path, "/cut");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error, "aborted");
}

static void a_client_gone_before_any_answer_ends_with_connection_lost(void **state)
{
    hp_test_conn conn;
    assert_int_equal(hp_test_connect(&conn, port, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(
        hp_test_send_str(&conn, "GET /hang HTTP/1.1\r\nHost: web\r\n\r\n", HP_TEST_DEADLINE_MS),
        HP_TEST_OK);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    assert_true(hp_test_wait_server_read_all(&conn, HP_TEST_DEADLINE_MS));
    setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    hp_test_close(&conn);
    end_record r = end_number(2);
    assert_string_equal(r.path, "/hang");
    assert_string_equal(r.server, "web");
    assert_true(r.duration_us > 0); /* from its first byte to the reset */
    assert_int_equal(r.status, 0);
    assert_int_equal(r.bytes_out, 0);
    assert_string_equal(r.error, "connection lost");
    pthread_mutex_lock(&lock);
    assert_int_equal(start_count, 3); /* every request started once, and ended once */
    assert_int_equal(end_count, 3);
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_request_answered_in_full_ends_without_an_error),
        cmocka_unit_test(a_response_cut_after_its_head_ends_aborted),
        cmocka_unit_test(a_client_gone_before_any_answer_ends_with_connection_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
