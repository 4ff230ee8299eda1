/* Field syntax (src/http/field_syntax.c): tokens, field lines and Host values, each byte class
 * checked against the RFC's own list written out here, every byte value swept. */
#include "http/field_syntax.h"

#include "common/str.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* RFC 9110 §5.6.2, spelt out. */
static bool reference_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void a_token_is_made_of_exactly_the_tchar_bytes(void **state)
{
    for (int c = 0; c < 256; c++) {
        char s[3] = {'a', (char)c, 'b'};
        size_t expect = reference_tchar(c) ? 3 : 1;
        if (hp__token_length(s, 3) != expect) fail_msg("byte 0x%02x", c);
    }
    assert_int_equal(hp__token_length("", 0), 0);
    assert_int_equal(hp__token_length("GET /", 5), 3);
}

static void a_field_name_is_one_or_more_tchar(void **state)
{
    hp_str v = HP_STR_LIT("foo");
    assert_true(hp__field_valid(HP_STR_LIT("X-Probe"), v));
    assert_true(hp__field_valid(HP_STR_LIT("!#$%&'*+-.^_`|~09AZaz"), v));
    assert_false(hp__field_valid(HP_STR_LIT(""), v));
    assert_false(hp__field_valid(HP_STR_LIT("X-Probe "), v));
    assert_false(hp__field_valid(HP_STR_LIT(" X-Probe"), v));
    assert_false(hp__field_valid(HP_STR_LIT("X-Probe\t"), v));
    assert_false(hp__field_valid(HP_STR_LIT("X Probe"), v));
    assert_false(hp__field_valid(HP_STR_LIT("X:Probe"), v));
    for (int c = 0; c < 256; c++) {
        char name[2] = {'X', (char)c};
        if (hp__field_valid(hp__str(name, 2), v) != reference_tchar(c)) fail_msg("byte 0x%02x", c);
    }
}

static void a_field_value_holds_no_control_but_htab(void **state)
{
    hp_str name = HP_STR_LIT("X");
    for (int c = 0; c < 256; c++) {
        char value[3] = {'a', (char)c, 'b'};
        bool expect = c == '\t' || (c >= 0x20 && c != 0x7f); /* VCHAR, SP, obs-text */
        if (hp__field_valid(name, hp__str(value, 3)) != expect) fail_msg("byte 0x%02x", c);
        if (hp__field_value_valid(hp__str(value, 3)) != expect) fail_msg("byte 0x%02x", c);
    }
    assert_true(hp__field_valid(name, HP_STR_LIT("")));
    assert_true(hp__field_valid(name, HP_STR_LIT("  surrounded by whitespace\t")));
    assert_false(hp__field_valid(name, HP_STR_LIT("folded\r\n line"))); /* obs-fold */
}

typedef struct host_case {
    const char *host;
    bool valid;
} host_case;

static const host_case host_cases[] = {
    /* reg-name */
    {"example.com", true},
    {"EXAMPLE.com", true},
    {"example.com:8080", true},
    {"example.com.", true},
    {"localhost", true},
    {"a-b_c~d!$&'()*+,;=e", true},
    {"ex%61mple.com", true},
    {"ex%6Fmple.com", true},
    {"ex%6gmple.com", false},
    {"example.co%6", false},
    {"example.co%", false},
    {"a..example.com", false},
    {"exa mple.com", false},
    {"bad/host", false},
    {"bad\\host", false},
    {"example.com?x", false},
    {"example.com#x", false},
    {"example.com\"", false},
    {"ex\xc3\xa4mple.com", false},
    /* IPv4address (a reg-name as far as syntax goes) */
    {"127.0.0.1", true},
    {"127.0.0.1:80", true},
    /* IP-literal */
    {"[::1]", true},
    {"[::1]:8080", true},
    {"[2001:DB8::1]", true},
    {"[::ffff:127.0.0.1]", true},
    {"[v1.fe:x]", true},
    {"[V1A.x]", true},
    {"[v1.]", false},
    {"[v.x]", false},
    {"[vz.x]", false},
    {"[::1", false},
    {"[]", false},
    {"[::1::2]", false},
    {"[fe80::1%25eth0]", false},
    {"[127.0.0.1]", false},
    {"[0000:0000:0000:0000:0000:ffff:255.255.255.255]", true}, /* the longest text form */
    {"[1111:2222:3333:4444:5555:6666:7777:8888:9999]", false},
    {"[0000:0000:0000:0000:0000:0000:255.255.255.255:1]", false},
    {"[::1]x", false},
    {"[::1]:80x", false},
    {"::1", false},
    /* port */
    {"example.com:0", true},
    {"example.com:65535", true},
    {"example.com:065535", true},
    {"example.com:08080", true},
    {"example.com:", true},
    {"[::1]:", true},
    {"example.com:65536", false},
    {"example.com:99999999999999999999", false},
    {"example.com:80a", false},
    {"example.com:-1", false},
    {"example.com:80:81", false},
    {"example.com: 80", false},
    /* no host, userinfo */
    {"", false},
    {":8080", false},
    {":", false},
    {"u@example.com", false},
    {"u:p@example.com", false},
    {"@example.com", false},
};

static void host_values_are_uri_host_and_optional_port(void **state)
{
    for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++) {
        const host_case *c = &host_cases[i];
        hp_str h = hp__str(c->host, strlen(c->host));
        if (hp__host_valid(h) != c->valid)
            fail_msg("\"%s\" should be %s", c->host, c->valid ? "valid" : "refused");
    }
}

/* Every byte in a reg-name: unreserved and sub-delims pass, '%' only with two hex digits,
 * ':' only as the port's separator (then "b" is no port), anything else is refused. */
static void every_byte_in_a_reg_name(void **state)
{
    for (int c = 0; c < 256; c++) {
        char host[3] = {'a', (char)c, 'b'};
        bool expect = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL);
        if (hp__host_valid(hp__str(host, 3)) != expect) fail_msg("byte 0x%02x", c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_token_is_made_of_exactly_the_tchar_bytes),
        cmocka_unit_test(a_field_name_is_one_or_more_tchar),
        cmocka_unit_test(a_field_value_holds_no_control_but_htab),
        cmocka_unit_test(host_values_are_uri_host_and_optional_port),
        cmocka_unit_test(every_byte_in_a_reg_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
