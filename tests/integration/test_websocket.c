/* The websocket handler in the daemon (`websocket: {echo: {}}` routes), driven by a real client
 * (Debian's python3-websockets: tests/data/ws/client.py) for what clients do, and by raw
 * frames (hp_test_ws.h) for what they cannot: bad handshakes, unmasked frames, invalid UTF-8,
 * reserved opcodes and bits, a frame too long; the ping interval and the drain's 1001 are read
 * off the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test_admin.h"
#include "hp_test_ws.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp_test_server srv;

static const char config_text[] =
    "workers: 2\n"
    "servers:\n"
    "  - name: ws\n"
    "    listen: 127.0.0.1:0\n"
    "    routes:\n"
    "      - match: { path: /echo }\n"
    "        websocket: { echo: {}, compression: true }\n"
    "      - match: { path: /small }\n"
    "        websocket: { echo: {}, max_message: 1KiB }\n"
    "      - match: { path: /idle }\n"
    "        websocket: { echo: {}, idle_timeout: 300ms, ping_interval: 0 }\n"
    "      - match: { path: /ping }\n"
    "        websocket: { echo: {}, ping_interval: 200ms }\n"
    "      - match: { path: /metrics }\n"
    "        metrics: {}\n"
    "      - respond: { body: plain }\n";

static int start_daemon(void **state)
{
    char path[4200], admin[4300];
    if (hp_test_write_file(hp_test_temp_dir(), "ws.yaml", config_text, strlen(config_text)) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/ws.yaml", hp_test_temp_dir());
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    return hp_test_server_startl(&srv, "run", "--config", path, "--admin", admin, NULL) == 0 ? 0
                                                                                             : -1;
}

static int stop_daemon(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

/* Runs client.py's `scenario`; asserts it passed. */
static void python_client(const char *scenario)
{
    char script[4200], port[16];
    snprintf(script, sizeof script, "%s/ws/client.py", hp_test_data_dir());
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"/usr/bin/python3", script, port, scenario, NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, 20000);
    if (r.status != 0) fprintf(stderr, "client.py %s: %s%s\n", scenario, r.out, r.err);
    assert_int_equal(r.status, 0);
    hp_test_run_free(&r);
}

static void a_real_client_gets_text_binary_and_fragmented_messages_echoed(void **state)
{
    python_client("echo");
}

static void compression_is_negotiated_without_context_takeover_and_works(void **state)
{
    python_client("compression");
}

static void a_message_over_max_message_closes_with_1009(void **state)
{
    python_client("too_big");
}

static void an_idle_connection_closes_with_1001(void **state)
{
    python_client("idle");
}

static void open_ws(hp_test_conn *c, const char *path)
{
    assert_int_equal(hp_test_connect(c, srv.port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_handshake(c, path), 101);
}

/* Sends one raw frame on a new connection; returns the close code the server answers. */
static int close_code_after(uint8_t first, bool masked, const void *payload, size_t len)
{
    hp_test_conn c;
    open_ws(&c, "/echo");
    assert_int_equal(hp_test_ws_send(&c, first, masked, payload, len), HP_TEST_OK);
    int code = hp_test_ws_close_code(&c, HP_TEST_DEADLINE_MS);
    hp_test_close(&c);
    return code;
}

static void an_unmasked_client_frame_closes_with_1002(void **state)
{
    assert_int_equal(close_code_after(0x81, false, "hi", 2), 1002);
}

static void text_that_is_not_utf8_closes_with_1007(void **state)
{
    assert_int_equal(close_code_after(0x81, true, "ok\xc0\xaf", 4), 1007);
}

static void a_reserved_opcode_closes_with_1002(void **state)
{
    assert_int_equal(close_code_after(0x83, true, "x", 1), 1002);
    assert_int_equal(close_code_after(0x8b, true, "", 0), 1002);
}

static void rsv_bits_without_an_extension_close_with_1002(void **state)
{
    assert_int_equal(close_code_after(0x80 | 0x40 | 0x1, true, "x", 1), 1002);
}

static void a_continuation_outside_a_message_closes_with_1002(void **state)
{
    assert_int_equal(close_code_after(0x80, true, "x", 1), 1002);
}

static void an_invalid_close_code_closes_with_1002(void **state)
{
    assert_int_equal(close_code_after(0x88, true, "\x03\xed", 2), 1002); /* 1005 */
}

static void a_frame_longer_than_max_message_closes_with_1009_before_it_is_read(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/small");
    /* The header alone announces 1 MiB: no byte of it needs to come. */
    const unsigned char head[] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4};
    assert_int_equal(hp_test_send(&c, head, sizeof head, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_ws_close_code(&c, HP_TEST_DEADLINE_MS), 1009);
    hp_test_close(&c);
}

static void a_frame_sent_a_byte_at_a_time_is_echoed(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/echo");
    unsigned char frame[] = {0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1};
    assert_int_equal(hp_test_send_trickle(&c, frame, sizeof frame, 1, 0), (ssize_t)sizeof frame);
    hp_test_ws_frame f;
    assert_true(hp_test_ws_read(&c, &f, HP_TEST_DEADLINE_MS));
    assert_int_equal(f.first, 0x81);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.payload, "hello", 5);
    hp_test_close(&c);
}

static void a_quiet_connection_gets_a_ping_every_interval(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/ping");
    hp_test_ws_frame f;
    int64_t start = hp_test_now_ms();
    assert_true(hp_test_ws_read(&c, &f, HP_TEST_DEADLINE_MS));
    assert_int_equal(f.first, 0x89);
    assert_true(hp_test_now_ms() - start >= 150);
    assert_int_equal(hp_test_ws_send(&c, 0x8a, true, "", 0), HP_TEST_OK); /* the pong */
    assert_true(hp_test_ws_read(&c, &f, HP_TEST_DEADLINE_MS));
    assert_int_equal(f.first, 0x89);
    hp_test_close(&c);
}

static void ping_is_answered_with_its_payload(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/echo");
    assert_int_equal(hp_test_ws_send(&c, 0x89, true, "abc", 3), HP_TEST_OK);
    hp_test_ws_frame f;
    assert_true(hp_test_ws_read(&c, &f, HP_TEST_DEADLINE_MS));
    assert_int_equal(f.first, 0x8a);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.payload, "abc", 3);
    hp_test_close(&c);
}

/* A request that is not a valid handshake gets `status` and stays HTTP. */
static void refused(const char *request, int status)
{
    hp_test_response r;
    assert_int_equal(hp_test_exchange(srv.port, request, &r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, status);
    if (status == 426)
        assert_string_equal(hp_test_response_header(&r, "Sec-WebSocket-Version"), "13");
    if (status == 400) assert_non_null(strstr(r.body, "\"error\""));
    hp_test_response_free(&r);
}

#define HANDSHAKE_REST "Upgrade: websocket\r\nConnection: Upgrade\r\n"

static void bad_handshakes_get_400_or_426(void **state)
{
    refused("GET /echo HTTP/1.1\r\nHost: t\r\n" HANDSHAKE_REST
            "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
            400); /* a key of 5 bytes */
    refused("GET /echo HTTP/1.1\r\nHost: t\r\n" HANDSHAKE_REST "Sec-WebSocket-Version: 13\r\n\r\n",
            400); /* no key */
    refused("GET /echo HTTP/1.1\r\nHost: t\r\n" HANDSHAKE_REST
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            426);
    refused("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n" HANDSHAKE_REST
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            400);
    refused("GET /echo HTTP/1.0\r\nHost: t\r\n" HANDSHAKE_REST
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            400);
    refused("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", 400); /* plain HTTP */
}

static void the_accept_key_answers_the_key(void **state)
{
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, srv.port, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_send_str(&c,
                                      "GET /echo HTTP/1.1\r\nHost: t\r\n" HANDSHAKE_REST
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Sec-WebSocket-Version: 13\r\n\r\n",
                                      HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 101);
    assert_string_equal(hp_test_response_header(&r, "Sec-WebSocket-Accept"),
                        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_null(hp_test_response_header(&r, "Sec-WebSocket-Extensions")); /* none offered */
    hp_test_response_free(&r);
    hp_test_close(&c);
}

/* The value of the sample `name` (with its labels) in the server's /metrics, or -1. */
static long long metric(const char *sample)
{
    return hp_test_metric(srv.port, sample);
}

static void metrics_count_connections_messages_bytes_and_closes(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/echo");
    assert_int_equal(metric("hostpool_websocket_connections{server=\"ws\"}"), 1);
    assert_true(metric("hostpool_websocket_messages_total{server=\"ws\",direction=\"in\"}") >= 6);
    assert_true(metric("hostpool_websocket_messages_total{server=\"ws\",direction=\"out\"}") >= 6);
    assert_true(metric("hostpool_websocket_bytes_total{server=\"ws\",direction=\"in\"}") > 60000);
    assert_int_equal(metric("hostpool_websocket_dropped_total{server=\"ws\"}"), 0);
    assert_true(metric("hostpool_websocket_closes_total{server=\"ws\",code=\"1002\"}") >= 5);
    assert_int_equal(metric("hostpool_websocket_closes_total{server=\"ws\",code=\"1007\"}"), 1);
    assert_int_equal(metric("hostpool_websocket_closes_total{server=\"ws\",code=\"4001\"}"), -1);
    assert_true(metric("hostpool_websocket_closes_total{server=\"ws\",code=\"other\"}") >= 1);
    hp_test_close(&c);
}

/* Last: the daemon's drain (SIGTERM) closes an open WebSocket with 1001 and then exits. */
static void the_daemons_drain_closes_websockets_with_1001(void **state)
{
    hp_test_conn c;
    open_ws(&c, "/echo");
    assert_int_equal(hp_test_server_signal(&srv, SIGTERM), 0);
    assert_int_equal(hp_test_ws_close_code(&c, HP_TEST_DEADLINE_MS), 1001);
    assert_int_equal(hp_test_ws_send(&c, 0x88, true, "\x03\xe9", 2), HP_TEST_OK);
    assert_int_equal(hp_test_server_wait(&srv, HP_TEST_DEADLINE_MS), 0);
    hp_test_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_real_client_gets_text_binary_and_fragmented_messages_echoed),
        cmocka_unit_test(compression_is_negotiated_without_context_takeover_and_works),
        cmocka_unit_test(a_message_over_max_message_closes_with_1009),
        cmocka_unit_test(an_idle_connection_closes_with_1001),
        cmocka_unit_test(an_unmasked_client_frame_closes_with_1002),
        cmocka_unit_test(text_that_is_not_utf8_closes_with_1007),
        cmocka_unit_test(a_reserved_opcode_closes_with_1002),
        cmocka_unit_test(rsv_bits_without_an_extension_close_with_1002),
        cmocka_unit_test(a_continuation_outside_a_message_closes_with_1002),
        cmocka_unit_test(an_invalid_close_code_closes_with_1002),
        cmocka_unit_test(a_frame_longer_than_max_message_closes_with_1009_before_it_is_read),
        cmocka_unit_test(a_frame_sent_a_byte_at_a_time_is_echoed),
        cmocka_unit_test(a_quiet_connection_gets_a_ping_every_interval),
        cmocka_unit_test(ping_is_answered_with_its_payload),
        cmocka_unit_test(bad_handshakes_get_400_or_426),
        cmocka_unit_test(the_accept_key_answers_the_key),
        cmocka_unit_test(metrics_count_connections_messages_bytes_and_closes),
        cmocka_unit_test(the_daemons_drain_closes_websockets_with_1001),
    };
    return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
