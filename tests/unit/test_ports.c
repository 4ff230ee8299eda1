/* The automatic port allocator (src/core/ports.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ports.h"
#include "hostpool/errors.h"

static bool all_free(uint16_t port, void *data)
{
    return true;
}

static bool busy_is_21001(uint16_t port, void *data)
{
    return port != 21001;
}

static void ports_come_in_order_skipping_busy_ones(void **state)
{
    static hp__ports p;
    hp__ports_init(&p, 21000, 21009);
    uint16_t a, b;
    assert_int_equal(hp__ports_take(&p, busy_is_21001, NULL, &a), 0);
    assert_int_equal(hp__ports_take(&p, busy_is_21001, NULL, &b), 0);
    assert_int_equal(a, 21000);
    assert_int_equal(b, 21002);
}

static void a_released_port_comes_back_only_after_the_range_wraps(void **state)
{
    static hp__ports p;
    hp__ports_init(&p, 21000, 21002);
    uint16_t port;
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), 0);
    assert_int_equal(port, 21000);
    hp__ports_release(&p, 21000);
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), 0);
    assert_int_equal(port, 21001);
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), 0);
    assert_int_equal(port, 21002);
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), 0);
    assert_int_equal(port, 21000);
}

static void an_exhausted_range_is_an_error(void **state)
{
    static hp__ports p;
    hp__ports_init(&p, 65535, 65535);
    uint16_t port;
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), 0);
    assert_int_equal(port, 65535);
    assert_int_equal(hp__ports_take(&p, all_free, NULL, &port), HP_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports_come_in_order_skipping_busy_ones),
        cmocka_unit_test(a_released_port_comes_back_only_after_the_range_wraps),
        cmocka_unit_test(an_exhausted_range_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
