/* Streamed and file responses and the done callback, through the memory transport:
 * back-pressure on producers, stop() and done(false) when the client goes away, and the
 * sendfile fallback when the socket is full. */
#include "session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define ID1 "X-Request-Id: 00000000000000000001\r\n"

typedef struct observed {
    hp_request *req;
    unsigned proceeds, stops, dones;
    bool done_ok;
} observed;

static observed seen;

static void on_proceed(hp_request *req, void *data)
{
    seen.proceeds++;
}

static void on_stop(hp_request *req, void *data)
{
    seen.stops++;
}

static const hp_body_producer producer = {on_proceed, on_stop};

static void on_done(hp_request *req, bool ok, void *data)
{
    seen.dones++;
    seen.done_ok = ok;
}

static void start_stream(hp_request *req, void *data)
{
    seen.req = req;
    hp_request_on_done(req, on_done, NULL);
    hp_respond_stream(req, 200, -1, &producer, NULL);
}

static void start_fixed_stream(hp_request *req, void *data)
{
    seen.req = req;
    hp_request_on_done(req, on_done, NULL);
    hp_respond_stream(req, 200, 5, &producer, NULL);
}

static void hold(hp_request *req, void *data)
{
    seen.req = req;
    hp_request_on_done(req, on_done, NULL);
}

static void answer_ok(hp_request *req, void *data)
{
    hp_request_on_done(req, on_done, NULL);
    hp_respond(req, 200, "ok", 2);
}

static int setup(void **state)
{
    memset(&seen, 0, sizeof seen);
    return 0;
}

static void stream_producer_is_not_called_again_until_piece_written(void **state)
{
    session_fixture *f = session_fixture_create(start_stream, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(seen.proceeds, 0); /* the head is not written yet */
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(seen.proceeds, 1);
    hp_stream_send(seen.req, "abc", 3, false);
    assert_int_equal(f->m->queued_count, 1);
    assert_int_equal(seen.proceeds, 1); /* not until that piece is written */
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(seen.proceeds, 2);
    hp_stream_send(seen.req, "de", 2, true);
    assert_int_equal(seen.dones, 0);
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(seen.proceeds, 2);
    assert_int_equal(seen.dones, 1);
    assert_true(seen.done_ok);
    assert_int_equal(seen.stops, 0);
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" ID1 "\r\n"
                        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void stream_pieces_written_at_once_are_asked_for_without_recursion(void **state)
{
    session_fixture *f = session_fixture_create(start_stream, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(seen.proceeds, 1);
    for (int i = 0; i < 1000; i++) hp_stream_send(seen.req, "x", 1, false);
    assert_int_equal(seen.proceeds, 1001);
    hp_stream_send(seen.req, NULL, 0, true);
    assert_int_equal(seen.dones, 1);
    assert_int_equal(mem_transport_count(f->m, "1\r\nx\r\n"), 1000);
    session_fixture_destroy(f);
}

static void stream_stop_called_when_client_goes_away(void **state)
{
    session_fixture *f = session_fixture_create(start_stream, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(seen.proceeds, 1);
    mem_transport_read_error(f->m);
    assert_int_equal(seen.stops, 1);
    assert_int_equal(seen.proceeds, 1);
    assert_int_equal(seen.dones, 1);
    assert_false(seen.done_ok);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void stream_stop_called_when_write_fails(void **state)
{
    session_fixture *f = session_fixture_create(start_stream, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_true(mem_transport_complete_write(f->m, 0));
    hp_stream_send(seen.req, "abc", 3, false);
    assert_true(mem_transport_complete_write(f->m, -32 /* EPIPE */));
    assert_int_equal(seen.stops, 1);
    assert_int_equal(seen.proceeds, 1);
    assert_int_equal(seen.dones, 1);
    assert_false(seen.done_ok);
    assert_true(f->m->closed);
    session_fixture_destroy(f);
}

static void done_callback_reports_abort(void **state)
{
    session_fixture *f = session_fixture_create(hold, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(seen.dones, 0);
    mem_transport_read_error(f->m);
    assert_int_equal(seen.dones, 1);
    assert_false(seen.done_ok);
    assert_true(f->m->closed);
    assert_int_equal(f->m->out_len, 0);
    session_fixture_destroy(f);
}

static void done_callback_reports_success_after_last_byte(void **state)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(seen.dones, 0); /* written only when the queue empties */
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(seen.dones, 1);
    assert_true(seen.done_ok);
    session_fixture_destroy(f);
}

#define FILE_LEN 100000

static int file_fd = -1;
static char file_data[FILE_LEN];

static void answer_file(hp_request *req, void *data)
{
    hp_request_on_done(req, on_done, NULL);
    hp_respond_file(req, 200, file_fd, 0, FILE_LEN);
}

static int file_setup(void **state)
{
    memset(&seen, 0, sizeof seen);
    char path[] = "/tmp/test_session_bodies.XXXXXX";
    file_fd = mkstemp(path);
    assert_true(file_fd >= 0);
    unlink(path);
    for (size_t i = 0; i < FILE_LEN; i++) file_data[i] = (char)('a' + (i * 7) % 26);
    assert_int_equal(write(file_fd, file_data, FILE_LEN), FILE_LEN);
    return 0;
}

static int file_teardown(void **state)
{
    close(file_fd);
    return 0;
}

static void assert_file_response(session_fixture *f)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n" ID1 "\r\n";
    const char *out = session_fixture_output(f);
    assert_int_equal(strlen(out), sizeof head - 1 + FILE_LEN);
    assert_memory_equal(out, head, sizeof head - 1);
    assert_memory_equal(out + sizeof head - 1, file_data, FILE_LEN);
    assert_int_equal(seen.dones, 1);
    assert_true(seen.done_ok);
}

static void file_goes_out_with_sendfile_while_socket_takes_it(void **state)
{
    session_fixture *f = session_fixture_create(answer_file, NULL);
    mem_transport_feed_str(f->m, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_file_response(f);
    assert_int_equal(f->m->write_calls, 1); /* the head only */
    assert_int_equal(f->m->sendfile_calls, (FILE_LEN + 4095) / 4096);
    session_fixture_destroy(f);
}

static void sendfile_falls_back_to_chunks_when_socket_full(void **state)
{
    session_fixture *f = session_fixture_create(answer_file, NULL);
    f->m->sendfile_blocks = true;
    f->m->hold_writes = true;
    mem_transport_feed_str(f->m, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(f->m->sendfile_calls, 0); /* not before the head is written */
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(f->m->sendfile_calls, 1); /* would block: a 64 KiB chunk is queued */
    assert_int_equal(f->m->queued_count, 1);
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_int_equal(f->m->sendfile_calls, 2); /* sendfile is tried again first */
    assert_true(mem_transport_complete_write(f->m, 0));
    assert_false(mem_transport_complete_write(f->m, 0));
    assert_file_response(f);
    assert_int_equal(f->m->write_calls, 3);
    session_fixture_destroy(f);
}

static void answer_file_longer_than_it_is(hp_request *req, void *data)
{
    hp_request_on_done(req, on_done, NULL);
    hp_respond_file(req, 200, file_fd, FILE_LEN - 10, 20);
}

static void file_shorter_than_promised_aborts_exchange(void **state)
{
    for (int blocks = 0; blocks < 2; blocks++) { /* through sendfile, then through pread */
        memset(&seen, 0, sizeof seen);
        session_fixture *f = session_fixture_create(answer_file_longer_than_it_is, NULL);
        f->m->sendfile_blocks = blocks;
        mem_transport_feed_str(f->m, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_int_equal(seen.dones, 1);
        assert_false(seen.done_ok);
        assert_true(f->m->closed);
        session_fixture_destroy(f);
    }
}

static void head_file_response_sends_no_body(void **state)
{
    session_fixture *f = session_fixture_create(answer_file, NULL);
    mem_transport_feed_str(f->m, "HEAD /f HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_string_equal(session_fixture_output(f),
                        "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n" ID1 "\r\n");
    assert_int_equal(f->m->sendfile_calls, 0);
    assert_int_equal(seen.dones, 1);
    assert_true(seen.done_ok);
    assert_false(f->m->closed);
    session_fixture_destroy(f);
}

static void fixed_length_stream_sending_too_much_is_cut_off_before_the_extra_bytes(void **state)
{
    session_fixture *f = session_fixture_create(start_fixed_stream, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    hp_stream_send(seen.req, "0123456789", 10, false);
    assert_true(f->m->closed);
    const char *out = session_fixture_output(f);
    assert_non_null(strstr(out, "Content-Length: 5\r\n"));
    assert_null(strstr(out, "01234")); /* not one body byte of the broken promise */
    assert_int_equal(seen.dones, 1);
    assert_false(seen.done_ok);
    session_fixture_destroy(f);
}

static void fixed_length_stream_ending_short_closes_the_connection(void **state)
{
    session_fixture *f = session_fixture_create(start_fixed_stream, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    hp_stream_send(seen.req, "abc", 3, false);
    assert_false(f->m->closed);
    hp_stream_send(seen.req, "d", 1, true);
    assert_true(f->m->closed);
    assert_false(seen.done_ok);
    session_fixture_destroy(f);
}

static void fixed_length_stream_of_exact_length_completes(void **state)
{
    session_fixture *f = session_fixture_create(start_fixed_stream, NULL);
    mem_transport_feed_str(f->m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    hp_stream_send(seen.req, "abc", 3, false);
    hp_stream_send(seen.req, "de", 2, true);
    assert_false(f->m->closed);
    assert_non_null(strstr(session_fixture_output(f), "\r\n\r\nabcde"));
    assert_true(seen.done_ok);
    session_fixture_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(stream_producer_is_not_called_again_until_piece_written, setup),
        cmocka_unit_test_setup(stream_pieces_written_at_once_are_asked_for_without_recursion,
                               setup),
        cmocka_unit_test_setup(stream_stop_called_when_client_goes_away, setup),
        cmocka_unit_test_setup(stream_stop_called_when_write_fails, setup),
        cmocka_unit_test_setup(done_callback_reports_abort, setup),
        cmocka_unit_test_setup(done_callback_reports_success_after_last_byte, setup),
        cmocka_unit_test_setup_teardown(file_goes_out_with_sendfile_while_socket_takes_it,
                                        file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(sendfile_falls_back_to_chunks_when_socket_full, file_setup,
                                        file_teardown),
        cmocka_unit_test_setup_teardown(file_shorter_than_promised_aborts_exchange, file_setup,
                                        file_teardown),
        cmocka_unit_test_setup_teardown(head_file_response_sends_no_body, file_setup,
                                        file_teardown),
        cmocka_unit_test_setup_teardown(
            fixed_length_stream_sending_too_much_is_cut_off_before_the_extra_bytes, setup, NULL),
        cmocka_unit_test_setup_teardown(fixed_length_stream_ending_short_closes_the_connection,
                                        setup, NULL),
        cmocka_unit_test_setup_teardown(fixed_length_stream_of_exact_length_completes, setup, NULL),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
