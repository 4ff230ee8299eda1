/* Worker loops: --workers N gives N threads besides the control thread, each with its own
 * SO_REUSEPORT listening socket on the same port, and the kernel spreads connections over
 * them (the worker index is visible in generated request ids, characters 8-9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

#define WORKERS 3

static hp_test_server srv;

static int start_server(void **state)
{
    return hp_test_server_start_respond(&srv, "--workers", "3", "--no-access-log", NULL);
}

static int stop_server(void **state)
{
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static int count_threads(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Listening sockets (state 0A) on 127.0.0.1:port in /proc/net/tcp. */
static int count_listeners(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return -1;
    char line[512], local[32];
    snprintf(local, sizeof local, "0100007F:%04X", port);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char addr[64], remote[64], st[8];
        if (sscanf(line, " %*d: %63s %63s %7s", addr, remote, st) == 3 &&
            strcmp(addr, local) == 0 && strcmp(st, "0A") == 0)
            n++;
    }
    fclose(f);
    return n;
}

static void each_worker_is_a_thread_with_its_own_listening_socket(void **state)
{
    assert_true(count_threads(srv.pid) >= WORKERS + 1);
    assert_int_equal(count_listeners(srv.port), WORKERS);
}

static void connections_are_spread_over_the_workers(void **state)
{
    bool seen[256] = {false};
    int distinct = 0;
    for (int i = 0; i < 60; i++) {
        hp_test_response r;
        assert_int_equal(hp_test_exchange(srv.port, HP_TEST_GET, &r, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        const char *id = hp_test_response_header(&r, "X-Request-Id");
        assert_non_null(id);
        assert_int_equal(strlen(id), 20);
        char worker_hex[3] = {id[8], id[9], 0};
        unsigned w = (unsigned)strtoul(worker_hex, NULL, 16);
        assert_true(w < WORKERS);
        if (!seen[w]) seen[w] = true, distinct++;
        hp_test_response_free(&r);
    }
    assert_true(distinct >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_worker_is_a_thread_with_its_own_listening_socket),
        cmocka_unit_test(connections_are_spread_over_the_workers),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
