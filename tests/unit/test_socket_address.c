/* Listen address parsing and SO_REUSEPORT socket sets (src/io/socket.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "io/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <uv.h>

static void ipv4_and_port_parse(void **state)
{
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address("127.0.0.1:8080", &a), 0);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 8080);
}

static void bracketed_ipv6_parses(void **state)
{
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address("[::1]:9000", &a), 0);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&a)->sin6_port), 9000);
}

static void bare_port_means_all_interfaces(void **state)
{
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address(":8081", &a), 0);
    assert_int_equal(((struct sockaddr_in *)&a)->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(hp__socket_parse_address("8082", &a), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 8082);
}

static void bad_addresses_are_refused(void **state)
{
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address("127.0.0.1:70000", &a), HP_EADDR);
    assert_int_equal(hp__socket_parse_address("127.0.0.1:", &a), HP_EADDR);
    assert_int_equal(hp__socket_parse_address("example.com:80", &a), HP_EADDR);
    assert_int_equal(hp__socket_parse_address("[::1:80", &a), HP_EADDR);
    assert_int_equal(hp__socket_parse_address("1.2.3.4:8x", &a), HP_EADDR);
}

static void port_zero_gives_every_worker_the_same_free_port(void **state)
{
    struct sockaddr_storage a;
    int fds[3], port = 0;
    assert_int_equal(hp__socket_parse_address("127.0.0.1:0", &a), 0);
    assert_int_equal(hp__socket_listen_many(&a, 3, fds, &port), 0);
    assert_true(port > 0);
    for (int i = 0; i < 3; i++) {
        struct sockaddr_in got;
        socklen_t len = sizeof got;
        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&got, &len), 0);
        assert_int_equal(ntohs(got.sin_port), port);
        close(fds[i]);
    }
}

static void port_held_without_reuseport_is_in_use(void **state)
{
    int holder = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(holder, (struct sockaddr *)&in, sizeof in), 0);
    assert_int_equal(listen(holder, 1), 0);
    socklen_t len = sizeof in;
    getsockname(holder, (struct sockaddr *)&in, &len);
    struct sockaddr_storage a = {0};
    *(struct sockaddr_in *)&a = in;
    int fds[2], port;
    assert_int_equal(hp__socket_listen_many(&a, 2, fds, &port), UV_EADDRINUSE);
    close(holder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_and_port_parse),
        cmocka_unit_test(bracketed_ipv6_parses),
        cmocka_unit_test(bare_port_means_all_interfaces),
        cmocka_unit_test(bad_addresses_are_refused),
        cmocka_unit_test(port_zero_gives_every_worker_the_same_free_port),
        cmocka_unit_test(port_held_without_reuseport_is_in_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
