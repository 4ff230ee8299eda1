/* A switchboard's names (src/core/switch_name.c): host patterns, the choice of a name from the
 * Host, the fallback header and the default, the allow rules, and template substitution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/switch_name.h"

#include <stdio.h>
#include <string.h>

static hp_str str(const char *s)
{
    return (hp_str){s, s ? strlen(s) : 0};
}

static const hp_str absent = {NULL, 0};

/* Creates names from `config`, failing the test with the reason if it is refused. */
static hp__switch_names *create(const hp__switch_names_config *config)
{
    char err[256];
    hp__switch_names *names = hp__switch_names_create(config, err, sizeof err);
    if (!names) fail_msg("refused: %s", err);
    return names;
}

static hp__switch_names *create_with_hosts(const char *const *hosts, size_t count)
{
    hp__switch_names_config config = {.hosts = hosts, .host_count = count};
    return create(&config);
}

/* The reason `pattern` is refused ("" if it compiles). */
static const char *pattern_refusal(const char *pattern, char *err, size_t errcap)
{
    const char *hosts[] = {pattern};
    hp__switch_names_config config = {.hosts = hosts, .host_count = 1};
    hp__switch_names *names = hp__switch_names_create(&config, err, errcap);
    hp__switch_names_destroy(names);
    return names ? "" : err;
}

static void patterns_with_one_name_label_compile(void **state)
{
    static const char *const good[] = {
        "{name}.localhost", "app-{name}.example.com", "{name}.apps.test", "{name}-app.test",
        "{name}",           "API.{name}.Example.com",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char err[256];
        const char *reason = pattern_refusal(good[i], err, sizeof err);
        if (reason[0]) fail_msg("\"%s\" refused: %s", good[i], reason);
    }
}

static void bad_patterns_are_refused_with_the_reason(void **state)
{
    static const struct {
        const char *pattern;
        const char *reason;
    } bad[] = {
        {"", "empty"},
        {"localhost", "no {name}"},
        {"{name}.{name}.test", "two {name}"},
        {"{name}..test", "not a host name"},
        {"{name}.exa mple.com", "not a host name"},
        {"{name}.example.com/", "not a host name"},
        {"{name}.{port}.test", "not a host name"},
        {"{nam}.test", "no {name}"},
        {".{name}.test", "not a host name"},
        {"-{name}.test", "not a host name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256];
        const char *reason = pattern_refusal(bad[i].pattern, err, sizeof err);
        if (!strstr(reason, bad[i].reason) || !strstr(reason, "hosts[0]"))
            fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].pattern, reason, bad[i].reason);
    }
}

/* The name chosen for `host` (no header), or "" with the result in *result. */
static const char *name_for_host(const hp__switch_names *names, const char *host,
                                 char name[HP__SWITCH_NAME_CAP])
{
    hp__switch_name_result result = hp__switch_names_choose(names, str(host), absent, name);
    return result == HP__SWITCH_NAME_OK ? name : "";
}

static void host_match_strips_the_port_and_a_trailing_dot_and_ignores_case(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names *names = create_with_hosts(hosts, 1);
    char name[HP__SWITCH_NAME_CAP];
    assert_string_equal(name_for_host(names, "blog.localhost", name), "blog");
    assert_string_equal(name_for_host(names, "blog.localhost:8000", name), "blog");
    assert_string_equal(name_for_host(names, "blog.localhost.", name), "blog");
    assert_string_equal(name_for_host(names, "blog.localhost.:8000", name), "blog");
    assert_string_equal(name_for_host(names, "Blog.LocalHost", name), "blog");
    assert_string_equal(name_for_host(names, "my-app-2.localhost", name), "my-app-2");
    hp__switch_names_destroy(names);
}

static void host_pattern_with_text_around_the_label_gives_only_the_label(void **state)
{
    const char *hosts[] = {"app-{name}.example.com"};
    hp__switch_names *names = create_with_hosts(hosts, 1);
    char name[HP__SWITCH_NAME_CAP];
    assert_string_equal(name_for_host(names, "app-shop.example.com", name), "shop");
    assert_string_equal(name_for_host(names, "APP-Shop.example.com:443", name), "shop");
    assert_string_equal(name_for_host(names, "shop.example.com", name), "");
    assert_string_equal(name_for_host(names, "app-shop.example.org", name), "");
    hp__switch_names_destroy(names);
}

static void host_label_with_a_dot_or_empty_does_not_match(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names *names = create_with_hosts(hosts, 1);
    char name[HP__SWITCH_NAME_CAP];
    static const char *const misses[] = {
        "a.b.localhost", ".localhost", "localhost", "", "blog.localhost.evil.com", "[::1]:8000",
    };
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        hp__switch_name_result result =
            hp__switch_names_choose(names, str(misses[i]), absent, name);
        if (result != HP__SWITCH_NAME_NONE) fail_msg("\"%s\" gave %d", misses[i], result);
    }
    hp__switch_names_destroy(names);
}

static void first_matching_host_pattern_wins(void **state)
{
    const char *hosts[] = {"{name}.apps.test", "api-{name}.apps.test", "{name}.test"};
    hp__switch_names *names = create_with_hosts(hosts, 3);
    char name[HP__SWITCH_NAME_CAP];
    assert_string_equal(name_for_host(names, "api-x.apps.test", name), "api-x");
    assert_string_equal(name_for_host(names, "shop.test", name), "shop");
    hp__switch_names_destroy(names);

    const char *reversed[] = {"api-{name}.apps.test", "{name}.apps.test"};
    names = create_with_hosts(reversed, 2);
    assert_string_equal(name_for_host(names, "api-x.apps.test", name), "x");
    hp__switch_names_destroy(names);
}

static void fallback_header_is_used_when_the_host_does_not_match(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names_config config = {
        .hosts = hosts, .host_count = 1, .fallback_header = "X-App-Name"};
    hp__switch_names *names = create(&config);
    assert_string_equal(hp__switch_names_header(names), "X-App-Name");
    char name[HP__SWITCH_NAME_CAP];
    assert_int_equal(hp__switch_names_choose(names, str("127.0.0.1:8000"), str(" \tShop  "), name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, "shop");
    /* The Host comes first. */
    assert_int_equal(hp__switch_names_choose(names, str("blog.localhost"), str("shop"), name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, "blog");
    /* A header of blanks is no header. */
    assert_int_equal(hp__switch_names_choose(names, str("127.0.0.1"), str("  "), name),
                     HP__SWITCH_NAME_NONE);
    hp__switch_names_destroy(names);
}

static void default_name_is_used_when_neither_host_nor_header_gives_one(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names_config config = {.hosts = hosts,
                                      .host_count = 1,
                                      .fallback_header = "X-App-Name",
                                      .default_name = "default"};
    hp__switch_names *names = create(&config);
    char name[HP__SWITCH_NAME_CAP];
    assert_int_equal(hp__switch_names_choose(names, str("127.0.0.1"), absent, name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, "default");
    assert_int_equal(hp__switch_names_choose(names, absent, absent, name), HP__SWITCH_NAME_OK);
    assert_string_equal(name, "default");
    assert_int_equal(hp__switch_names_choose(names, str("127.0.0.1"), str("shop"), name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, "shop");
    hp__switch_names_destroy(names);
}

static void no_name_without_a_default_is_none(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names *names = create_with_hosts(hosts, 1);
    char name[HP__SWITCH_NAME_CAP] = "stale";
    assert_int_equal(hp__switch_names_choose(names, str("example.com"), str("shop"), name),
                     HP__SWITCH_NAME_NONE);
    assert_string_equal(name, "");
    hp__switch_names_destroy(names);
}

static void default_that_is_not_a_safe_name_is_refused(void **state)
{
    hp__switch_names_config config = {.default_name = "../etc"};
    char err[256];
    assert_null(hp__switch_names_create(&config, err, sizeof err));
    assert_non_null(strstr(err, "default \"../etc\""));
}

static void unsafe_names_are_refused_whatever_the_regex_says(void **state)
{
    hp__switch_names_config config = {.fallback_header = "X-App-Name", .allow_name = ".*"};
    hp__switch_names *names = create(&config);
    static const struct {
        const char *value;
        size_t len;
    } unsafe[] = {
        {"..", 2},
        {"a/b", 3},
        {"-a", 2},
        {"a-", 2},
        {"%2e%2e", 6},
        {"a b", 3},
        {"a_b", 3},
        {"a.b", 3},
        {"caf\xc3\xa9", 5},
        {"a\0b", 3},
        {"a\0", 2},
        {"\0", 1},
        {"a\\b", 3},
        {"a:b", 3},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64},
    };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        char name[HP__SWITCH_NAME_CAP];
        hp_str header = {unsafe[i].value, unsafe[i].len};
        hp__switch_name_result result = hp__switch_names_choose(names, absent, header, name);
        if (result != HP__SWITCH_NAME_UNSAFE || name[0])
            fail_msg("case %zu \"%s\": got %d \"%s\"", i, unsafe[i].value, result, name);
    }
    hp__switch_names_destroy(names);
}

static void names_are_lower_cased_and_63_characters_are_allowed(void **state)
{
    hp__switch_names_config config = {.fallback_header = "X-App-Name"};
    hp__switch_names *names = create(&config);
    char name[HP__SWITCH_NAME_CAP];
    assert_int_equal(hp__switch_names_choose(names, absent, str("A"), name), HP__SWITCH_NAME_OK);
    assert_string_equal(name, "a");
    const char *longest = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(strlen(longest), 63);
    assert_int_equal(hp__switch_names_choose(names, absent, str(longest), name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, longest);
    hp__switch_names_destroy(names);
}

static void host_that_matches_with_an_unsafe_label_is_refused_not_defaulted(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names_config config = {.hosts = hosts,
                                      .host_count = 1,
                                      .fallback_header = "X-App-Name",
                                      .default_name = "default"};
    hp__switch_names *names = create(&config);
    char name[HP__SWITCH_NAME_CAP];
    assert_int_equal(hp__switch_names_choose(names, str("my_app.localhost"), str("shop"), name),
                     HP__SWITCH_NAME_UNSAFE);
    assert_int_equal(hp__switch_names_choose(names, str("-x.localhost"), absent, name),
                     HP__SWITCH_NAME_UNSAFE);
    hp__switch_names_destroy(names);
}

static void allow_name_regex_refuses_names_it_does_not_match(void **state)
{
    const char *hosts[] = {"{name}.localhost"};
    hp__switch_names_config config = {
        .hosts = hosts, .host_count = 1, .allow_name = "^(blog|shop-[0-9]+)$"};
    hp__switch_names *names = create(&config);
    char name[HP__SWITCH_NAME_CAP];
    assert_int_equal(hp__switch_names_choose(names, str("blog.localhost"), absent, name),
                     HP__SWITCH_NAME_OK);
    assert_int_equal(hp__switch_names_choose(names, str("SHOP-12.localhost"), absent, name),
                     HP__SWITCH_NAME_OK);
    assert_string_equal(name, "shop-12");
    assert_int_equal(hp__switch_names_choose(names, str("blogs.localhost"), absent, name),
                     HP__SWITCH_NAME_NOT_ALLOWED);
    assert_string_equal(name, "");
    assert_int_equal(hp__switch_names_allow(names, "shop-x"), HP__SWITCH_NAME_NOT_ALLOWED);
    assert_int_equal(hp__switch_names_allow(names, "shop-7"), HP__SWITCH_NAME_OK);
    assert_int_equal(hp__switch_names_allow(names, "Blog"), HP__SWITCH_NAME_UNSAFE);
    hp__switch_names_destroy(names);
}

static void allow_name_regex_that_does_not_compile_is_refused(void **state)
{
    hp__switch_names_config config = {.allow_name = "^(a"};
    char err[256];
    assert_null(hp__switch_names_create(&config, err, sizeof err));
    assert_non_null(strstr(err, "allow.name \"^(a\": "));
}

static void exists_template_gives_the_path_to_check(void **state)
{
    hp__switch_names_config config = {.allow_exists = "./sites/{name}/public"};
    hp__switch_names *names = create(&config);
    char path[64];
    assert_int_equal(hp__switch_names_exists_path(names, "blog", path, sizeof path), 0);
    assert_string_equal(path, "./sites/blog/public");
    char small[8];
    assert_int_equal(hp__switch_names_exists_path(names, "blog", small, sizeof small), -1);
    hp__switch_names_destroy(names);

    hp__switch_names_config none = {0};
    names = create(&none);
    assert_int_equal(hp__switch_names_exists_path(names, "blog", path, sizeof path), 1);
    hp__switch_names_destroy(names);
}

static void exists_template_with_an_unknown_placeholder_is_refused(void **state)
{
    char err[256];
    hp__switch_names_config typo = {.allow_exists = "./sites/{nmae}"};
    assert_null(hp__switch_names_create(&typo, err, sizeof err));
    assert_non_null(strstr(err, "allow.exists: \"./sites/{nmae}\": unknown placeholder {nmae}"));
    hp__switch_names_config port = {.allow_exists = "./sites/{port}"};
    assert_null(hp__switch_names_create(&port, err, sizeof err));
    assert_non_null(strstr(err, "{port} is not known here"));
}

static void template_substitutes_name_and_port_everywhere(void **state)
{
    hp__template_values values = {.name = "blog", .port = 20001};
    char out[64];
    hp_str bad = {NULL, 0};
    assert_int_equal(hp__template_expand("--port={port}", values, out, sizeof out, &bad),
                     HP__TEMPLATE_OK);
    assert_string_equal(out, "--port=20001");
    assert_int_equal(hp__template_expand("{name}:{port}/{name}", values, out, sizeof out, &bad),
                     HP__TEMPLATE_OK);
    assert_string_equal(out, "blog:20001/blog");
    assert_int_equal(hp__template_expand("", values, out, sizeof out, &bad), HP__TEMPLATE_OK);
    assert_string_equal(out, "");
    /* Braces that are not a placeholder are literal. */
    assert_int_equal(hp__template_expand("{\"a\": {}} {1} {name", values, out, sizeof out, &bad),
                     HP__TEMPLATE_OK);
    assert_string_equal(out, "{\"a\": {}} {1} {name");
}

static void template_refuses_unknown_placeholders_and_names_them(void **state)
{
    hp__template_values values = {.name = "blog", .port = 20001};
    char out[64];
    hp_str bad = {NULL, 0};
    assert_int_equal(hp__template_expand("./apps/{nmae}/x", values, out, sizeof out, &bad),
                     HP__TEMPLATE_UNKNOWN);
    assert_int_equal(bad.len, strlen("{nmae}"));
    assert_memory_equal(bad.base, "{nmae}", bad.len);
    assert_int_equal(hp__template_expand("{Name}", values, out, sizeof out, &bad),
                     HP__TEMPLATE_UNKNOWN);

    char err[128];
    assert_int_equal(hp__template_check("{name}-{PORT}", true, err, sizeof err), -1);
    assert_string_equal(err, "\"{name}-{PORT}\": unknown placeholder {PORT} (known: {name}, "
                             "{port})");
    assert_int_equal(hp__template_check("./bin/server --port {port} {name}", true, err, sizeof err),
                     0);
}

static void template_port_without_a_port_is_an_error(void **state)
{
    hp__template_values values = {.name = "blog", .port = 0};
    char out[64];
    hp_str bad = {NULL, 0};
    assert_int_equal(hp__template_expand("./{name}/{port}", values, out, sizeof out, &bad),
                     HP__TEMPLATE_NO_PORT);
    assert_memory_equal(bad.base, "{port}", bad.len);
    char err[128];
    assert_int_equal(hp__template_check("{port}", false, err, sizeof err), -1);
    assert_string_equal(err, "\"{port}\": {port} is not known here");
}

static void template_output_is_bounded(void **state)
{
    hp__template_values values = {.name = "blog", .port = 20001};
    char out[10];
    /* "./x/blog" is 8 bytes and its NUL: fits in 9, not in 8. */
    assert_int_equal(hp__template_expand("./x/{name}", values, out, 9, NULL), HP__TEMPLATE_OK);
    assert_string_equal(out, "./x/blog");
    assert_int_equal(hp__template_expand("./x/{name}", values, out, 8, NULL),
                     HP__TEMPLATE_TOO_LONG);
    assert_string_equal(out, ""); /* never a cut path */
    assert_int_equal(hp__template_expand("{port}{port}", values, out, 10, NULL),
                     HP__TEMPLATE_TOO_LONG);
    assert_int_equal(hp__template_expand("abcdefghij", values, out, sizeof out, NULL),
                     HP__TEMPLATE_TOO_LONG);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns_with_one_name_label_compile),
        cmocka_unit_test(bad_patterns_are_refused_with_the_reason),
        cmocka_unit_test(host_match_strips_the_port_and_a_trailing_dot_and_ignores_case),
        cmocka_unit_test(host_pattern_with_text_around_the_label_gives_only_the_label),
        cmocka_unit_test(host_label_with_a_dot_or_empty_does_not_match),
        cmocka_unit_test(first_matching_host_pattern_wins),
        cmocka_unit_test(fallback_header_is_used_when_the_host_does_not_match),
        cmocka_unit_test(default_name_is_used_when_neither_host_nor_header_gives_one),
        cmocka_unit_test(no_name_without_a_default_is_none),
        cmocka_unit_test(default_that_is_not_a_safe_name_is_refused),
        cmocka_unit_test(unsafe_names_are_refused_whatever_the_regex_says),
        cmocka_unit_test(names_are_lower_cased_and_63_characters_are_allowed),
        cmocka_unit_test(host_that_matches_with_an_unsafe_label_is_refused_not_defaulted),
        cmocka_unit_test(allow_name_regex_refuses_names_it_does_not_match),
        cmocka_unit_test(allow_name_regex_that_does_not_compile_is_refused),
        cmocka_unit_test(exists_template_gives_the_path_to_check),
        cmocka_unit_test(exists_template_with_an_unknown_placeholder_is_refused),
        cmocka_unit_test(template_substitutes_name_and_port_everywhere),
        cmocka_unit_test(template_refuses_unknown_placeholders_and_names_them),
        cmocka_unit_test(template_port_without_a_port_is_an_error),
        cmocka_unit_test(template_output_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
