/* Clashes between the servers of one config on a shared listen address
 * (src/config/config_clash.c): two default servers, a host pattern claimed twice, an address
 * listed twice by one server; each at the later entry, naming the earlier server. Addresses
 * are compared as bound; what may share an address loads. */
#include "config_fixture.h"
#include "hp_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void assert_errors(const char *name, const char *text, const char *expected)
{
    char *got = config_fixture_load_errors(name, text);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_loads(const char *name, const char *text, size_t servers)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = config_fixture_load(name, text, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(config->server_count, servers);
    hp__config_destroy(config);
    hp__config_errors_close(&errs);
}

static void a_second_default_server_on_an_address_is_an_error_naming_the_first(void **state)
{
    assert_errors("defaults.yaml",
                  "servers:\n"
                  "  - { name: site, listen: 127.0.0.1:8080 }\n"
                  "  - { name: zeros, listen: 127.0.0.1:08080 }\n"
                  "  - name: named\n"
                  "    listen: [127.0.0.1:9000, localhost:8080]\n",
                  "defaults.yaml:3:28: servers[1].listen: 127.0.0.1:8080 already has a default "
                  "server (one without hosts): servers[0] (site)\n"
                  "defaults.yaml:5:30: servers[2].listen[1]: 127.0.0.1:8080 already has a "
                  "default server (one without hosts): servers[0] (site)\n");
}

static void a_host_claimed_twice_on_an_address_names_the_pattern_and_the_other_server(void **state)
{
    assert_errors("hosts.yaml",
                  "servers:\n"
                  "  - name: blue\n"
                  "    listen: 127.0.0.1:8082\n"
                  "    hosts: [blue.localhost, \"*.apps.localhost\"]\n"
                  "  - name: again\n"
                  "    listen: [auto, 127.0.0.1:8082]\n"
                  "    hosts: [green.localhost, Blue.Localhost, \"*.APPS.localhost\"]\n",
                  "hosts.yaml:7:30: servers[1].hosts[1]: \"blue.localhost\" on 127.0.0.1:8082 is "
                  "already claimed by servers[0] (blue)\n"
                  "hosts.yaml:7:46: servers[1].hosts[2]: \"*.apps.localhost\" on 127.0.0.1:8082 "
                  "is already claimed by servers[0] (blue)\n");
}

static void an_address_listed_twice_by_one_server_is_an_error(void **state)
{
    assert_errors("twice.yaml",
                  "servers:\n"
                  "  - name: twice\n"
                  "    listen: [127.0.0.1:9000, auto, \"127.0.0.1:9000\"]\n",
                  "twice.yaml:3:36: servers[0].listen[2]: listed twice: the same address as "
                  "servers[0].listen[0] (127.0.0.1:9000)\n");
}

static void every_way_to_write_all_addresses_is_one_address(void **state)
{
    assert_errors("any.yaml",
                  "servers:\n"
                  "  - { name: star, listen: \"*:8080\" }\n"
                  "  - { name: empty, listen: \":8080\" }\n"
                  "  - { name: zeros, listen: 0.0.0.0:8080 }\n",
                  "any.yaml:3:28: servers[1].listen: *:8080 already has a default server (one "
                  "without hosts): servers[0] (star)\n"
                  "any.yaml:4:28: servers[2].listen: *:8080 already has a default server (one "
                  "without hosts): servers[0] (star)\n");
}

static void clashes_in_json_have_positions_too(void **state)
{
    assert_errors("clash.json",
                  "{\"servers\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:8080\"},\n"
                  "              {\"name\": \"b\", \"listen\": \"127.0.0.1:8080\"}]}\n",
                  "clash.json:2:39: servers[1].listen: 127.0.0.1:8080 already has a default "
                  "server (one without hosts): servers[0] (a)\n");
}

static void servers_with_different_hosts_and_one_default_share_an_address(void **state)
{
    assert_loads("vhosts.yaml",
                 "servers:\n"
                 "  - { name: blue, listen: 127.0.0.1:8082, hosts: blue.localhost }\n"
                 "  - { name: green, listen: 127.0.0.1:8082, hosts: green.localhost }\n"
                 "  - { name: apps, listen: 127.0.0.1:8082, hosts: \"*.apps.localhost\" }\n"
                 "  - { name: one-app, listen: 127.0.0.1:8082, hosts: a.apps.localhost }\n"
                 "  - { name: default, listen: 127.0.0.1:8082 }\n"
                 "  - { name: blue-too, listen: 127.0.0.1:8083, hosts: blue.localhost }\n"
                 "  - { name: default-too, listen: 127.0.0.1:8083 }\n",
                 7);
}

static void auto_and_port_zero_never_share_an_address(void **state)
{
    assert_loads("own.yaml",
                 "servers:\n"
                 "  - { name: a, listen: [auto, 127.0.0.1:0] }\n"
                 "  - { name: b, listen: [auto, 127.0.0.1:0, auto] }\n",
                 2);
}

/* The kernel gives a connection to the most specific listening socket: 127.0.0.1:8080 takes
 * every connection to 127.0.0.1, *:8080 the rest (see config_clash.h). */
static void a_specific_address_and_all_addresses_on_one_port_do_not_clash(void **state)
{
    assert_loads("specific.yaml",
                 "servers:\n"
                 "  - { name: any, listen: \"*:8080\" }\n"
                 "  - { name: loopback, listen: 127.0.0.1:8080 }\n"
                 "  - { name: v6, listen: \"[::]:8080\" }\n",
                 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_default_server_on_an_address_is_an_error_naming_the_first),
        cmocka_unit_test(a_host_claimed_twice_on_an_address_names_the_pattern_and_the_other_server),
        cmocka_unit_test(an_address_listed_twice_by_one_server_is_an_error),
        cmocka_unit_test(every_way_to_write_all_addresses_is_one_address),
        cmocka_unit_test(clashes_in_json_have_positions_too),
        cmocka_unit_test(servers_with_different_hosts_and_one_default_share_an_address),
        cmocka_unit_test(auto_and_port_zero_never_share_an_address),
        cmocka_unit_test(a_specific_address_and_all_addresses_on_one_port_do_not_clash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
