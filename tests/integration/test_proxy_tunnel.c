/* The reverse proxy's tunnel after a 101 (src/handlers/proxy_tunnel.c) over real sockets: the
 * proxy runs in-process (engine_fixture.h, so its idle timeout can be short and its resident
 * memory measured), the backend is scripted on a thread of this test: it answers an upgrade
 * with 101, then echoes, sends first, closes, counts what it receives or sends a stream.
 *
 * Asserted: a WebSocket handshake passes untouched both ways and frames echo, the bytes the
 * backend sends with its 101 come first, 64 MiB each way keep resident memory flat, a client
 * that does not read stalls the backend's writes, an end from either side reaches the other
 * (half-closes), a 101 to a request that did not ask is a 502, the server stopping or being
 * replaced and the idle timeout close the tunnel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hp_test.h"
#include "script_backend.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG_BYTES (64u << 20)
#define RSS_GROWTH_MAX (16 << 20)
/* The RFC 6455 §1.3 example: this key's accept value. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define WS_REQUEST                                                                                 \
    "GET /chat HTTP/1.1\r\nHost: hostpool.test\r\nUpgrade: websocket\r\n"                          \
    "Connection: keep-alive, Upgrade\r\nKeep-Alive: timeout=5\r\nSec-WebSocket-Key: " WS_KEY       \
    "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n"                 \
    "Origin: http://hostpool.test\r\n\r\n"

/* ---- the scripted backend ------------------------------------------------------------------ */

typedef enum {
    ECHOES,      /* 101, then echoes every byte; the client's end is passed back (shutdown) */
    SENDS_FIRST, /* 101 with "hello first" in the same send, then as ECHOES */
    CLOSES,      /* 101, then closes */
    SINK,        /* 101, counts the bytes to the client's end, sends the count, closes */
    SOURCE,      /* 101, sends `source_bytes` (a pattern), ends its side, waits for the end */
} backend_mode;

typedef struct backend {
    hp_test_backend base; /* first: the listener and its thread (script_backend.h) */
    backend_mode mode;
    uint64_t source_bytes;
    atomic_int ends; /* ends: the proxy ended its side of the upstream connection */
    atomic_ullong sent, received;
    char head[4096]; /* the last request head received; read it once `accepts` says so */
    atomic_int heads;
} backend;

/* Reads one request head, kept in b->head; returns the bytes read after it (left at buf), or
 * -1. */
static ssize_t read_head(backend *b, int fd, char *buf, size_t cap)
{
    size_t head_len;
    ssize_t extra = hp_test_backend_read_head(&b->base, fd, buf, cap, &head_len);
    if (extra < 0) return -1;
    size_t kept = head_len < sizeof b->head ? head_len : sizeof b->head - 1;
    memcpy(b->head, buf, kept);
    b->head[kept] = '\0';
    atomic_fetch_add(&b->heads, 1);
    memmove(buf, buf + head_len, (size_t)extra);
    return extra;
}

/* The 101: the WebSocket accept value when the key is RFC 6455's example. */
static void send_101(backend *b, int fd, const char *extra)
{
    char reply[512];
    bool ws = strstr(b->head, "Sec-WebSocket-Key: " WS_KEY "\r\n") != NULL;
    int n = snprintf(
        reply, sizeof reply,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n"
        "%sX-Backend: tunnel\r\nKeep-Alive: timeout=9\r\n\r\n%s",
        ws ? "websocket" : "test",
        ws ? "Sec-WebSocket-Accept: " WS_ACCEPT "\r\nSec-WebSocket-Protocol: chat\r\n" : "", extra);
    hp_test_send_all(fd, reply, (size_t)n);
}

/* Reads until the proxy ends its side; echoes what it reads when `echo`, counts it. */
static void read_to_end(backend *b, int fd, bool echo)
{
    static char buf[64 << 10];
    while (hp_test_backend_readable(&b->base, fd)) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            atomic_fetch_add(&b->ends, 1);
            return;
        }
        atomic_fetch_add(&b->received, (unsigned long long)n);
        if (echo && !hp_test_send_all(fd, buf, (size_t)n)) return;
    }
}

static void source(backend *b, int fd)
{
    static char piece[64 << 10];
    for (size_t i = 0; i < sizeof piece; i++) piece[i] = (char)('a' + i % 26);
    uint64_t left = b->source_bytes;
    while (left > 0 && !atomic_load(&b->base.stop)) {
        size_t n = left < sizeof piece ? (size_t)left : sizeof piece;
        if (!hp_test_send_all(fd, piece, n)) {
            atomic_fetch_add(&b->ends, 1); /* the proxy closed the connection */
            return;
        }
        left -= n;
        atomic_fetch_add(&b->sent, n);
    }
    shutdown(fd, SHUT_WR);
    read_to_end(b, fd, false);
}

static void serve(hp_test_backend *base, int fd)
{
    backend *b = (backend *)base;
    static char buf[64 << 10];
    ssize_t extra = read_head(b, fd, buf, sizeof buf);
    if (extra < 0) return;
    if (b->mode == SENDS_FIRST)
        send_101(b, fd, "hello first");
    else
        send_101(b, fd, "");
    switch (b->mode) {
    case ECHOES:
    case SENDS_FIRST:
        atomic_fetch_add(&b->received, (unsigned long long)extra);
        if (extra > 0 && !hp_test_send_all(fd, buf, (size_t)extra)) return;
        read_to_end(b, fd, true);
        shutdown(fd, SHUT_WR); /* the client's end, passed back */
        return;
    case CLOSES:
        return;
    case SINK: {
        atomic_fetch_add(&b->received, (unsigned long long)extra);
        read_to_end(b, fd, false);
        char count[32];
        int n = snprintf(count, sizeof count, "%llu", atomic_load(&b->received));
        hp_test_send_all(fd, count, (size_t)n);
        return;
    }
    case SOURCE:
        source(b, fd);
        return;
    }
}

static void backend_start(backend *b, backend_mode mode)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    hp_test_backend_start(&b->base, serve);
}

static void backend_stop(backend *b)
{
    hp_test_backend_stop(&b->base);
}

static bool backend_saw_the_end(void *b)
{
    return atomic_load(&((backend *)b)->ends) > 0;
}

/* ---- the proxy and its client --------------------------------------------------------------- */

static hp_handler *proxy_handler(int port, uint64_t idle_timeout_ms)
{
    static char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    static const char *to[1];
    to[0] = target;
    hp_proxy_options o;
    hp_proxy_options_init(&o);
    o.to = to;
    o.to_count = 1;
    if (idle_timeout_ms) o.idle_timeout_ms = idle_timeout_ms;
    char err[256];
    hp_handler *h = hp_proxy_handler_create(&o, err, sizeof err);
    if (!h) fail_msg("%s", err);
    return h;
}

static engine_fixture *proxy_to(const backend *b, uint64_t idle_timeout_ms)
{
    return engine_fixture_start(proxy_handler(b->base.port, idle_timeout_ms), 0);
}

/* Connects (`rcvbuf` > 0: that receive buffer), sends `request` and reads the 101. */
static void open_tunnel(hp_test_conn *c, engine_fixture *f, int rcvbuf, const char *request)
{
    assert_int_equal(hp_test_connect_rcvbuf(c, engine_fixture_port(f), rcvbuf, HP_TEST_DEADLINE_MS),
                     0);
    assert_int_equal(hp_test_send_str(c, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(c, &r, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 101);
    hp_test_response_free(&r);
}

#define UPGRADE_REQUEST "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: test\r\nConnection: upgrade\r\n\r\n"

/* Reads until `n` bytes are buffered (or the deadline, or the close). */
static void read_exactly(hp_test_conn *c, size_t n)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (c->len < n && !c->eof && hp_test_now_ms() < deadline) hp_test_read_some(c, 20);
    assert_int_equal(c->len, n);
}

/* Reads until the proxy ends the client's side; false at the deadline. */
static bool read_until_closed(hp_test_conn *c, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (!c->eof && hp_test_now_ms() < deadline) hp_test_read_some(c, 20);
    return c->eof;
}

static void expect_echo(hp_test_conn *c, const char *text)
{
    c->len = 0;
    assert_int_equal(hp_test_send_str(c, text, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    read_exactly(c, strlen(text));
    assert_memory_equal(c->buf, text, c->len);
    c->len = 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void a_websocket_handshake_passes_untouched_and_frames_echo(void **state)
{
    backend b;
    backend_start(&b, ECHOES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, engine_fixture_port(f), HP_TEST_DEADLINE_MS), 0);
    /* a masked text frame "ping" right behind the request, in the same send */
    static const char frame[] = "\x81\x84\x01\x02\x03\x04qkmc";
    char request[sizeof WS_REQUEST + sizeof frame];
    snprintf(request, sizeof request, "%s%s", WS_REQUEST, frame);
    assert_int_equal(hp_test_send_str(&c, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 101);
    assert_string_equal(hp_test_response_header(&r, "Upgrade"), "websocket");
    assert_true(hp_test_response_header_has(&r, "Connection", "upgrade"));
    assert_string_equal(hp_test_response_header(&r, "Sec-WebSocket-Accept"), WS_ACCEPT);
    assert_string_equal(hp_test_response_header(&r, "Sec-WebSocket-Protocol"), "chat");
    assert_string_equal(hp_test_response_header(&r, "X-Backend"), "tunnel");
    assert_string_equal(hp_test_response_header(&r, "Via"), "1.1 hostpool");
    assert_null(hp_test_response_header(&r, "Keep-Alive"));
    hp_test_response_free(&r);
    read_exactly(&c, sizeof frame - 1);
    assert_memory_equal(c.buf, frame, sizeof frame - 1);
    expect_echo(&c, "\x82\x83\x01\x01\x01\x01`cb"); /* a binary frame "abc" */

    const char *seen = b.head; /* what the backend got: the handshake, hop-by-hop fields out */
    const char *present[] = {"GET /chat HTTP/1.1\r\n",
                             "\r\nUpgrade: websocket\r\n",
                             "\r\nConnection: upgrade\r\n",
                             "\r\nSec-WebSocket-Key: " WS_KEY "\r\n",
                             "\r\nSec-WebSocket-Version: 13\r\n",
                             "\r\nSec-WebSocket-Protocol: chat, superchat\r\n",
                             "\r\nOrigin: http://hostpool.test\r\n",
                             "\r\nX-Forwarded-For: 127.0.0.1\r\n"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        if (!strstr(seen, present[i])) fail_msg("no %s in:\n%s", present[i], seen);
    assert_null(strcasestr(seen, "keep-alive"));

    hp_test_close(&c);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void the_bytes_the_backend_sends_with_its_101_come_first(void **state)
{
    backend b;
    backend_start(&b, SENDS_FIRST);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    read_exactly(&c, strlen("hello first"));
    assert_memory_equal(c.buf, "hello first", c.len);
    expect_echo(&c, "and then the echo");
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void a_101_to_a_request_that_did_not_ask_is_a_502(void **state)
{
    backend b; /* answers 101 to anything */
    backend_start(&b, CLOSES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(engine_fixture_port(f),
                                      "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: test\r\n\r\n", &r,
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 502);
    assert_non_null(strstr(r.body, "malformed"));
    hp_test_response_free(&r);
    /* the request went without Upgrade, as any request that did not ask */
    assert_null(strcasestr(b.head, "upgrade"));
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void the_backend_closing_ends_the_clients_side(void **state)
{
    backend b;
    backend_start(&b, CLOSES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void the_client_closing_ends_the_backends_side(void **state)
{
    backend b;
    backend_start(&b, ECHOES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    expect_echo(&c, "one");
    hp_test_close(&c);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

/* The client ends its sending side only: the backend hears it and still answers after it. */
static void a_half_close_passes_the_end_on_while_the_other_way_goes_on(void **state)
{
    backend b;
    backend_start(&b, SINK);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    assert_int_equal(hp_test_send_str(&c, "twelve bytes", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    shutdown(c.fd, SHUT_WR);
    assert_true(read_until_closed(&c, HP_TEST_DEADLINE_MS));
    assert_int_equal(c.len, 2);
    assert_memory_equal(c.buf, "12", 2);
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void a_large_upload_through_the_tunnel_keeps_resident_memory_flat(void **state)
{
    backend b;
    backend_start(&b, SINK);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    static char piece[256 << 10];
    memset(piece, 'u', sizeof piece);
    long before = hp_test_resident_bytes(), peak = before;
    for (size_t sent = 0; sent < BIG_BYTES; sent += sizeof piece) {
        assert_int_equal(hp_test_send(&c, piece, sizeof piece, 60000), HP_TEST_OK);
        long now = hp_test_resident_bytes();
        if (now > peak) peak = now;
    }
    shutdown(c.fd, SHUT_WR);
    assert_true(read_until_closed(&c, 60000));
    char expected[32];
    snprintf(expected, sizeof expected, "%u", BIG_BYTES);
    assert_int_equal(c.len, strlen(expected));
    assert_memory_equal(c.buf, expected, c.len);
    print_message("sent %u bytes through the tunnel; resident memory grew by %ld KiB at most\n",
                  BIG_BYTES, (peak - before) >> 10);
    assert_true(peak - before < RSS_GROWTH_MAX);
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void a_large_download_through_the_tunnel_keeps_resident_memory_flat(void **state)
{
    backend b;
    backend_start(&b, SOURCE);
    b.source_bytes = BIG_BYTES;
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 64 << 10, UPGRADE_REQUEST);
    static char sink[256 << 10];
    uint64_t got = c.len;
    bool pattern_ok = true;
    long before = hp_test_resident_bytes(), peak = before;
    int64_t deadline = hp_test_now_ms() + 60000;
    while (hp_test_now_ms() < deadline) {
        struct pollfd p = {.fd = c.fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0) continue;
        ssize_t n = read(c.fd, sink, sizeof sink);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i += 4096)
            pattern_ok &= sink[i] == (char)('a' + (got + (uint64_t)i) % (64 << 10) % 26);
        got += (uint64_t)n;
        long now = hp_test_resident_bytes();
        if (now > peak) peak = now;
    }
    print_message("received %llu bytes through the tunnel; resident memory grew by %ld KiB at "
                  "most\n",
                  (unsigned long long)got, (peak - before) >> 10);
    assert_int_equal(got, BIG_BYTES); /* then the end, passed on */
    assert_true(pattern_ok);
    assert_true(peak - before < RSS_GROWTH_MAX);
    hp_test_close(&c);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

/* True once the counter did not move for 300 ms. */
typedef struct quiet {
    atomic_ullong *counter;
    unsigned long long last;
    int64_t since;
} quiet;

static bool stays_quiet(void *data)
{
    quiet *q = data;
    unsigned long long now = atomic_load(q->counter);
    if (now != q->last) {
        q->last = now;
        q->since = hp_test_now_ms();
    }
    return hp_test_now_ms() - q->since >= 300;
}

static void a_client_that_does_not_read_makes_the_backends_writes_wait(void **state)
{
    backend b;
    backend_start(&b, SOURCE);
    b.source_bytes = 1ull << 30;
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 64 << 10, UPGRADE_REQUEST);
    quiet q = {.counter = &b.sent, .since = hp_test_now_ms()};
    assert_true(hp_test_poll_until(stays_quiet, &q, 20000));
    unsigned long long stalled = atomic_load(&b.sent);
    print_message("the backend's writes stalled after %llu KiB\n", stalled >> 10);
    assert_true(stalled < (64ull << 20)); /* socket buffers and one tunnel buffer, no more */
    /* reading again lets the backend go on */
    uint64_t got = 0;
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (atomic_load(&b.sent) <= stalled + (1u << 20) && hp_test_now_ms() < deadline) {
        got += hp_test_read_some(&c, 10);
        c.len = 0;
    }
    assert_true(atomic_load(&b.sent) > stalled + (1u << 20));
    hp_test_close(&c);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void the_server_stopping_closes_the_tunnel(void **state)
{
    backend b;
    backend_start(&b, ECHOES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    expect_echo(&c, "before the stop");
    engine_fixture_shutdown(f, 5000);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
    engine_fixture_stop(f, 5000);
    backend_stop(&b);
}

static bool old_version_gone(void *f)
{
    return engine_fixture_replaced(f);
}

static void the_server_being_replaced_closes_the_tunnel_at_once(void **state)
{
    backend b;
    backend_start(&b, ECHOES);
    engine_fixture *f = proxy_to(&b, 0);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    expect_echo(&c, "before the replace");
    int64_t start = hp_test_now_ms();
    engine_fixture_replace(f, proxy_handler(b.base.port, 0), 60000);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    assert_true(hp_test_poll_until(old_version_gone, f, HP_TEST_DEADLINE_MS));
    assert_true(hp_test_now_ms() - start < 30000); /* not at the drain's deadline */
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

static void an_idle_tunnel_is_closed_after_the_idle_timeout(void **state)
{
    backend b;
    backend_start(&b, ECHOES);
    engine_fixture *f = proxy_to(&b, 300);
    hp_test_conn c;
    open_tunnel(&c, f, 0, UPGRADE_REQUEST);
    expect_echo(&c, "then nothing");
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    assert_true(hp_test_poll_until(backend_saw_the_end, &b, HP_TEST_DEADLINE_MS));
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
    backend_stop(&b);
}

int main(void)
{
    /* As the hostpool command does: a write to a closed socket fails (EPIPE), not the process. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_websocket_handshake_passes_untouched_and_frames_echo),
        cmocka_unit_test(the_bytes_the_backend_sends_with_its_101_come_first),
        cmocka_unit_test(a_101_to_a_request_that_did_not_ask_is_a_502),
        cmocka_unit_test(the_backend_closing_ends_the_clients_side),
        cmocka_unit_test(the_client_closing_ends_the_backends_side),
        cmocka_unit_test(a_half_close_passes_the_end_on_while_the_other_way_goes_on),
        cmocka_unit_test(a_large_upload_through_the_tunnel_keeps_resident_memory_flat),
        cmocka_unit_test(a_large_download_through_the_tunnel_keeps_resident_memory_flat),
        cmocka_unit_test(a_client_that_does_not_read_makes_the_backends_writes_wait),
        cmocka_unit_test(the_server_stopping_closes_the_tunnel),
        cmocka_unit_test(the_server_being_replaced_closes_the_tunnel_at_once),
        cmocka_unit_test(an_idle_tunnel_is_closed_after_the_idle_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
