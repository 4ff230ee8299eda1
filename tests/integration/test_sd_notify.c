/* systemd's readiness protocol: `hostpool run` with NOTIFY_SOCKET set (the test binds that
 * datagram socket itself, as systemd would) says READY=1 once its servers are up, RELOADING=1
 * with MONOTONIC_USEC then READY=1 around a SIGHUP reload and STOPPING=1 when SIGTERM starts
 * the drain, each with STATUS=N of M servers running, in that order; a path and an abstract
 * ("@name") socket both work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hp_test.h"

/* Binds a datagram socket named `name` (a path, or "@name": abstract) and exports it as
 * NOTIFY_SOCKET for the daemon the test spawns next. */
static int bind_notify_socket(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    assert_true(len < sizeof addr.sun_path);
    memcpy(addr.sun_path, name, len);
    if (name[0] == '@') addr.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                     0);
    assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
    return fd;
}

/* The next datagram, waited for until the deadline; NUL-terminated in `buf`. */
static void receive(int fd, char *buf, size_t size)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, HP_TEST_DEADLINE_MS), 1);
    ssize_t n = recv(fd, buf, size - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void assert_receives(int fd, const char *want)
{
    char got[512];
    receive(fd, got, sizeof got);
    assert_string_equal(got, want);
}

/* Nothing more arrived (by the time the daemon exited, everything it sent is queued). */
static void assert_nothing_more(int fd)
{
    char got[512];
    assert_int_equal(recv(fd, got, sizeof got, MSG_DONTWAIT), -1);
}

/* `run` on a config of two servers, the second on a port the test holds: 1 of 2 runs. */
static void start_daemon(hp_test_server *srv, int *held)
{
    int port;
    *held = hp_test_hold_port(&port);
    assert_true(*held >= 0);
    char text[512], config[4200], admin[4200];
    int n = snprintf(
        text, sizeof text,
        "access_log: off\n"
        "servers:\n"
        "  - { name: up, listen: \"" HP_TEST_LISTEN "\", routes: [ { respond: { body: a } } ] }\n"
        "  - { name: taken, listen: \"127.0.0.1:%d\", routes: [ { respond: { body: b } } ] }\n",
        port);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pool.yaml", text, (size_t)n), 0);
    snprintf(config, sizeof config, "%s/pool.yaml", hp_test_temp_dir());
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    assert_int_equal(hp_test_server_startl(srv, "run", "--config", config, "--admin", admin, NULL),
                     0);
    assert_non_null(
        hp_test_server_stdout_until(srv, "1 of 2 servers running", HP_TEST_DEADLINE_MS));
    unsetenv("NOTIFY_SOCKET");
}

static void test_run_notifies_ready_reloading_and_stopping_in_order(void **state)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/notify.sock", hp_test_temp_dir());
    int fd = bind_notify_socket(path), held;
    hp_test_server srv;
    start_daemon(&srv, &held);
    assert_receives(fd, "READY=1\nSTATUS=1 of 2 servers running");

    assert_int_equal(hp_test_server_signal(&srv, SIGHUP), 0);
    char got[512];
    receive(fd, got, sizeof got);
    assert_true(hp_test_matches(got, "^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*\n"
                                     "STATUS=1 of 2 servers running$"));
    assert_receives(fd, "READY=1\nSTATUS=1 of 2 servers running");

    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_receives(fd, "STOPPING=1\nSTATUS=1 of 2 servers running");
    assert_nothing_more(fd);
    close(held);
    close(fd);
}

static void test_run_notifies_an_abstract_socket(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "@hostpool-test-notify-%ld", (long)getpid());
    int fd = bind_notify_socket(name), held;
    hp_test_server srv;
    start_daemon(&srv, &held);
    assert_receives(fd, "READY=1\nSTATUS=1 of 2 servers running");
    assert_int_equal(hp_test_server_stop(&srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    assert_receives(fd, "STOPPING=1\nSTATUS=1 of 2 servers running");
    close(held);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_notifies_ready_reloading_and_stopping_in_order),
        cmocka_unit_test(test_run_notifies_an_abstract_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
