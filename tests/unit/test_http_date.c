/* HTTP dates (src/http/http_date.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http_date.h"

#include <string.h>

static bool parse(const char *s, time_t *t)
{
    return hp__http_date_parse((hp_str){s, strlen(s)}, t);
}

static void imf_fixdate_formats_and_parses_back(void **state)
{
    char out[HP__HTTP_DATE_LEN + 1];
    hp__http_date_format(784111777, out);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_t t;
    assert_true(parse(out, &t));
    assert_int_equal(t, 784111777);
}

static void obsolete_rfc850_and_asctime_forms_parse(void **state)
{
    time_t t;
    assert_true(parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    assert_int_equal(t, 784111777);
    assert_true(parse("Sun Nov  6 08:49:37 1994", &t));
    assert_int_equal(t, 784111777);
}

static void malformed_dates_are_refused(void **state)
{
    time_t t;
    assert_false(parse("", &t));
    assert_false(parse("Sun, 06 Nov 1994 08:49:37 UTC", &t));
    assert_false(parse("Sun, 06 Foo 1994 08:49:37 GMT", &t));
    assert_false(parse("Sun, 06 Nov 1994 25:49:37 GMT", &t));
    assert_false(parse("Sun, 00 Nov 1994 08:49:37 GMT", &t));
    assert_false(parse("yesterday", &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imf_fixdate_formats_and_parses_back),
        cmocka_unit_test(obsolete_rfc850_and_asctime_forms_parse),
        cmocka_unit_test(malformed_dates_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
