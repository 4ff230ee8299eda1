/* The HTTP health probe (src/pool/http_probe.c) driven by a real health checker on a libuv
 * loop, against a backend of this test on the same loop that answers with scripted bytes:
 * a 200 is healthy, a 500, a refused connect and a garbage status line are not, and a
 * backend that never answers is a failure at the checker's timeout, with the probe's socket
 * closed. The backend records the request it got, so its exact bytes are checked too. Every
 * test closes all it opened and asserts the loop closes cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/health_checker.h"
#include "hp_test.h"
#include "io/socket.h"
#include "io/uv_sched.h"
#include "pool/http_probe.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

/* ---- the backend: on the test's loop, one scripted answer per connection ------------------ */

typedef struct backend {
    uv_loop_t *loop;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } listener;
    const char *reply; /* NULL: read the request and never answer */
    char request[1024];
    size_t request_len;
    int accepts;
    int closed_by_peer; /* connections the probe closed before the backend did */
} backend;

typedef struct backend_conn {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } io;
    uv_write_t write;
    backend *b;
    char buf[1024];
} backend_conn;

static void free_on_close(uv_handle_t *h)
{
    free(h->data);
}

static void on_reply_written(uv_write_t *w, int status)
{
    backend_conn *c = w->data;
    uv_close(&c->io.handle, free_on_close);
}

static void backend_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    backend_conn *c = h->data;
    *buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void backend_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    backend_conn *c = s->data;
    backend *b = c->b;
    if (n < 0) {
        b->closed_by_peer++;
        uv_close(&c->io.handle, free_on_close);
        return;
    }
    size_t room = sizeof b->request - 1 - b->request_len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(b->request + b->request_len, buf->base, take);
    b->request_len += take;
    b->request[b->request_len] = '\0';
    if (!strstr(b->request, "\r\n\r\n") || !b->reply) return; /* silent: keep reading */
    uv_read_stop(s);
    uv_buf_t reply = uv_buf_init((char *)b->reply, (unsigned)strlen(b->reply));
    c->write.data = c;
    assert_int_equal(uv_write(&c->write, s, &reply, 1, on_reply_written), 0);
}

static void backend_accept(uv_stream_t *server, int status)
{
    backend *b = server->data;
    assert_int_equal(status, 0);
    backend_conn *c = calloc(1, sizeof *c);
    c->b = b;
    c->io.handle.data = c;
    if (server->type == UV_NAMED_PIPE)
        uv_pipe_init(b->loop, &c->io.pipe, 0);
    else
        uv_tcp_init(b->loop, &c->io.tcp);
    assert_int_equal(uv_accept(server, &c->io.stream), 0);
    b->accepts++;
    assert_int_equal(uv_read_start(&c->io.stream, backend_alloc, backend_read), 0);
}

/* Listens on 127.0.0.1, an ephemeral port; returns the port. */
static int backend_start_tcp(backend *b, uv_loop_t *loop, const char *reply)
{
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->reply = reply;
    uv_tcp_init(loop, &b->listener.tcp);
    b->listener.handle.data = b;
    struct sockaddr_in sin;
    uv_ip4_addr("127.0.0.1", 0, &sin);
    assert_int_equal(uv_tcp_bind(&b->listener.tcp, (const struct sockaddr *)&sin, 0), 0);
    assert_int_equal(uv_listen(&b->listener.stream, 16, backend_accept), 0);
    int len = sizeof sin;
    assert_int_equal(uv_tcp_getsockname(&b->listener.tcp, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

static void backend_start_unix(backend *b, uv_loop_t *loop, const char *path, const char *reply)
{
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->reply = reply;
    uv_pipe_init(loop, &b->listener.pipe, 0);
    b->listener.handle.data = b;
    unlink(path);
    assert_int_equal(uv_pipe_bind(&b->listener.pipe, path), 0);
    assert_int_equal(uv_listen(&b->listener.stream, 16, backend_accept), 0);
}

/* ---- a checker of one target, judged on its first result ---------------------------------- */

typedef struct check {
    uv_loop_t loop;
    hp__uv_sched sched;
    uv_timer_t alive; /* referenced: the scheduler's timer is not, and alone ends uv_run */
    hp__http_probe_target target;
    hp__health_checker checker;
    hp__health_state state; /* the last reported */
    int changes;
} check;

static void on_change(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    check *c = data;
    c->state = to;
    c->changes++;
}

static void on_alive(uv_timer_t *t) {}

static void check_open(check *c)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(uv_loop_init(&c->loop), 0);
    hp__uv_sched_init(&c->sched, &c->loop);
    uv_timer_init(&c->loop, &c->alive);
    uv_timer_start(&c->alive, on_alive, HP_TEST_DEADLINE_MS * 2, 0);
}

/* A checker of `address` with rise 1, fall 1: the first probe's answer decides. */
static void check_target(check *c, const char *address, const char *path, int expect,
                         uint32_t timeout_ms)
{
    struct sockaddr_storage addr;
    assert_int_equal(hp__socket_parse_address(address, &addr), 0);
    hp__http_probe_target_init(&c->target, &c->loop, &addr, address, path, expect);
    hp__health_config config = {
        .interval_ms = 60000, .timeout_ms = timeout_ms, .rise = 1, .fall = 1};
    assert_int_equal(hp__health_checker_init(&c->checker, &c->sched.sched, &config,
                                             &hp__http_probe_ops, &c->target, on_change, c),
                     0);
}

/* Runs the loop until the first verdict (UNKNOWN → OK or KO), within the test deadline. */
static hp__health_state check_run(check *c)
{
    assert_int_equal(hp__health_checker_start(&c->checker, 0), 0);
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (c->state == HP__HEALTH_UNKNOWN && hp_test_now_ms() < deadline)
        uv_run(&c->loop, UV_RUN_ONCE);
    return c->state;
}

static void sched_closed(uv_handle_t *h) {}

static void check_close(check *c, backend *b)
{
    hp__health_checker_stop(&c->checker);
    hp__http_probe_target_close(&c->target);
    if (b) uv_close(&b->listener.handle, NULL);
    uv_close((uv_handle_t *)&c->alive, NULL);
    hp__uv_sched_close(&c->sched, sched_closed);
    uv_run(&c->loop, UV_RUN_DEFAULT); /* every handle closes, the probe's and the backend's */
    assert_int_equal(uv_loop_close(&c->loop), 0);
}

static const char *address_of(int port)
{
    static char text[32];
    snprintf(text, sizeof text, "127.0.0.1:%d", port);
    return text;
}

/* A TCP backend answering `reply`, a checker of it; returns its verdict. */
static hp__health_state verdict_for(check *c, backend *b, const char *reply, int expect)
{
    check_open(c);
    int port = backend_start_tcp(b, &c->loop, reply);
    check_target(c, address_of(port), "/health", expect, 1000);
    return check_run(c);
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void a_200_is_healthy_and_the_request_is_exactly_the_probe_s(void **state)
{
    check c;
    backend b;
    check_open(&c);
    int port = backend_start_tcp(&b, &c.loop, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    check_target(&c, address_of(port), "/health", 200, 1000);
    assert_int_equal(check_run(&c), HP__HEALTH_OK);
    char expected[256];
    snprintf(expected, sizeof expected,
             "GET /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
             "User-Agent: hostpool-health\r\n\r\n",
             port);
    assert_string_equal(b.request, expected);
    assert_int_equal(b.accepts, 1);
    check_close(&c, &b);
}

static void a_500_is_a_failure(void **state)
{
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 200),
                     HP__HEALTH_KO);
    assert_int_equal(b.accepts, 1);
    check_close(&c, &b);
}

static void the_expected_status_is_the_one_configured(void **state)
{
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 204 No Content\r\n\r\n", 204), HP__HEALTH_OK);
    check_close(&c, &b);
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 204),
                     HP__HEALTH_KO);
    check_close(&c, &b);
}

static void a_status_class_accepts_any_status_of_the_class(void **state)
{
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 204 No Content\r\n\r\n", HP__HTTP_PROBE_ANY_2XX),
                     HP__HEALTH_OK);
    check_close(&c, &b);
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 299 Odd\r\nContent-Length: 0\r\n\r\n",
                                 HP__HTTP_PROBE_ANY_2XX),
                     HP__HEALTH_OK);
    check_close(&c, &b);
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                                 HP__HTTP_PROBE_ANY_2XX),
                     HP__HEALTH_KO);
    check_close(&c, &b);
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
                                 HP__HTTP_PROBE_ANY_2XX),
                     HP__HEALTH_KO);
    check_close(&c, &b);
}

static void a_garbage_status_line_is_a_failure(void **state)
{
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", 200),
                     HP__HEALTH_KO);
    check_close(&c, &b);
    assert_int_equal(verdict_for(&c, &b, "hello there\r\n\r\n", 200), HP__HEALTH_KO);
    check_close(&c, &b);
}

static void a_close_before_the_head_is_a_failure(void **state)
{
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, "HTTP/1.1 200 OK\r\nContent-Le", 200), HP__HEALTH_KO);
    check_close(&c, &b);
}

static void a_head_over_the_limit_is_a_failure(void **state)
{
    static char reply[HP__HTTP_PROBE_HEAD_LIMIT + 1024];
    static const char start[] = "HTTP/1.1 200 OK\r\nX-Filler: ";
    memcpy(reply, start, sizeof start - 1);
    memset(reply + sizeof start - 1, 'a', sizeof reply - (sizeof start - 1) - 64);
    strcpy(reply + sizeof reply - 64, "\r\nContent-Length: 0\r\n\r\n");
    check c;
    backend b;
    assert_int_equal(verdict_for(&c, &b, reply, 200), HP__HEALTH_KO);
    check_close(&c, &b);
}

static void a_refused_connect_is_a_failure(void **state)
{
    check c;
    check_open(&c);
    int port;
    int fd = hp_test_hold_port(&port);
    assert_true(fd >= 0);
    close(fd); /* nobody listens there now */
    check_target(&c, address_of(port), "/health", 200, 1000);
    assert_int_equal(check_run(&c), HP__HEALTH_KO);
    assert_int_equal(c.checker.timeouts, 0);
    check_close(&c, NULL);
}

static bool probe_socket_closed(backend *b)
{
    return b->closed_by_peer == 1;
}

static void a_silent_backend_fails_at_the_timeout_and_the_probe_closes_its_socket(void **state)
{
    check c;
    backend b;
    check_open(&c);
    int port = backend_start_tcp(&b, &c.loop, NULL);
    check_target(&c, address_of(port), "/health", 200, 100);
    int64_t start = hp_test_now_ms();
    assert_int_equal(check_run(&c), HP__HEALTH_KO);
    assert_true(hp_test_now_ms() - start >= 90);
    assert_int_equal(c.checker.timeouts, 1);
    assert_non_null(strstr(b.request, "GET /health HTTP/1.1\r\n"));
    /* The cancelled probe closed its connection: the backend reads its end. */
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (!probe_socket_closed(&b) && hp_test_now_ms() < deadline) uv_run(&c.loop, UV_RUN_ONCE);
    assert_true(probe_socket_closed(&b));
    check_close(&c, &b);
}

static void a_unix_socket_target_is_checked_with_host_localhost(void **state)
{
    check c;
    backend b;
    check_open(&c);
    char path[256], address[300];
    snprintf(path, sizeof path, "%s/backend.sock", hp_test_temp_dir());
    snprintf(address, sizeof address, "unix:%s", path);
    backend_start_unix(&b, &c.loop, path, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    check_target(&c, address, "/ready?full=1", 200, 1000);
    assert_int_equal(check_run(&c), HP__HEALTH_OK);
    assert_string_equal(b.request, "GET /ready?full=1 HTTP/1.1\r\nHost: localhost\r\n"
                                   "Connection: close\r\nUser-Agent: hostpool-health\r\n\r\n");
    check_close(&c, &b);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_200_is_healthy_and_the_request_is_exactly_the_probe_s),
        cmocka_unit_test(a_500_is_a_failure),
        cmocka_unit_test(the_expected_status_is_the_one_configured),
        cmocka_unit_test(a_status_class_accepts_any_status_of_the_class),
        cmocka_unit_test(a_garbage_status_line_is_a_failure),
        cmocka_unit_test(a_close_before_the_head_is_a_failure),
        cmocka_unit_test(a_head_over_the_limit_is_a_failure),
        cmocka_unit_test(a_refused_connect_is_a_failure),
        cmocka_unit_test(a_silent_backend_fails_at_the_timeout_and_the_probe_closes_its_socket),
        cmocka_unit_test(a_unix_socket_target_is_checked_with_host_localhost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
