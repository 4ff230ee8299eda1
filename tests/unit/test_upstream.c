/* A running upstream (src/upstream/upstream.c) without a loop: admission caps, picks that
 * skip targets out of rotation or already tried, the transitions log and its bound, the
 * attention callback, the breaker's and passive check's verdicts shared through the version.
 * Time-driven behaviour (open_for, fail_timeout) is in the sim tests of src/core and in
 * tests/integration/test_proxy.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/socket.h"
#include "upstream/upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hp__upstream *upstream_of(size_t n, void (*tune)(hp__upstream_model *))
{
    hp__upstream_model m;
    hp__upstream_model_init(&m);
    m.targets = calloc(n, sizeof *m.targets);
    m.target_count = n;
    for (size_t i = 0; i < n; i++) {
        char a[32];
        snprintf(a, sizeof a, "127.0.0.1:%zu", 9001 + i);
        m.targets[i] = (hp__upstream_target_model){.address = strdup(a), .weight = 1};
        hp__socket_parse_address(a, &m.targets[i].addr);
    }
    if (tune) tune(&m);
    hp__upstream *u = hp__upstream_create(&m);
    hp__upstream_model_close(&m);
    return u;
}

static void caps(hp__upstream_model *m)
{
    m->max_in_flight = 2;
    m->max_pending = 1;
}

static void max_in_flight_and_max_pending_admit_up_to_their_cap(void **state)
{
    hp__upstream *u = upstream_of(1, caps);
    assert_true(hp__upstream_enter(u));
    assert_true(hp__upstream_enter(u));
    assert_false(hp__upstream_enter(u));
    hp__upstream_leave(u);
    assert_true(hp__upstream_enter(u));
    assert_true(hp__upstream_wait_begin(u));
    assert_false(hp__upstream_wait_begin(u));
    hp__upstream_view v;
    hp__upstream_view_of(u, &v);
    assert_int_equal(v.in_flight, 2);
    assert_int_equal(v.pending, 1);
    hp__upstream_wait_end(u);
    assert_true(hp__upstream_wait_begin(u));
    hp__upstream_unref(u);
}

static void no_caps(hp__upstream_model *m)
{
    m->max_in_flight = m->max_pending = 0;
}

static void zero_caps_admit_everything(void **state)
{
    hp__upstream *u = upstream_of(1, no_caps);
    for (int i = 0; i < 1000; i++) assert_true(hp__upstream_enter(u) && hp__upstream_wait_begin(u));
    hp__upstream_unref(u);
}

static void a_pick_skips_the_targets_already_tried(void **state)
{
    hp__upstream *u = upstream_of(3, NULL);
    hp__upstream_picker p;
    hp__upstream_picker_init(&p, u);
    hp__upstream_pick pick;
    for (int i = 0; i < 6; i++) {
        assert_true(hp__upstream_pick_target(&p, NULL, 0, 1u << 0 | 1u << 2, &pick));
        assert_int_equal(pick.target, 1);
        hp__upstream_report(&p, &pick, HP__UPSTREAM_SUCCESS);
    }
    assert_false(hp__upstream_pick_target(&p, NULL, 0, 7, &pick));
    hp__upstream_target_view v;
    hp__upstream_target_view_of(u, 1, &v);
    assert_int_equal(v.requests, 6);
    hp__upstream_picker_close(&p);
    hp__upstream_unref(u);
}

static int attention_calls;

static void on_attention(hp__upstream *u, void *data)
{
    attention_calls++;
}

static void health_down_takes_a_target_out_logs_it_and_calls_for_attention(void **state)
{
    hp__upstream *u = upstream_of(2, NULL);
    hp__upstream_set_attention(u, on_attention, NULL);
    attention_calls = 0;
    hp__upstream_picker p;
    hp__upstream_picker_init(&p, u);
    hp__upstream_set_health_down(u, 0, true);
    hp__upstream_set_health_down(u, 0, true); /* no change: nothing logged */
    assert_int_equal(attention_calls, 1);
    hp__upstream_pick pick;
    for (int i = 0; i < 4; i++) {
        assert_true(hp__upstream_pick_target(&p, NULL, 0, 0, &pick));
        assert_int_equal(pick.target, 1);
        hp__upstream_report(&p, &pick, HP__UPSTREAM_SUCCESS);
    }
    hp__upstream_set_health_down(u, 0, false);
    hp__upstream_transition t[4];
    assert_int_equal(hp__upstream_take_transitions(u, t, 4), 2);
    assert_int_equal(t[0].kind, HP__UPSTREAM_TARGET_DOWN);
    assert_string_equal(t[0].why, "health");
    assert_int_equal(t[1].kind, HP__UPSTREAM_TARGET_UP);
    bool picked[2] = {false, false};
    for (int i = 0; i < 4; i++) {
        assert_true(hp__upstream_pick_target(&p, NULL, 0, 0, &pick));
        picked[pick.target] = true;
        hp__upstream_report(&p, &pick, HP__UPSTREAM_SUCCESS);
    }
    assert_true(picked[0] && picked[1]);
    hp__upstream_picker_close(&p);
    hp__upstream_unref(u);
}

static void the_transitions_log_keeps_the_newest_and_counts_what_it_lost(void **state)
{
    hp__upstream *u = upstream_of(1, NULL);
    for (int i = 0; i < 70; i++) hp__upstream_set_health_down(u, 0, i % 2 == 0);
    hp__upstream_transition t[100];
    assert_int_equal(hp__upstream_take_transitions(u, t, 100), 64);
    assert_int_equal(t[63].kind, HP__UPSTREAM_TARGET_UP); /* the 70th: back up */
    hp__upstream_view v;
    hp__upstream_view_of(u, &v);
    assert_int_equal(v.transitions_lost, 6);
    assert_int_equal(hp__upstream_take_transitions(u, t, 100), 0);
    hp__upstream_unref(u);
}

static void breaker_after_two(hp__upstream_model *m)
{
    m->passive.max_fails = 0;
    m->breaker_enabled = true;
    m->breaker.failures = 2;
    m->breaker.open_for_ms = 30000;
}

static void an_open_breaker_refuses_every_pick_and_says_when_to_retry(void **state)
{
    hp__upstream *u = upstream_of(1, breaker_after_two);
    hp__upstream_picker p;
    hp__upstream_picker_init(&p, u);
    hp__upstream_pick pick;
    for (int i = 0; i < 2; i++) {
        assert_true(hp__upstream_pick_target(&p, NULL, 0, 0, &pick));
        hp__upstream_report(&p, &pick, HP__UPSTREAM_FAILURE);
    }
    assert_false(hp__upstream_pick_target(&p, NULL, 0, 0, &pick));
    hp__upstream_target_view v;
    hp__upstream_target_view_of(u, 0, &v);
    assert_true(v.has_breaker);
    assert_int_equal(v.breaker, HP__BREAKER_OPEN);
    assert_false(v.available);
    assert_int_equal(v.failures, 2);
    uint32_t s = hp__upstream_retry_after_s(u);
    assert_true(s >= 29 && s <= 30);
    hp__upstream_transition t[4];
    assert_int_equal(hp__upstream_take_transitions(u, t, 4), 1);
    assert_int_equal(t[0].kind, HP__UPSTREAM_BREAKER_OPEN);
    assert_string_equal(t[0].why, "failures");
    hp__upstream_picker_close(&p);
    hp__upstream_unref(u);
}

static void passive_after_one(hp__upstream_model *m)
{
    m->passive.max_fails = 1;
    m->passive.fail_timeout_ms = 60000;
}

static void a_failure_seen_by_one_worker_takes_the_target_out_for_the_others(void **state)
{
    hp__upstream *u = upstream_of(2, passive_after_one);
    hp__upstream_picker one, two;
    hp__upstream_picker_init(&one, u);
    hp__upstream_picker_init(&two, u);
    hp__upstream_pick pick;
    assert_true(hp__upstream_pick_target(&one, NULL, 0, 0, &pick));
    assert_int_equal(pick.target, 0);
    hp__upstream_report(&one, &pick, HP__UPSTREAM_FAILURE);
    for (int i = 0; i < 4; i++) {
        assert_true(hp__upstream_pick_target(&two, NULL, 0, 0, &pick));
        assert_int_equal(pick.target, 1);
        hp__upstream_report(&two, &pick, HP__UPSTREAM_SUCCESS);
    }
    hp__upstream_picker_close(&one);
    hp__upstream_picker_close(&two);
    hp__upstream_unref(u);
}

static void an_abandoned_pick_counts_neither_way(void **state)
{
    hp__upstream *u = upstream_of(1, passive_after_one);
    hp__upstream_picker p;
    hp__upstream_picker_init(&p, u);
    hp__upstream_pick pick;
    for (int i = 0; i < 3; i++) {
        assert_true(hp__upstream_pick_target(&p, NULL, 0, 0, &pick));
        hp__upstream_report(&p, &pick, HP__UPSTREAM_ABANDONED);
    }
    hp__upstream_target_view v;
    hp__upstream_target_view_of(u, 0, &v);
    assert_true(v.available);
    assert_int_equal(v.failures, 0);
    hp__upstream_picker_close(&p);
    hp__upstream_unref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_in_flight_and_max_pending_admit_up_to_their_cap),
        cmocka_unit_test(zero_caps_admit_everything),
        cmocka_unit_test(a_pick_skips_the_targets_already_tried),
        cmocka_unit_test(health_down_takes_a_target_out_logs_it_and_calls_for_attention),
        cmocka_unit_test(the_transitions_log_keeps_the_newest_and_counts_what_it_lost),
        cmocka_unit_test(an_open_breaker_refuses_every_pick_and_says_when_to_retry),
        cmocka_unit_test(a_failure_seen_by_one_worker_takes_the_target_out_for_the_others),
        cmocka_unit_test(an_abandoned_pick_counts_neither_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
