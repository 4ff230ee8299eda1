/* A program that embeds the library and keeps SIGPIPE's default action (the engine in-process,
 * engine_fixture.h) is not killed when a worker writes to a socket whose peer is gone: SIGPIPE
 * is blocked on the worker threads, so the write fails with EPIPE. The handler makes that write
 * itself, on the worker, to a socket pair whose other end it closed, and answers with what the
 * write returned; without the block the signal kills the test process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine_fixture.h"
#include "hp_test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Writes to a socket whose peer is closed, on the worker; answers "EPIPE" when it failed so. */
static void write_to_a_closed_peer(hp_request *req, void *data)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
        hp_respond(req, 500, "socketpair", 10);
        return;
    }
    close(pair[1]);
    ssize_t n = write(pair[0], "x", 1);
    int err = errno;
    close(pair[0]);
    char text[64];
    int len = snprintf(text, sizeof text, "%s", n < 0 && err == EPIPE ? "EPIPE" : "no EPIPE");
    hp_respond(req, 200, text, (size_t)len);
}

static void a_write_to_a_gone_peer_on_a_worker_fails_with_epipe_not_a_signal(void **state)
{
    signal(SIGPIPE, SIG_DFL);
    engine_fixture *f =
        engine_fixture_start(hp_callback_handler_create(write_to_a_closed_peer, NULL), 0);
    hp_test_response r;
    assert_int_equal(hp_test_exchange(engine_fixture_port(f), HP_TEST_GET, &r, HP_TEST_DEADLINE_MS),
                     HP_TEST_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "EPIPE");
    hp_test_response_free(&r);
    engine_fixture_stop(f, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_write_to_a_gone_peer_on_a_worker_fails_with_epipe_not_a_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
