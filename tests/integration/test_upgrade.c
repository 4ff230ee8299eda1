/* Upgrade over real sockets, with the engine in-process (engine_fixture.h): on a keep-alive
 * connection an ordinary request, then a request a handler upgrades to an echo protocol, with
 * bytes pipelined right after it in the same send: they are echoed after the 101 head, and so
 * is what follows; an engine shutdown reaches the upgraded connection (its drain), which
 * closes it; a replace of the server drains it at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hp_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int opens, drains, closes;

static void echo_open(hp_upgraded *u, void *data)
{
    atomic_fetch_add(&opens, 1);
}

/* The bytes read are borrowed for the call: a write that is queued keeps a copy, and reading
 * waits until it is written (back-pressure). `data` is the connection's `char *` slot. */
static void echo_read(hp_upgraded *u, void *data, const char *bytes, size_t len)
{
    char **pending = data;
    char *copy = malloc(len);
    memcpy(copy, bytes, len);
    if (hp_upgraded_write(u, copy, len) != 0) {
        free(copy); /* written, or the connection failed (on_close came) */
        return;
    }
    *pending = copy;
    hp_upgraded_read_stop(u);
}

static void echo_write_done(hp_upgraded *u, void *data)
{
    char **pending = data;
    free(*pending);
    *pending = NULL;
    hp_upgraded_read_start(u);
}

static void echo_drain(hp_upgraded *u, void *data)
{
    atomic_fetch_add(&drains, 1);
    hp_upgraded_close(u);
}

static void echo_close(hp_upgraded *u, void *data, int status)
{
    char **pending = data;
    free(*pending);
    free(pending);
    atomic_fetch_add(&closes, 1);
}

static const hp_upgrade_protocol echo = {
    .on_open = echo_open,
    .on_read = echo_read,
    .on_write_done = echo_write_done,
    .on_drain = echo_drain,
    .on_close = echo_close,
};

static void upgrade_or_answer(hp_request *req, void *data)
{
    char **pending = calloc(1, sizeof *pending);
    if (hp_request_upgrade(req, "echo", &echo, pending) == 0) return;
    free(pending);
    hp_respond(req, 200, "plain", 5);
}

static bool at_least_one(void *counter)
{
    return atomic_load((atomic_int *)counter) > 0;
}

/* Reads until `n` bytes are buffered, polling in short reads, for the default deadline. */
static void read_exactly(hp_test_conn *c, size_t n)
{
    int64_t deadline = hp_test_now_ms() + HP_TEST_DEADLINE_MS;
    while (c->len < n && !c->eof && hp_test_now_ms() < deadline) hp_test_read_some(c, 20);
    assert_int_equal(c->len, n);
}

static engine_fixture *start_echo_server(void)
{
    atomic_store(&opens, 0);
    atomic_store(&drains, 0);
    atomic_store(&closes, 0);
    engine_fixture *f =
        engine_fixture_start(hp_callback_handler_create(upgrade_or_answer, NULL), 0);
    assert_non_null(f);
    return f;
}

static void an_upgrade_on_a_keep_alive_connection_echoes_the_pipelined_bytes(void **state)
{
    engine_fixture *f = start_echo_server();
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_send_str(&c, HP_TEST_GET, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&c, &r, false, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "plain");
    hp_test_response_free(&r);

    const char *upgrade = "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\n"
                          "Connection: Upgrade\r\n\r\nfirst bytes";
    assert_int_equal(hp_test_send_str(&c, upgrade, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(hp_test_read_response(&c, &r, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 101);
    assert_true(hp_test_response_header_has(&r, "Connection", "upgrade"));
    assert_string_equal(hp_test_response_header(&r, "Upgrade"), "echo");
    hp_test_response_free(&r);
    read_exactly(&c, strlen("first bytes"));
    assert_memory_equal(c.buf, "first bytes", c.len);
    c.len = 0;
    assert_int_equal(hp_test_send_str(&c, "GET / HTTP/1.1\r\n\r\n", HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    read_exactly(&c, 18);
    assert_memory_equal(c.buf, "GET / HTTP/1.1\r\n\r\n", 18); /* echoed, not parsed */
    c.len = 0;
    assert_int_equal(atomic_load(&opens), 1);

    /* The shutdown drains the worker: the protocol hears it and closes (lingering: the
     * client sees the end, then closes its side, which lets the worker end). */
    engine_fixture_shutdown(f, 5000);
    assert_true(hp_test_poll_until(at_least_one, &closes, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&drains), 1);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&c);
    engine_fixture_stop(f, 5000);
}

static bool old_version_gone(void *f)
{
    return engine_fixture_replaced(f);
}

/* An upgraded connection belongs to the server whose handler took it. A replace keeps the
 * socket (the listener does not drain its connections), yet the old version's upgraded
 * connection is drained at once, not at the stop's deadline (far beyond this test's), and
 * the old version is gone when it closed. */
static void a_replace_drains_the_old_versions_upgraded_connections_at_once(void **state)
{
    engine_fixture *f = start_echo_server();
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    const char *upgrade = "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\n"
                          "Connection: Upgrade\r\n\r\n";
    assert_int_equal(hp_test_send_str(&c, upgrade, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, true, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_int_equal(r.status, 101);
    hp_test_response_free(&r);

    engine_fixture_replace(f, hp_callback_handler_create(upgrade_or_answer, NULL), 60000);
    assert_true(hp_test_poll_until(at_least_one, &closes, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&drains), 1);
    assert_int_equal(hp_test_wait_closed(&c, HP_TEST_DEADLINE_MS), HP_TEST_CLOSED);
    hp_test_close(&c);
    assert_true(hp_test_poll_until(old_version_gone, f, HP_TEST_DEADLINE_MS));
    engine_fixture_stop(f, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_upgrade_on_a_keep_alive_connection_echoes_the_pipelined_bytes),
        cmocka_unit_test(a_replace_drains_the_old_versions_upgraded_connections_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
