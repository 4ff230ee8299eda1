/* Selecting servers by a field (src/core/filter.c), on golib's four-server fixture: exact
 * matches are case-insensitive, regexes are POSIX extended, EXPOSE compares host:port, either
 * of pattern and regex selects, neither selects nothing, and a bad regex is an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/filter.h"
#include "hostpool/errors.h"

#include <string.h>

static const hp__filter_record fixture[] = {
    {"api-server", "127.0.0.1:8080", "http://localhost:8080"},
    {"web-server", "127.0.0.1:8081", "http://localhost:8081"},
    {"admin-server", "192.168.1.1:8080", "http://admin.example.com:8080"},
    {"api-v2-server", "127.0.0.1:9000", "http://api.example.com:9000"},
};
#define FIXTURE_LEN (sizeof fixture / sizeof fixture[0])

static size_t matches[FIXTURE_LEN];

/* How many fixture servers the filter selects; their indexes land in `matches`. */
static size_t count(hp__filter_field field, const char *pattern, const char *regex)
{
    hp__filter *f = NULL;
    char err[256] = "";
    int rc = hp__filter_compile(field, pattern, regex, &f, err, sizeof err);
    if (rc != 0) fail_msg("compile: %s", err);
    size_t n = hp__filter_select(f, fixture, FIXTURE_LEN, matches);
    assert_int_equal(hp__filter_select(f, fixture, FIXTURE_LEN, NULL), n);
    hp__filter_free(f);
    return n;
}

static void exact_name_is_case_insensitive(void **state)
{
    assert_int_equal(count(HP__FILTER_NAME, "API-SERVER", NULL), 1);
    assert_int_equal(matches[0], 0);
    assert_int_equal(count(HP__FILTER_NAME, "api-server", NULL), 1);
    assert_int_equal(count(HP__FILTER_NAME, "api", NULL), 0); /* whole field, not a prefix */
    assert_int_equal(count(HP__FILTER_NAME, "api-server ", NULL), 0);
}

static void name_regex(void **state)
{
    assert_int_equal(count(HP__FILTER_NAME, NULL, "^api-"), 2);
    assert_int_equal(matches[0], 0);
    assert_int_equal(matches[1], 3);
    assert_int_equal(count(HP__FILTER_NAME, NULL, "^api-.*"), 2);
    assert_int_equal(count(HP__FILTER_NAME, NULL, "server"), 4); /* unanchored: a search */
    assert_int_equal(count(HP__FILTER_NAME, NULL, "^server$"), 0);
    assert_int_equal(count(HP__FILTER_NAME, NULL, "^API-"), 0);                /* case sensitive */
    assert_int_equal(count(HP__FILTER_NAME, NULL, "^(web|admin)-server$"), 2); /* extended */
}

static void bind_exact_and_regex(void **state)
{
    assert_int_equal(count(HP__FILTER_BIND, NULL, "^127\\.0\\.0\\.1:"), 3);
    assert_int_equal(count(HP__FILTER_BIND, NULL, "^192\\.168\\..*"), 1);
    assert_int_equal(count(HP__FILTER_BIND, NULL, ":8080$"), 2);
    assert_int_equal(count(HP__FILTER_BIND, "127.0.0.1:9000", NULL), 1);
    assert_int_equal(matches[0], 3);
}

static void expose_regex_sees_the_whole_url(void **state)
{
    assert_int_equal(count(HP__FILTER_EXPOSE, NULL, "example\\.com"), 2);
    assert_int_equal(count(HP__FILTER_EXPOSE, NULL, ".*example\\.com.*"), 2);
    assert_int_equal(count(HP__FILTER_EXPOSE, NULL, "^http://localhost:"), 2);
}

static void expose_exact_compares_host_and_port(void **state)
{
    assert_int_equal(count(HP__FILTER_EXPOSE, "localhost:8080", NULL), 1);
    assert_int_equal(matches[0], 0);
    assert_int_equal(count(HP__FILTER_EXPOSE, "LOCALHOST:8080", NULL), 1);
    assert_int_equal(count(HP__FILTER_EXPOSE, "http://localhost:8080", NULL), 1);
    assert_int_equal(count(HP__FILTER_EXPOSE, "https://localhost:8080/some/path?q#f", NULL), 1);
    assert_int_equal(count(HP__FILTER_EXPOSE, "admin.example.com:8080", NULL), 1);
    assert_int_equal(matches[0], 2);
    assert_int_equal(count(HP__FILTER_EXPOSE, "localhost", NULL), 0); /* the port counts */
    assert_int_equal(count(HP__FILTER_EXPOSE, "localhost:80", NULL), 0);
}

static void expose_host_port_ignores_userinfo_and_path(void **state)
{
    static const hp__filter_record r[] = {
        {"a", "127.0.0.1:1", "http://user:p@ss@LocalHost:7000/x/y?z=@#w"},
        {"b", "127.0.0.1:2", "localhost:7000"}, /* no scheme: taken whole */
        {"c", "127.0.0.1:3", NULL},             /* no expose URL */
        {"d", "127.0.0.1:4", "http://[::1]:7000/"},
    };
    hp__filter *f;
    assert_int_equal(hp__filter_compile(HP__FILTER_EXPOSE, "localhost:7000", NULL, &f, NULL, 0), 0);
    assert_int_equal(hp__filter_select(f, r, 4, NULL), 2);
    assert_false(hp__filter_match(f, &r[2]));
    hp__filter_free(f);
    assert_int_equal(hp__filter_compile(HP__FILTER_EXPOSE, "http://[::1]:7000", NULL, &f, NULL, 0),
                     0);
    assert_int_equal(hp__filter_select(f, r, 4, NULL), 1);
    assert_true(hp__filter_match(f, &r[3]));
    hp__filter_free(f);
    assert_int_equal(hp__filter_compile(HP__FILTER_EXPOSE, NULL, ".", &f, NULL, 0), 0);
    assert_int_equal(hp__filter_select(f, r, 4, NULL), 3);
    assert_false(hp__filter_match(f, &r[2])); /* NULL: not even a regex that matches anything */
    hp__filter_free(f);
}

static void pattern_or_regex_either_selects(void **state)
{
    /* web-server by name, plus the two api-* by regex */
    assert_int_equal(count(HP__FILTER_NAME, "web-server", "^api-"), 3);
    assert_int_equal(matches[0], 0);
    assert_int_equal(matches[1], 1);
    assert_int_equal(matches[2], 3);
    assert_int_equal(count(HP__FILTER_NAME, "api-server", "^api-"), 2); /* no double count */
    assert_int_equal(count(HP__FILTER_NAME, "nothing", "^nothing$"), 0);
}

static void neither_pattern_nor_regex_selects_nothing(void **state)
{
    assert_int_equal(count(HP__FILTER_NAME, NULL, NULL), 0);
    assert_int_equal(count(HP__FILTER_NAME, "", ""), 0);
    assert_int_equal(count(HP__FILTER_EXPOSE, "", ""), 0);
    assert_int_equal(count(HP__FILTER_EXPOSE, "http://", NULL), 0); /* no host:port at all */
}

static void an_invalid_regex_is_an_error_with_the_reason(void **state)
{
    hp__filter *f = NULL;
    char err[256] = "";
    assert_int_equal(hp__filter_compile(HP__FILTER_NAME, "api-server", "([", &f, err, sizeof err),
                     HP_EINVAL);
    assert_null(f); /* untouched */
    assert_non_null(strstr(err, "invalid regex \"([\": "));
    assert_true(strlen(err) > strlen("invalid regex \"([\": ")); /* regerror's text follows */
    assert_int_equal(hp__filter_compile(HP__FILTER_BIND, NULL, "a{2,1}", &f, err, sizeof err),
                     HP_EINVAL);
    assert_int_equal(hp__filter_compile(HP__FILTER_BIND, NULL, "*", &f, NULL, 0), HP_EINVAL);
    char tiny[8];
    assert_int_equal(hp__filter_compile(HP__FILTER_BIND, NULL, "([", &f, tiny, sizeof tiny),
                     HP_EINVAL);
    assert_int_equal(strlen(tiny), sizeof tiny - 1); /* cut, still terminated */
}

static void an_unknown_field_is_an_error(void **state)
{
    hp__filter *f = NULL;
    char err[64];
    assert_int_equal(hp__filter_compile((hp__filter_field)9, "x", NULL, &f, err, sizeof err),
                     HP_EINVAL);
    assert_null(f);
    hp__filter_free(NULL);
}

static void filters_chain_and_list_another_field(void **state)
{
    /* golib's chained filters (2) and "filter then list" (1), over indexes */
    hp__filter *api, *local;
    assert_int_equal(hp__filter_compile(HP__FILTER_NAME, NULL, "^api-", &api, NULL, 0), 0);
    assert_int_equal(hp__filter_compile(HP__FILTER_BIND, NULL, "^127\\.", &local, NULL, 0), 0);
    size_t both = 0;
    for (size_t i = 0; i < FIXTURE_LEN; i++)
        both += hp__filter_match(api, &fixture[i]) && hp__filter_match(local, &fixture[i]);
    assert_int_equal(both, 2);
    hp__filter_free(api);
    hp__filter *exposed;
    assert_int_equal(
        hp__filter_compile(HP__FILTER_EXPOSE, "api.example.com:9000", NULL, &exposed, NULL, 0), 0);
    size_t idx[FIXTURE_LEN];
    assert_int_equal(hp__filter_select(exposed, fixture, FIXTURE_LEN, idx), 1);
    assert_string_equal(fixture[idx[0]].name, "api-v2-server");
    hp__filter_free(exposed);
    assert_int_equal(hp__filter_select(local, fixture, 0, idx), 0); /* empty pool */
    hp__filter_free(local);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_name_is_case_insensitive),
        cmocka_unit_test(name_regex),
        cmocka_unit_test(bind_exact_and_regex),
        cmocka_unit_test(expose_regex_sees_the_whole_url),
        cmocka_unit_test(expose_exact_compares_host_and_port),
        cmocka_unit_test(expose_host_port_ignores_userinfo_and_path),
        cmocka_unit_test(pattern_or_regex_either_selects),
        cmocka_unit_test(neither_pattern_nor_regex_selects_nothing),
        cmocka_unit_test(an_invalid_regex_is_an_error_with_the_reason),
        cmocka_unit_test(an_unknown_field_is_an_error),
        cmocka_unit_test(filters_chain_and_list_another_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
