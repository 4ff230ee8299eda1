/* A streamed request body over real sockets, with the engine in-process (engine_fixture.h):
 * a 100 MiB upload to a handler that reads slowly keeps the process's resident memory flat
 * (back-pressure: the engine holds a read buffer, never the body), and a client that resets
 * the connection in the middle of an upload, while the handler works on a piece and has not
 * asked for the next, is reported to the handler at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hp_test.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UPLOAD_BYTES (100u << 20)
#define RSS_GROWTH_MAX (16 << 20)
#define SEND_PIECE (64 << 10)

/* The handler's side, on the worker thread. */
static atomic_ullong received;
static atomic_int pieces, errors, last_error, dones, done_failed;
static atomic_bool pull_each_piece; /* false: takes one piece, then works on it for ever */

static void on_data(hp_request *req, void *data, const void *bytes, size_t len);
static void on_error(hp_request *req, void *data, int err);
static const hp_body_consumer consumer = {on_data, on_error};

static void on_data(hp_request *req, void *data, const void *bytes, size_t len)
{
    if (len == 0) {
        char text[32];
        int n = snprintf(text, sizeof text, "%llu", (unsigned long long)atomic_load(&received));
        hp_respond_copy(req, 200, text, (size_t)n);
        return;
    }
    atomic_fetch_add(&received, len);
    atomic_fetch_add(&pieces, 1);
    if (!atomic_load(&pull_each_piece)) return;
    usleep(200); /* the handler's own work on the piece: it reads slower than the client sends */
    hp_request_body_pull(req, &consumer, NULL);
}

static void on_error(hp_request *req, void *data, int err)
{
    atomic_store(&last_error, err);
    atomic_fetch_add(&errors, 1);
}

static void on_done(hp_request *req, bool ok, void *data)
{
    if (!ok) atomic_store(&done_failed, 1);
    atomic_fetch_add(&dones, 1);
}

static void consume(hp_request *req, void *data)
{
    hp_request_on_done(req, on_done, NULL);
    hp_request_body_pull(req, &consumer, NULL);
}

static engine_fixture *start(bool pull_each)
{
    atomic_store(&received, 0);
    atomic_store(&pieces, 0);
    atomic_store(&errors, 0);
    atomic_store(&dones, 0);
    atomic_store(&done_failed, 0);
    atomic_store(&pull_each_piece, pull_each);
    hp_handler *h = hp_callback_handler_create(consume, NULL);
    h->stream_request_body = true;
    engine_fixture *f = engine_fixture_start(h, 2ull * UPLOAD_BYTES);
    assert_non_null(f);
    return f;
}

static void a_100_mib_upload_to_a_slow_reader_keeps_resident_memory_flat(void **state)
{
    engine_fixture *f = start(true);
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    char head[128];
    snprintf(head, sizeof head, "PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %u\r\n\r\n",
             UPLOAD_BYTES);
    assert_int_equal(hp_test_send_str(&c, head, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    static char piece[SEND_PIECE];
    memset(piece, 'u', sizeof piece);
    long before = hp_test_resident_bytes(), peak = before;
    for (size_t sent = 0; sent < UPLOAD_BYTES; sent += SEND_PIECE) {
        assert_int_equal(hp_test_send(&c, piece, SEND_PIECE, HP_TEST_DEADLINE_MS), HP_TEST_OK);
        if (sent % (4u << 20) == 0) {
            long now = hp_test_resident_bytes();
            if (now > peak) peak = now;
        }
    }
    hp_test_response r;
    assert_int_equal(hp_test_read_response(&c, &r, false, 60000), HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(strtoull(r.body, NULL, 10), UPLOAD_BYTES);
    hp_test_response_free(&r);
    print_message("resident memory grew by %ld KiB at most over %d pieces\n", (peak - before) >> 10,
                  atomic_load(&pieces));
    assert_true(peak - before < RSS_GROWTH_MAX);
    assert_int_equal(atomic_load(&errors), 0);
    hp_test_close(&c);
    engine_fixture_stop(f, 1000);
}

static bool flag_set(void *flag)
{
    return atomic_load((atomic_int *)flag) != 0;
}

static void a_client_reset_mid_upload_is_reported_at_once(void **state)
{
    engine_fixture *f = start(false);
    hp_test_conn c;
    assert_int_equal(hp_test_connect(&c, engine_fixture_port(f), HP_TEST_DEADLINE_MS), HP_TEST_OK);
    const char *request = "PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"
                          "the first piece";
    assert_int_equal(hp_test_send_str(&c, request, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_poll_until(flag_set, &pieces, HP_TEST_DEADLINE_MS));
    /* The handler works on its piece; more of the body arrives, then the client resets. */
    assert_int_equal(hp_test_send_str(&c, "more body", HP_TEST_DEADLINE_MS), HP_TEST_OK);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
    hp_test_close(&c);
    assert_true(hp_test_poll_until(flag_set, &done_failed, HP_TEST_DEADLINE_MS));
    assert_int_equal(atomic_load(&errors), 1);
    assert_int_equal(atomic_load(&last_error), -ECONNRESET);
    assert_int_equal(atomic_load(&dones), 1);
    engine_fixture_stop(f, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_100_mib_upload_to_a_slow_reader_keeps_resident_memory_flat),
        cmocka_unit_test(a_client_reset_mid_upload_is_reported_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
