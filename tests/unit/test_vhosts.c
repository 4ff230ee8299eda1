/* Host name patterns (src/core/host_name.c) and virtual-host tables (src/http/vhosts.c): how a
 * request's Host picks one of the servers sharing a listen address, and sessions routed through
 * such a table (src/http/session.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mem_transport.h"

#include "common/str.h"
#include "core/host_name.h"
#include "hostpool/errors.h"
#include "http/vhosts.h"

#include <string.h>
#include <uv.h>

static hp_str s(const char *text)
{
    return hp__str(text, strlen(text));
}

/* A server named `name` answering its name on every path, claiming `hosts` (NULL-ended). */
static hp_server *make_server(const char *name, const char *const *hosts)
{
    static const char *const listen[] = {"127.0.0.1:8080"};
    size_t n = 0;
    while (hosts && hosts[n]) n++;
    hp_route_config route = {.handler =
                                 hp_respond_handler_create(200, name, strlen(name), NULL, 0)};
    hp_server_config c = {.name = name,
                          .listen = listen,
                          .listen_count = 1,
                          .hosts = hosts,
                          .host_count = n,
                          .routes = &route,
                          .route_count = 1};
    hp_limits_init(&c.limits);
    hp_server *server;
    assert_int_equal(hp_server_create(&c, &server, NULL, 0), 0);
    return server;
}

static void host_values_lose_their_port_and_trailing_dot(void **state)
{
    hp_str h = hp__host_strip(s("Example.COM.:8080"));
    assert_int_equal(h.len, strlen("Example.COM"));
    assert_memory_equal(h.base, "Example.COM", h.len);
    h = hp__host_strip(s("[::1]:8080"));
    assert_int_equal(h.len, 5);
    assert_int_equal(hp__host_strip(s("")).len, 0);
}

static void a_wildcard_matches_subdomains_but_not_its_own_suffix(void **state)
{
    assert_int_equal(hp__host_match("*.example.com", s("a.example.com")), strlen(".example.com"));
    assert_int_equal(hp__host_match("*.example.com", s("a.b.EXAMPLE.com")), strlen(".example.com"));
    assert_int_equal(hp__host_match("*.example.com", s("example.com")), -1);
    assert_int_equal(hp__host_match("*.example.com", s("badexample.com")), -1);
    assert_int_equal(hp__host_match("example.com", s("EXAMPLE.com")), HP__HOST_EXACT);
    assert_true(hp__host_pattern_valid("*.example.com"));
    assert_false(hp__host_pattern_valid("*example.com"));
    assert_false(hp__host_pattern_valid("a.*.com"));
    assert_false(hp__host_pattern_valid("-a.com"));
}

static void exact_beats_the_longest_wildcard_which_beats_shorter_ones_then_the_default(void **state)
{
    static const char *const api[] = {"api.example.com", NULL};
    static const char *const wide[] = {"*.example.com", NULL};
    static const char *const narrow[] = {"*.eu.example.com", NULL};
    hp_server *servers[] = {make_server("wide", wide), make_server("api", api),
                            make_server("narrow", narrow), make_server("default", NULL)};
    hp__vhosts *v = hp__vhosts_create((const hp_server *const *)servers, 4, 1);
    assert_ptr_equal(hp__vhosts_route(v, s("api.example.com")), servers[1]);
    assert_ptr_equal(hp__vhosts_route(v, s("API.Example.com:443")), servers[1]);
    assert_ptr_equal(hp__vhosts_route(v, s("www.eu.example.com")), servers[2]);
    assert_ptr_equal(hp__vhosts_route(v, s("www.example.com.")), servers[0]);
    assert_ptr_equal(hp__vhosts_route(v, s("example.org")), servers[3]);
    assert_ptr_equal(hp__vhosts_route(v, s("")), servers[3]);
    assert_ptr_equal(v->head, servers[3]); /* the default server's limits read heads */
    hp__vhosts_release(v);
    for (int i = 0; i < 4; i++) hp_server_destroy(servers[i]);
}

static void without_a_default_an_unclaimed_host_reaches_no_server(void **state)
{
    static const char *const a[] = {"a.localhost", NULL};
    static const char *const b[] = {"b.localhost", NULL};
    hp_server *servers[] = {make_server("a", a), make_server("b", b)};
    hp__vhosts *v = hp__vhosts_create((const hp_server *const *)servers, 2, 1);
    assert_ptr_equal(hp__vhosts_route(v, s("b.localhost")), servers[1]);
    assert_null(hp__vhosts_route(v, s("c.localhost")));
    assert_ptr_equal(v->head, servers[0]); /* no default: the first server to start */
    hp__vhosts_release(v);
    hp_server_destroy(servers[0]);
    hp_server_destroy(servers[1]);
}

static void a_second_default_or_a_host_claimed_twice_conflicts(void **state)
{
    static const char *const a[] = {"a.localhost", "*.apps.localhost", NULL};
    static const char *const again[] = {"x.localhost", "*.apps.localhost", NULL};
    static const char *const other[] = {"b.localhost", NULL};
    hp_server *first = make_server("first", a), *dflt = make_server("default", NULL);
    const hp_server *there[] = {first, dflt};
    hp_server *second_default = make_server("second", NULL);
    hp_server *clash = make_server("clash", again), *fine = make_server("fine", other);
    char err[200];
    assert_int_equal(hp__vhosts_conflict(there, 2, second_default, err, sizeof err), UV_EADDRINUSE);
    assert_non_null(strstr(err, "default"));
    assert_non_null(strstr(err, "server default"));
    assert_int_equal(hp__vhosts_conflict(there, 2, clash, err, sizeof err), UV_EADDRINUSE);
    assert_non_null(strstr(err, "*.apps.localhost"));
    assert_non_null(strstr(err, "server first"));
    assert_int_equal(hp__vhosts_conflict(there, 2, fine, err, sizeof err), 0);
    hp_server *all[] = {first, dflt, second_default, clash, fine};
    for (int i = 0; i < 5; i++) hp_server_destroy(all[i]);
}

static void host_patterns_are_checked_and_lowered_when_a_server_is_created(void **state)
{
    static const char *const listen[] = {"127.0.0.1:8080"};
    static const char *const bad[] = {"not a host"};
    static const char *const mixed[] = {"Blue.LocalHost"};
    hp_server_config c = {
        .name = "x", .listen = listen, .listen_count = 1, .hosts = bad, .host_count = 1};
    hp_limits_init(&c.limits);
    hp_server *server;
    char err[200];
    assert_int_equal(hp_server_create(&c, &server, err, sizeof err), HP_ECONFIG);
    assert_non_null(strstr(err, "hosts[0]"));
    c.hosts = mixed;
    assert_int_equal(hp_server_create(&c, &server, NULL, 0), 0);
    assert_string_equal(hp_server_host(server, 0), "blue.localhost");
    assert_int_equal(hp_server_host_count(server), 1);
    hp_server_destroy(server);
}

/* ---- sessions on a shared listener -------------------------------------------------------- */

typedef struct shared {
    hp__http_context ctx;
    hp_server *blue, *green;
    hp__vhosts *vhosts;
    mem_transport *m;
} shared;

static void shared_open(shared *sh, bool with_default)
{
    static const char *const blue[] = {"blue.localhost", NULL};
    static const char *const green[] = {"green.localhost", NULL};
    memset(sh, 0, sizeof *sh);
    hp__http_context_init(&sh->ctx, 0);
    sh->blue = make_server("blue", blue);
    sh->green = make_server("green", with_default ? NULL : green);
    const hp_server *servers[] = {sh->blue, sh->green};
    sh->vhosts = hp__vhosts_create(servers, 2, 1);
    sh->m = mem_transport_create_vhosts(&sh->ctx, sh->vhosts);
}

static void shared_close(shared *sh)
{
    assert_int_equal(sh->m->violations, 0);
    mem_transport_destroy(sh->m);
    hp__vhosts_release(sh->vhosts);
    hp_server_destroy(sh->blue);
    hp_server_destroy(sh->green);
    hp__http_context_close(&sh->ctx);
}

static void one_keep_alive_connection_reaches_each_server_its_requests_name(void **state)
{
    shared sh;
    shared_open(&sh, false);
    mem_transport_feed_str(sh.m, "GET / HTTP/1.1\r\nHost: blue.localhost\r\n\r\n"
                                 "GET / HTTP/1.1\r\nHost: GREEN.localhost:8080\r\n\r\n"
                                 "GET / HTTP/1.1\r\nHost: blue.localhost\r\n\r\n");
    const char *first = strstr(sh.m->out, "\r\n\r\nblue");
    const char *second = first ? strstr(first + 4, "\r\n\r\ngreen") : NULL;
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(strstr(second + 4, "\r\n\r\nblue"));
    assert_false(sh.m->closed);
    shared_close(&sh);
}

static void a_host_no_server_claims_gets_421_when_the_listener_has_no_default(void **state)
{
    shared sh;
    shared_open(&sh, false);
    mem_transport_feed_str(sh.m, "GET / HTTP/1.1\r\nHost: red.localhost\r\n\r\n");
    static const char status[] = "HTTP/1.1 421 Misdirected Request\r\n";
    assert_memory_equal(sh.m->out, status, sizeof status - 1);
    assert_non_null(strstr(sh.m->out, "Connection: close\r\n"));
    shared_close(&sh);
}

static void a_host_no_server_claims_goes_to_the_default_server(void **state)
{
    shared sh;
    shared_open(&sh, true);
    mem_transport_feed_str(sh.m, "GET / HTTP/1.0\r\n\r\n");
    static const char status[] = "HTTP/1.1 200 OK\r\n";
    assert_memory_equal(sh.m->out, status, sizeof status - 1);
    assert_non_null(strstr(sh.m->out, "\r\n\r\ngreen"));
    shared_close(&sh);
}

static void an_absolute_form_target_is_routed_by_its_authority(void **state)
{
    shared sh;
    shared_open(&sh, false);
    mem_transport_feed_str(sh.m,
                           "GET http://green.localhost/x HTTP/1.1\r\nHost: blue.localhost\r\n\r\n");
    assert_non_null(strstr(sh.m->out, "\r\n\r\ngreen"));
    shared_close(&sh);
}

static void assert_refused_with_400(shared *sh)
{
    static const char status[] = "HTTP/1.1 400 Bad Request\r\n";
    assert_memory_equal(sh->m->out, status, sizeof status - 1);
    assert_null(strstr(sh->m->out, "blue"));
    assert_null(strstr(sh->m->out, "green"));
    assert_true(sh->m->closed);
}

/* Two Host lines naming two servers: neither is taken (RFC 9112 §3.2). */
static void two_hosts_naming_two_servers_are_refused_not_routed(void **state)
{
    shared sh;
    shared_open(&sh, true);
    mem_transport_feed_str(sh.m, "GET / HTTP/1.1\r\nHost: blue.localhost\r\n"
                                 "Host: green.localhost\r\n\r\n");
    assert_refused_with_400(&sh);
    shared_close(&sh);
}

/* The target's authority routes, but it must be valid: a userinfo hides the real authority
 * (RFC 9110 §4.2.4), so it is refused rather than routed to either server. */
static void an_absolute_form_authority_with_a_userinfo_is_refused(void **state)
{
    shared sh;
    shared_open(&sh, true);
    mem_transport_feed_str(sh.m, "GET http://blue.localhost@green.localhost/x HTTP/1.1\r\n"
                                 "Host: green.localhost\r\n\r\n");
    assert_refused_with_400(&sh);
    shared_close(&sh);
}

/* The authority wins over Host for routing, but Host must still be valid. */
static void an_absolute_form_target_does_not_excuse_an_invalid_host(void **state)
{
    shared sh;
    shared_open(&sh, true);
    mem_transport_feed_str(sh.m,
                           "GET http://green.localhost/x HTTP/1.1\r\nHost: blue/localhost\r\n\r\n");
    assert_refused_with_400(&sh);
    shared_close(&sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_values_lose_their_port_and_trailing_dot),
        cmocka_unit_test(a_wildcard_matches_subdomains_but_not_its_own_suffix),
        cmocka_unit_test(
            exact_beats_the_longest_wildcard_which_beats_shorter_ones_then_the_default),
        cmocka_unit_test(without_a_default_an_unclaimed_host_reaches_no_server),
        cmocka_unit_test(a_second_default_or_a_host_claimed_twice_conflicts),
        cmocka_unit_test(host_patterns_are_checked_and_lowered_when_a_server_is_created),
        cmocka_unit_test(one_keep_alive_connection_reaches_each_server_its_requests_name),
        cmocka_unit_test(a_host_no_server_claims_gets_421_when_the_listener_has_no_default),
        cmocka_unit_test(a_host_no_server_claims_goes_to_the_default_server),
        cmocka_unit_test(an_absolute_form_target_is_routed_by_its_authority),
        cmocka_unit_test(two_hosts_naming_two_servers_are_refused_not_routed),
        cmocka_unit_test(an_absolute_form_authority_with_a_userinfo_is_refused),
        cmocka_unit_test(an_absolute_form_target_does_not_excuse_an_invalid_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
