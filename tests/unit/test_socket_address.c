/* Listen addresses and SO_REUSEPORT socket sets (src/io/socket.c): the one syntax of an
 * address, read the same by the engine, the config and the command line (what each form binds,
 * why a bad one is refused), which addresses overlap for a bind, the URL that reaches an address
 * from this machine, and the trial bind that tells whether someone listens on an address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "io/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

/* `text` parses to `family`, the address `host` (inet_ntop's form) and `port`. */
static void assert_binds(const char *text, int family, const char *host, int port)
{
    struct sockaddr_storage a;
    char why[160] = "";
    int rc = hp__socket_check_address(text, &a, why, sizeof why);
    if (rc != 0) fail_msg("%s: %s", text, why);
    assert_int_equal(a.ss_family, family);
    assert_int_equal(hp__socket_address_port(&a), port);
    char shown[INET6_ADDRSTRLEN];
    const void *in = family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr
                                        : (const void *)&((struct sockaddr_in *)&a)->sin_addr;
    assert_non_null(inet_ntop(family, in, shown, sizeof shown));
    assert_string_equal(shown, host);
}

static void assert_refused(const char *text, const char *why_expected)
{
    struct sockaddr_storage a;
    char why[160] = "";
    assert_int_not_equal(hp__socket_check_address(text, &a, why, sizeof why), 0);
    assert_string_equal(why, why_expected);
    assert_int_not_equal(hp__socket_parse_address(text, &a), 0);
}

static void every_form_binds_what_the_docs_say(void **state)
{
    assert_binds("127.0.0.1:8080", AF_INET, "127.0.0.1", 8080);
    assert_binds("localhost:8080", AF_INET, "127.0.0.1", 8080);
    assert_binds("127.0.0.1:08080", AF_INET, "127.0.0.1", 8080);
    assert_binds("*:8080", AF_INET, "0.0.0.0", 8080);
    assert_binds(":8080", AF_INET, "0.0.0.0", 8080);
    assert_binds("0.0.0.0:8080", AF_INET, "0.0.0.0", 8080);
    assert_binds("8080", AF_INET, "0.0.0.0", 8080); /* as nginx reads `listen 8080` */
    assert_binds("0", AF_INET, "0.0.0.0", 0);
    assert_binds("127.0.0.1:0", AF_INET, "127.0.0.1", 0);
    assert_binds("[::1]:8080", AF_INET6, "::1", 8080);
    assert_binds("[::]:65535", AF_INET6, "::", 65535);
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address("unix:/run/x.sock", &a), 0);
    assert_int_equal(a.ss_family, AF_UNIX);
    assert_string_equal(((struct sockaddr_un *)&a)->sun_path, "/run/x.sock");
    assert_int_equal(hp__socket_address_port(&a), 0);
}

static void a_bad_address_is_refused_with_the_reason(void **state)
{
    assert_refused("", "expected host:port, [ipv6]:port, a port or unix:PATH, got \"\"");
    assert_refused("nowhere", "expected host:port, [ipv6]:port, a port or unix:PATH, got "
                              "\"nowhere\"");
    assert_refused(" 8080", "expected host:port, [ipv6]:port, a port or unix:PATH, got \" 8080\"");
    assert_refused("127.0.0.1:", "\"\" is not a port");
    assert_refused("127.0.0.1:+80", "\"+80\" is not a port");
    assert_refused("127.0.0.1:http", "\"http\" is not a port");
    assert_refused("127.0.0.1:70000", "port 70000 out of range");
    assert_refused("127.0.0.1:000008080", "port 000008080 out of range");
    assert_refused("70000", "port 70000 out of range");
    assert_refused("example.com:80", "host \"example.com\" is not an IP address, localhost or *");
    assert_refused("::1:8080", "an IPv6 address is written in brackets: [::1]:8080");
    assert_refused("[::1]", "expected [ipv6]:port, got \"[::1]\"");
    assert_refused("[::1]:99999", "port 99999 out of range");
    assert_refused("[1.2.3.4]:80", "\"1.2.3.4\" is not an IPv6 address");
    assert_refused("unix:", "a unix: address needs a path (unix:hostpool.sock)");
    char long_path[200] = "unix:";
    memset(long_path + 5, 'x', 150);
    assert_refused(long_path, "the path is longer than 107 bytes");
}

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage a;
    assert_int_equal(hp__socket_parse_address(text, &a), 0);
    return a;
}

static void addresses_overlap_on_one_port_when_equal_or_one_is_a_wildcard(void **state)
{
    struct sockaddr_storage any = addr("*:8080"), lo = addr("127.0.0.1:8080"),
                            lo2 = addr("127.0.0.2:8080"), v6 = addr("[::]:8080"),
                            other = addr("*:8081"), sock = addr("unix:x.sock");
    assert_true(hp__socket_addresses_overlap(&any, &lo));
    assert_true(hp__socket_addresses_overlap(&lo, &any));
    assert_true(hp__socket_addresses_overlap(&lo, &lo));
    assert_false(hp__socket_addresses_overlap(&lo, &lo2));
    assert_false(hp__socket_addresses_overlap(&any, &v6)); /* IPv6 is bound IPv6-only */
    assert_false(hp__socket_addresses_overlap(&any, &other));
    assert_false(hp__socket_addresses_overlap(&sock, &sock));
}

static void the_url_host_of_a_wildcard_is_loopback_and_says_what_it_binds(void **state)
{
    char host[64];
    struct sockaddr_storage a = addr("8080");
    assert_string_equal(hp__socket_url_host(&a, host, sizeof host), "every IPv4 address");
    assert_string_equal(host, "127.0.0.1");
    a = addr("[::]:8080");
    assert_string_equal(hp__socket_url_host(&a, host, sizeof host), "every IPv6 address");
    assert_string_equal(host, "[::1]");
    a = addr("10.1.2.3:80");
    assert_null(hp__socket_url_host(&a, host, sizeof host));
    assert_string_equal(host, "10.1.2.3");
    a = addr("[fe80::1]:80");
    assert_null(hp__socket_url_host(&a, host, sizeof host));
    assert_string_equal(host, "[fe80::1]");
}

static void port_zero_gives_every_worker_the_same_free_port(void **state)
{
    struct sockaddr_storage a = addr("127.0.0.1:0");
    int fds[3], port = 0;
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

/* A SO_REUSEPORT group lets any socket of the same user join it; the trial bind does not. */
static void the_trial_bind_fails_on_a_reuseport_group_and_not_once_it_closed(void **state)
{
    struct sockaddr_storage a = addr("127.0.0.1:0");
    int fds[2], port;
    assert_int_equal(hp__socket_listen_many(&a, 2, fds, &port), 0);
    hp__socket_address_set_port(&a, port);
    int more[2], again;
    assert_int_equal(hp__socket_listen_many(&a, 2, more, &again), 0); /* what the probe stops */
    close(more[0]);
    close(more[1]);
    assert_int_equal(hp__socket_probe(&a), UV_EADDRINUSE);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(hp__socket_probe(&a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_form_binds_what_the_docs_say),
        cmocka_unit_test(a_bad_address_is_refused_with_the_reason),
        cmocka_unit_test(addresses_overlap_on_one_port_when_equal_or_one_is_a_wildcard),
        cmocka_unit_test(the_url_host_of_a_wildcard_is_loopback_and_says_what_it_binds),
        cmocka_unit_test(port_zero_gives_every_worker_the_same_free_port),
        cmocka_unit_test(port_held_without_reuseport_is_in_use),
        cmocka_unit_test(the_trial_bind_fails_on_a_reuseport_group_and_not_once_it_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
