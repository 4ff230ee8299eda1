/* systemd's notify socket (src/cli/sd_notify.c): NOTIFY_SOCKET is taken out of the
 * environment whatever it names, so no program the daemon starts inherits it; a path and an
 * abstract name are used, anything else (vsock:, a relative name, one too long for a unix
 * address) is not, and then nothing is sent; each message carries its STATUS line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/sd_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void test_an_unusable_notify_socket_is_ignored_and_unset(void **state)
{
    char too_long[200];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[0] = '/';
    too_long[sizeof too_long - 1] = '\0';
    const char *names[] = {"vsock:2:1234", "relative.sock", "@", too_long};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        setenv("NOTIFY_SOCKET", names[i], 1);
        hp__sd_notify n;
        hp__sd_notify_init(&n);
        assert_int_equal(n.fd, -1);
        assert_null(getenv("NOTIFY_SOCKET"));
        hp__sd_notify_ready(&n, 1, 1); /* a no-op */
        hp__sd_notify_close(&n);
    }
}

static void test_without_notify_socket_nothing_is_opened(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    hp__sd_notify n;
    hp__sd_notify_init(&n);
    assert_int_equal(n.fd, -1);
    hp__sd_notify_stopping(&n, 0, 0);
    hp__sd_notify_close(&n);
}

static void test_an_abstract_socket_receives_ready_with_its_status_and_is_unset(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "@hostpool-unit-notify-%ld", (long)getpid());
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, name, strlen(name));
    addr.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name))),
                     0);
    setenv("NOTIFY_SOCKET", name, 1);
    hp__sd_notify n;
    hp__sd_notify_init(&n);
    assert_null(getenv("NOTIFY_SOCKET"));
    hp__sd_notify_ready(&n, 3, 4);
    char got[256];
    ssize_t len = recv(fd, got, sizeof got - 1, MSG_DONTWAIT); /* a local datagram: queued */
    assert_true(len > 0);
    got[len] = '\0';
    assert_string_equal(got, "READY=1\nSTATUS=3 of 4 servers running");
    hp__sd_notify_close(&n);
    assert_int_equal(n.fd, -1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_unusable_notify_socket_is_ignored_and_unset),
        cmocka_unit_test(test_without_notify_socket_nothing_is_opened),
        cmocka_unit_test(test_an_abstract_socket_receives_ready_with_its_status_and_is_unset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
