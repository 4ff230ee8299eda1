/* The per-address connection count (src/core/client_count.c): the cap per address, addresses
 * isolated, an entry freed at 0 (so its room serves another address), a full table refusing a
 * new address, and counts that stay exact through many removals (the backward shift). */
#include "core/client_count.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void ipv4(uint8_t out[4], uint32_t n)
{
    out[0] = 10;
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
}

static void an_address_is_refused_at_its_cap_and_others_are_not(void **state)
{
    hp__client_count *t = hp__client_count_create(1000);
    uint8_t a[4], b[4];
    ipv4(a, 1);
    ipv4(b, 2);
    assert_true(hp__client_count_enter(t, a, 4, 2));
    assert_true(hp__client_count_enter(t, a, 4, 2));
    assert_false(hp__client_count_enter(t, a, 4, 2));
    assert_int_equal(hp__client_count_of(t, a, 4), 2);
    assert_true(hp__client_count_enter(t, b, 4, 2));
    hp__client_count_leave(t, a, 4);
    assert_true(hp__client_count_enter(t, a, 4, 2));
    hp__client_count_leave(t, a, 4);
    hp__client_count_leave(t, a, 4);
    assert_int_equal(hp__client_count_of(t, a, 4), 0);
    assert_int_equal(hp__client_count_of(t, b, 4), 1);
    hp__client_count_destroy(t);
}

static void a_full_table_refuses_a_new_address_until_one_leaves(void **state)
{
    hp__client_count *t = hp__client_count_create(64); /* one address a shard */
    uint8_t addr[4];
    size_t in = 0;
    uint32_t n;
    for (n = 0; n < 100000; n++) { /* fill until some new address is refused */
        ipv4(addr, n);
        if (!hp__client_count_enter(t, addr, 4, 1)) break;
        in++;
    }
    assert_true(n < 100000);
    assert_true(in <= 64); /* never more than its bound */
    assert_false(hp__client_count_enter(t, addr, 4, 1));
    /* Refused addresses' shards are full; freeing all makes room again. */
    for (uint32_t m = 0; m < n; m++) {
        uint8_t a[4];
        ipv4(a, m);
        if (hp__client_count_of(t, a, 4)) hp__client_count_leave(t, a, 4);
    }
    assert_true(hp__client_count_enter(t, addr, 4, 1));
    hp__client_count_destroy(t);
}

static void counts_stay_exact_through_many_removals(void **state)
{
    hp__client_count *t = hp__client_count_create(4096);
    for (uint32_t n = 0; n < 3000; n++) {
        uint8_t a[16] = {0x20, 0x01};
        memcpy(a + 12, &n, 4);
        for (uint32_t k = 0; k <= n % 3; k++) assert_true(hp__client_count_enter(t, a, 16, 5));
    }
    for (uint32_t n = 0; n < 3000; n += 2) {
        uint8_t a[16] = {0x20, 0x01};
        memcpy(a + 12, &n, 4);
        for (uint32_t k = 0; k <= n % 3; k++) hp__client_count_leave(t, a, 16);
    }
    for (uint32_t n = 0; n < 3000; n++) {
        uint8_t a[16] = {0x20, 0x01};
        memcpy(a + 12, &n, 4);
        assert_int_equal(hp__client_count_of(t, a, 16), n % 2 ? n % 3 + 1 : 0);
    }
    hp__client_count_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_address_is_refused_at_its_cap_and_others_are_not),
        cmocka_unit_test(a_full_table_refuses_a_new_address_until_one_leaves),
        cmocka_unit_test(counts_stay_exact_through_many_removals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
