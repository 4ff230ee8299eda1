/* Accept-Encoding negotiation (src/http/accept_encoding.c), the media types a compression
 * policy matches (src/http/compress.c) and the ETag of an encoded variant
 * (src/http/compress_plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/accept_encoding.h"
#include "http/compress.h"
#include "http/compress_plan.h"

#include <string.h>

static hp__coding pick(const char *field, unsigned offered)
{
    hp_str line = {field, strlen(field)};
    return hp__accept_encoding_pick(&line, 1, offered);
}

static void no_field_and_an_empty_one_get_identity(void **state)
{
    assert_int_equal(hp__accept_encoding_pick(NULL, 0, HP__OFFER_ALL), HP__CODING_IDENTITY);
    assert_int_equal(pick("", HP__OFFER_ALL), HP__CODING_IDENTITY);
}

static void br_is_preferred_to_gzip_at_equal_weight(void **state)
{
    assert_int_equal(pick("gzip, deflate, br", HP__OFFER_ALL), HP__CODING_BR);
    assert_int_equal(pick("gzip;q=0.8, br;q=0.8", HP__OFFER_ALL), HP__CODING_BR);
    assert_int_equal(pick("GZIP, BR", HP__OFFER_ALL), HP__CODING_BR);
}

static void the_higher_weight_wins(void **state)
{
    assert_int_equal(pick("br;q=0.5, gzip", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("br;q=0.5 , gzip ; q=0.6", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("br;q=1.0, gzip;q=0.999", HP__OFFER_ALL), HP__CODING_BR);
}

static void q_zero_refuses_a_coding(void **state)
{
    assert_int_equal(pick("br;q=0, gzip", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("br;q=0, gzip;q=0.000", HP__OFFER_ALL), HP__CODING_IDENTITY);
    assert_int_equal(pick("*;q=0, gzip;q=0", HP__OFFER_ALL), HP__CODING_IDENTITY);
}

static void star_weighs_the_codings_not_listed(void **state)
{
    assert_int_equal(pick("*", HP__OFFER_ALL), HP__CODING_BR);
    assert_int_equal(pick("*;q=0.5, gzip", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("*, br;q=0", HP__OFFER_ALL), HP__CODING_GZIP);
}

static void identity_weighed_higher_is_kept(void **state)
{
    assert_int_equal(pick("identity, gzip;q=0.5", HP__OFFER_ALL), HP__CODING_IDENTITY);
    assert_int_equal(pick("identity;q=0.5, gzip", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("identity", HP__OFFER_ALL), HP__CODING_IDENTITY);
}

static void only_offered_codings_are_picked(void **state)
{
    assert_int_equal(pick("br, gzip;q=0.5", HP__OFFER_GZIP), HP__CODING_GZIP);
    assert_int_equal(pick("br", HP__OFFER_GZIP), HP__CODING_IDENTITY);
    assert_int_equal(pick("gzip", HP__OFFER_BR), HP__CODING_IDENTITY);
    assert_int_equal(pick("x-gzip", HP__OFFER_ALL), HP__CODING_GZIP);
}

static void a_malformed_entry_is_skipped_alone(void **state)
{
    assert_int_equal(pick("br;q=2, gzip", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("br;q=0.5555, gzip;q=0.1", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick("br;level=3, gzip;q=0.1", HP__OFFER_ALL), HP__CODING_GZIP);
    assert_int_equal(pick(",,br", HP__OFFER_ALL), HP__CODING_BR);
}

static void several_lines_are_one_list(void **state)
{
    hp_str lines[] = {{"gzip;q=0.4", 10}, {"br;q=0.3", 8}};
    assert_int_equal(hp__accept_encoding_pick(lines, 2, HP__OFFER_ALL), HP__CODING_GZIP);
    hp_str refused[] = {{"gzip", 4}, {"gzip;q=0", 8}};
    assert_int_equal(hp__accept_encoding_pick(refused, 2, HP__OFFER_ALL), HP__CODING_IDENTITY);
}

static bool matches(const hp__compress *p, const char *type)
{
    return hp__compress_type_matches(p, (hp_str){type, strlen(type)});
}

static void default_types_match_text_json_javascript_and_svg(void **state)
{
    hp__compress *p = hp__compress_create(&(hp_compress_config){0});
    assert_true(matches(p, "text/html"));
    assert_true(matches(p, "text/plain; charset=utf-8"));
    assert_true(matches(p, "Text/CSS"));
    assert_true(matches(p, "application/json"));
    assert_true(matches(p, "application/javascript;charset=utf-8"));
    assert_true(matches(p, "image/svg+xml"));
    assert_false(matches(p, "image/png"));
    assert_false(matches(p, "application/jsonx"));
    assert_false(matches(p, "textual/html"));
    assert_false(matches(p, ""));
    assert_int_equal(p->config.min_bytes, 256);
    assert_int_equal(p->config.level, 5);
    hp__compress_destroy(p);
}

static void configured_types_replace_the_defaults(void **state)
{
    const char *types[] = {"application/*", "text/CSV"};
    hp__compress *p = hp__compress_create(&(hp_compress_config){.types = types, .type_count = 2});
    assert_true(matches(p, "application/wasm"));
    assert_true(matches(p, "text/csv"));
    assert_false(matches(p, "text/html"));
    hp__compress_destroy(p);
}

static void media_type_syntax_is_checked(void **state)
{
    assert_true(hp__compress_type_valid("text/*"));
    assert_true(hp__compress_type_valid("*/*"));
    assert_true(hp__compress_type_valid("image/svg+xml"));
    assert_false(hp__compress_type_valid("text"));
    assert_false(hp__compress_type_valid("*/json"));
    assert_false(hp__compress_type_valid("text/"));
    assert_false(hp__compress_type_valid("te xt/html"));
    const char *bad[] = {"text"};
    assert_non_null(hp__compress_config_problem(&(hp_compress_config){.level = 10}));
    assert_non_null(
        hp__compress_config_problem(&(hp_compress_config){.types = bad, .type_count = 1}));
    assert_null(hp__compress_config_problem(&(hp_compress_config){.level = 9}));
}

static void encoded_variants_have_their_own_etag(void **state)
{
    char out[80];
    assert_int_equal(hp__etag_variant("\"abc\"", 5, HP__CODING_GZIP, out, sizeof out), 8);
    assert_string_equal(out, "\"abc-gz\"");
    assert_int_equal(hp__etag_variant("W/\"abc\"", 7, HP__CODING_BR, out, sizeof out), 10);
    assert_string_equal(out, "W/\"abc-br\"");
    assert_int_equal(hp__etag_variant("abc", 3, HP__CODING_BR, out, sizeof out), 0);
    assert_int_equal(hp__etag_variant("\"abc\"", 5, HP__CODING_BR, out, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_field_and_an_empty_one_get_identity),
        cmocka_unit_test(br_is_preferred_to_gzip_at_equal_weight),
        cmocka_unit_test(the_higher_weight_wins),
        cmocka_unit_test(q_zero_refuses_a_coding),
        cmocka_unit_test(star_weighs_the_codings_not_listed),
        cmocka_unit_test(identity_weighed_higher_is_kept),
        cmocka_unit_test(only_offered_codings_are_picked),
        cmocka_unit_test(a_malformed_entry_is_skipped_alone),
        cmocka_unit_test(several_lines_are_one_list),
        cmocka_unit_test(default_types_match_text_json_javascript_and_svg),
        cmocka_unit_test(configured_types_replace_the_defaults),
        cmocka_unit_test(media_type_syntax_is_checked),
        cmocka_unit_test(encoded_variants_have_their_own_etag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
