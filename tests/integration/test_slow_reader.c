/* Slow readers: a client that stops reading a large response must neither lose bytes (the
 * server waits, with back-pressure) nor hold the server forever (--write-timeout closes it),
 * nor slow down other clients.
 *
 * The file is 16 MiB of pseudo-random bytes served by file-server. The client sets a small
 * SO_RCVBUF, so at most a few MiB (the server's send buffer) are in flight and back-pressure
 * reaches the server at once; a server that ignored a non-reading client would have to send
 * the whole file, which cannot fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define FILE_SIZE (16u * 1024 * 1024)
#define CLIENT_RCVBUF (16 * 1024)
#define GET_BIG "GET /big.bin HTTP/1.1\r\nHost: hostpool.test\r\n\r\n"

static hp_test_server srv;
static char root[4096];
static unsigned char *content;

static int create_files(void **state)
{
    snprintf(root, sizeof root, "%s/slow-reader-www", hp_test_temp_dir());
    content = malloc(FILE_SIZE);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < FILE_SIZE; i++) { /* xorshift64: no repeating pattern */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        content[i] = (unsigned char)x;
    }
    if (hp_test_write_file(root, "big.bin", content, FILE_SIZE) != 0) return -1;
    return hp_test_write_file(root, "small.txt", "small\n", 6);
}

static int free_files(void **state)
{
    free(content);
    return 0;
}

static int kill_server(void **state)
{
    hp_test_server_kill(&srv);
    return 0;
}

static void start(const char *extra_name, const char *extra_value)
{
    assert_int_equal(hp_test_server_startl(&srv, "file-server", "--listen", HP_TEST_LISTEN,
                                           "--root", root, "--no-access-log", "--workers", "1",
                                           extra_name, extra_value, NULL),
                     0);
}

static bool bytes_arrived(void *conn)
{
    return hp_test_pending_bytes(conn) > 0;
}

/* Connects with a small receive buffer, asks for the big file and waits until its first
 * bytes arrive (the server is sending). */
static void ask_for_big_file(hp_test_conn *conn)
{
    assert_int_equal(hp_test_connect_rcvbuf(conn, srv.port, CLIENT_RCVBUF, HP_TEST_DEADLINE_MS), 0);
    assert_int_equal(hp_test_send_str(conn, GET_BIG, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_true(hp_test_poll_until(bytes_arrived, conn, HP_TEST_DEADLINE_MS));
}

static void slow_reader_that_pauses_then_reads_gets_every_byte(void **state)
{
    start("--write-timeout", "30s");
    hp_test_conn conn;
    ask_for_big_file(&conn);
    hp_test_pause_ms(1000); /* pacing: the client does not read for a second */
    hp_test_response resp;
    assert_int_equal(hp_test_read_response(&conn, &resp, false, 30000), HP_TEST_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, FILE_SIZE);
    assert_memory_equal(resp.body, content, FILE_SIZE);
    hp_test_response_free(&resp);
    hp_test_close(&conn);
}

static void client_that_never_reads_is_closed_after_the_write_timeout(void **state)
{
    start("--write-timeout", "500ms");
    hp_test_conn conn;
    ask_for_big_file(&conn);
    hp_test_pause_ms(2000); /* pacing: not reading for four write timeouts */
    /* Now read what is left in the pipe: the server gave up, so it ends before the file. */
    hp_test_read_some(&conn, 10000);
    print_message("received %zu of %u bytes before the close\n", conn.len, FILE_SIZE);
    assert_true(conn.eof);
    assert_true(conn.len < FILE_SIZE);
    hp_test_close(&conn);
}

static void stalled_reader_does_not_delay_other_clients(void **state)
{
    start("--write-timeout", "30s"); /* one worker: the stall and the others share a loop */
    hp_test_conn stalled;
    ask_for_big_file(&stalled);
    for (int i = 0; i < 20; i++) {
        hp_test_response resp;
        assert_int_equal(
            hp_test_exchange(srv.port, "GET /small.txt HTTP/1.1\r\nHost: h\r\n\r\n", &resp, 1000),
            HP_TEST_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "small\n");
        hp_test_response_free(&resp);
    }
    hp_test_close(&stalled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(slow_reader_that_pauses_then_reads_gets_every_byte, kill_server),
        cmocka_unit_test_teardown(client_that_never_reads_is_closed_after_the_write_timeout,
                                  kill_server),
        cmocka_unit_test_teardown(stalled_reader_does_not_delay_other_clients, kill_server),
    };
    return cmocka_run_group_tests(tests, create_files, free_files);
}
