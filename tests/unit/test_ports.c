/* The automatic port allocator (src/core/ports.c): order, busy ports, the reuse policy,
 * exhaustion, a range of one port. The probe is a test double: no sockets here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ports.h"
#include "hostpool/errors.h"

#include <stdbool.h>
#include <string.h>

static hp__ports p; /* 8 KiB: static rather than on the stack */

/* The machine as the probe sees it: ports marked busy are in use by someone else. */
typedef struct machine {
    bool busy[65536];
    int probes;
    uint16_t last_probed;
} machine;

static machine m;

static bool probe(uint16_t port, void *data)
{
    machine *mm = data;
    mm->probes++;
    mm->last_probed = port;
    return !mm->busy[port];
}

static uint16_t take(void)
{
    uint16_t port = 0;
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), 0);
    return port;
}

static int setup(void **state)
{
    memset(&m, 0, sizeof m);
    return 0;
}

static void ports_come_in_order_from_lo(void **state)
{
    assert_int_equal(hp__ports_init(&p, 21000, 21004), 0);
    for (uint16_t i = 0; i < 5; i++) assert_int_equal(take(), 21000 + i);
    assert_true(hp__ports_held(&p, 21004));
}

static void a_port_the_probe_calls_busy_is_skipped_and_tried_again_later(void **state)
{
    hp__ports_init(&p, 21000, 21002);
    m.busy[21001] = true;
    assert_int_equal(take(), 21000);
    assert_int_equal(take(), 21002); /* 21001 skipped, not held */
    assert_false(hp__ports_held(&p, 21001));
    m.busy[21001] = false;
    assert_int_equal(take(), 21001); /* next lap: free now */
}

static void held_ports_are_not_probed(void **state)
{
    hp__ports_init(&p, 21000, 21001);
    take();
    m.probes = 0;
    assert_int_equal(take(), 21001);
    assert_int_equal(m.probes, 1);
    assert_int_equal(m.last_probed, 21001);
}

static void a_released_port_comes_back_only_after_the_range_wraps(void **state)
{
    hp__ports_init(&p, 21000, 21002);
    assert_int_equal(take(), 21000);
    hp__ports_release(&p, 21000);
    assert_false(hp__ports_held(&p, 21000));
    assert_int_equal(take(), 21001);
    assert_int_equal(take(), 21002);
    assert_int_equal(take(), 21000); /* the cursor came round */
}

static void a_port_released_in_the_middle_waits_for_the_cursor(void **state)
{
    hp__ports_init(&p, 21000, 21004);
    assert_int_equal(take(), 21000);
    assert_int_equal(take(), 21001);
    assert_int_equal(take(), 21002);
    hp__ports_release(&p, 21001);
    assert_int_equal(take(), 21003);
    assert_int_equal(take(), 21004);
    assert_int_equal(take(), 21001); /* 21000 is still held: skipped */
}

static void the_only_free_port_is_reused_at_once(void **state)
{
    hp__ports_init(&p, 21000, 21002);
    for (int i = 0; i < 3; i++) take();
    hp__ports_release(&p, 21001);
    assert_int_equal(take(), 21001);
}

static void an_exhausted_range_is_an_error_that_changes_nothing(void **state)
{
    hp__ports_init(&p, 21000, 21003);
    assert_int_equal(take(), 21000);
    assert_int_equal(take(), 21001);
    m.busy[21002] = m.busy[21003] = true;
    uint16_t port = 4242;
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), HP_ELIMIT);
    assert_int_equal(port, 4242);
    assert_false(hp__ports_held(&p, 21002));
    m.busy[21003] = false;
    assert_int_equal(take(), 21003); /* the cursor did not move: 21002 first, still busy */
}

static void a_range_of_one_port(void **state)
{
    uint16_t port;
    hp__ports_init(&p, 65535, 65535); /* also: the cursor wraps without overflowing */
    assert_int_equal(take(), 65535);
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), HP_ELIMIT);
    hp__ports_release(&p, 65535);
    assert_int_equal(take(), 65535);
    m.busy[65535] = true;
    hp__ports_release(&p, 65535);
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), HP_ELIMIT);
}

static void without_a_probe_every_port_is_free(void **state)
{
    uint16_t port;
    hp__ports_init(&p, 1, 2);
    assert_int_equal(hp__ports_take(&p, NULL, NULL, &port), 0);
    assert_int_equal(port, 1);
    assert_int_equal(hp__ports_take(&p, NULL, NULL, &port), 0);
    assert_int_equal(port, 2);
    assert_int_equal(hp__ports_take(&p, NULL, NULL, &port), HP_ELIMIT);
}

static void bad_ranges_and_releases(void **state)
{
    uint16_t port;
    assert_int_equal(hp__ports_init(&p, 0, 10), HP_EINVAL);
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), HP_ELIMIT);
    assert_int_equal(hp__ports_init(&p, 200, 100), HP_EINVAL);
    assert_int_equal(hp__ports_take(&p, probe, &m, &port), HP_ELIMIT);
    assert_int_equal(m.probes, 0);
    hp__ports_init(&p, 21000, 21001);
    hp__ports_release(&p, 80);    /* outside: ignored */
    hp__ports_release(&p, 21001); /* not held: ignored */
    assert_int_equal(take(), 21000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(ports_come_in_order_from_lo, setup),
        cmocka_unit_test_setup(a_port_the_probe_calls_busy_is_skipped_and_tried_again_later, setup),
        cmocka_unit_test_setup(held_ports_are_not_probed, setup),
        cmocka_unit_test_setup(a_released_port_comes_back_only_after_the_range_wraps, setup),
        cmocka_unit_test_setup(a_port_released_in_the_middle_waits_for_the_cursor, setup),
        cmocka_unit_test_setup(the_only_free_port_is_reused_at_once, setup),
        cmocka_unit_test_setup(an_exhausted_range_is_an_error_that_changes_nothing, setup),
        cmocka_unit_test_setup(a_range_of_one_port, setup),
        cmocka_unit_test_setup(without_a_probe_every_port_is_free, setup),
        cmocka_unit_test_setup(bad_ranges_and_releases, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
