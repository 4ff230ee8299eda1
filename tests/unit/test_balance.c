/* The balancers of src/core (balance.c, balance_rr.c, balance_lc.c, balance_hash.c): exact
 * sequences, targets out and back, "no target", and the consistent hash's stability on
 * 10,000 keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/balance.h"
#include "hostpool/errors.h"

#include <stdio.h>
#include <string.h>

#define NKEYS 10000

static const char *ids[] = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                            "10.0.0.4:80", "10.0.0.5:80", "unix:/run/a.sock"};

static hp__balance *make(hp__balance_kind kind, const uint32_t *weights, uint32_t n)
{
    hp__balance_target targets[8];
    for (uint32_t i = 0; i < n; i++) targets[i] = (hp__balance_target){ids[i], weights[i]};
    hp__balance *b;
    assert_int_equal(hp__balance_create(kind, targets, n, &b), 0);
    assert_non_null(b);
    return b;
}

/* `count` picks, each released at once, as letters a, b, c... ('-' for no target). */
static const char *sequence(hp__balance *b, size_t count)
{
    static char out[128];
    for (size_t i = 0; i < count; i++) {
        uint32_t t = hp__balance_pick(b, NULL, 0);
        out[i] = t == HP__BALANCE_NONE ? '-' : (char)('a' + t);
        hp__balance_release(b, t);
    }
    out[count] = 0;
    return out;
}

static void create_refuses_what_it_cannot_balance(void **state)
{
    hp__balance_target ok = {"x:1", 1}, zero = {"x:1", 0}, heavy = {"x:1", 101},
                       anonymous = {NULL, 1};
    hp__balance_target many[HP__BALANCE_MAX_TARGETS + 1];
    for (size_t i = 0; i <= HP__BALANCE_MAX_TARGETS; i++) many[i] = ok;
    hp__balance *b = (hp__balance *)&ok;
    assert_int_equal(hp__balance_create(HP__BALANCE_ROUND_ROBIN, &ok, 0, &b), HP_EINVAL);
    assert_null(b);
    assert_int_equal(hp__balance_create(HP__BALANCE_ROUND_ROBIN, &zero, 1, &b), HP_EINVAL);
    assert_int_equal(hp__balance_create(HP__BALANCE_LEAST_CONN, &heavy, 1, &b), HP_EINVAL);
    assert_int_equal(hp__balance_create(HP__BALANCE_HASH, &anonymous, 1, &b), HP_EINVAL);
    assert_int_equal(
        hp__balance_create(HP__BALANCE_ROUND_ROBIN, many, HP__BALANCE_MAX_TARGETS + 1, &b),
        HP_EINVAL);
    assert_int_equal(hp__balance_create(HP__BALANCE_ROUND_ROBIN, &anonymous, 1, &b), 0);
    hp__balance_destroy(b);
    assert_int_equal(hp__balance_create(HP__BALANCE_HASH, many, HP__BALANCE_MAX_TARGETS, &b), 0);
    assert_int_equal(hp__balance_kind_of(b), HP__BALANCE_HASH);
    hp__balance_destroy(b);
    hp__balance_destroy(NULL);
    assert_string_equal(hp__balance_kind_name(HP__BALANCE_ROUND_ROBIN), "round_robin");
    assert_string_equal(hp__balance_kind_name(HP__BALANCE_LEAST_CONN), "least_conn");
    assert_string_equal(hp__balance_kind_name(HP__BALANCE_HASH), "hash");
}

/* --- round robin ----------------------------------------------------------------------- */

static void round_robin_weights_5_1_1_give_a_a_b_a_c_a_a(void **state)
{
    hp__balance *b = make(HP__BALANCE_ROUND_ROBIN, (uint32_t[]){5, 1, 1}, 3);
    assert_string_equal(sequence(b, 21), "aabacaa"
                                         "aabacaa"
                                         "aabacaa");
    hp__balance_destroy(b);
}

static void round_robin_equal_weights_rotate(void **state)
{
    hp__balance *b = make(HP__BALANCE_ROUND_ROBIN, (uint32_t[]){1, 1, 1}, 3);
    assert_string_equal(sequence(b, 7), "abcabca");
    hp__balance_destroy(b);
    b = make(HP__BALANCE_ROUND_ROBIN, (uint32_t[]){2, 3}, 2);
    assert_string_equal(sequence(b, 10), "babab"
                                         "babab");
    hp__balance_destroy(b);
}

static void round_robin_skips_a_target_out_and_takes_it_back(void **state)
{
    hp__balance *b = make(HP__BALANCE_ROUND_ROBIN, (uint32_t[]){5, 1, 1}, 3);
    assert_string_equal(sequence(b, 3), "aab");
    hp__balance_set_out(b, 1, HP__BALANCE_OUT_PASSIVE, true);
    /* The period of 5,1: a a a c a a. */
    assert_string_equal(sequence(b, 12), "aaacaa"
                                         "aaacaa");
    hp__balance_set_out(b, 1, HP__BALANCE_OUT_PASSIVE, false);
    assert_string_equal(sequence(b, 7), "aabacaa");
    hp__balance_destroy(b);
}

/* --- every kind ------------------------------------------------------------------------- */

static void every_kind_reports_no_target_when_all_are_out(void **state)
{
    for (int kind = HP__BALANCE_ROUND_ROBIN; kind <= HP__BALANCE_HASH; kind++) {
        hp__balance *b = make((hp__balance_kind)kind, (uint32_t[]){1, 2}, 2);
        hp__balance_set_out(b, 0, HP__BALANCE_OUT_HEALTH, true);
        hp__balance_set_out(b, 1, HP__BALANCE_OUT_BREAKER, true);
        assert_int_equal(hp__balance_count_in(b), 0);
        assert_int_equal(hp__balance_pick(b, "k", 1), HP__BALANCE_NONE);
        hp__balance_set_out(b, 1, HP__BALANCE_OUT_BREAKER, false);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(hp__balance_pick(b, &i, sizeof i), 1);
            hp__balance_release(b, 1);
        }
        hp__balance_destroy(b);
    }
}

static void a_target_is_out_while_any_reason_holds(void **state)
{
    hp__balance *b = make(HP__BALANCE_ROUND_ROBIN, (uint32_t[]){1, 1}, 2);
    hp__balance_set_out(b, 0, HP__BALANCE_OUT_HEALTH, true);
    hp__balance_set_out(b, 0, HP__BALANCE_OUT_BREAKER, true);
    hp__balance_set_out(b, 0, HP__BALANCE_OUT_BREAKER, false);
    assert_true(hp__balance_is_out(b, 0));
    assert_int_equal(hp__balance_count_in(b), 1);
    assert_string_equal(sequence(b, 3), "bbb");
    hp__balance_set_out(b, 0, HP__BALANCE_OUT_PASSIVE, false); /* never set: no change */
    assert_true(hp__balance_is_out(b, 0));
    hp__balance_set_out(b, 0, HP__BALANCE_OUT_HEALTH, false);
    assert_false(hp__balance_is_out(b, 0));
    assert_int_equal(hp__balance_count_in(b), 2);
    assert_string_equal(sequence(b, 4), "abab");
    hp__balance_destroy(b);
}

static void picks_count_in_flight_until_released(void **state)
{
    for (int kind = HP__BALANCE_ROUND_ROBIN; kind <= HP__BALANCE_HASH; kind++) {
        hp__balance *b = make((hp__balance_kind)kind, (uint32_t[]){1}, 1);
        assert_int_equal(hp__balance_pick(b, "k", 1), 0);
        assert_int_equal(hp__balance_pick(b, "k", 1), 0);
        assert_int_equal(hp__balance_in_flight(b, 0), 2);
        hp__balance_set_out(b, 0, HP__BALANCE_OUT_HEALTH, true); /* released while out */
        hp__balance_release(b, 0);
        hp__balance_release(b, 0);
        hp__balance_release(b, 0); /* one too many: ignored */
        hp__balance_release(b, HP__BALANCE_NONE);
        assert_int_equal(hp__balance_in_flight(b, 0), 0);
        hp__balance_set_out(b, 0, HP__BALANCE_OUT_HEALTH, false);
        assert_int_equal(hp__balance_pick(b, "k", 1), 0);
        hp__balance_release(b, 0);
        hp__balance_destroy(b);
    }
}

/* --- least connections ------------------------------------------------------------------ */

static void least_conn_picks_the_fewest_in_flight(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){1, 1, 1}, 3);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 0);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 1);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 2);
    hp__balance_release(b, 1);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 1);
    hp__balance_release(b, 2);
    hp__balance_release(b, 0);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 0); /* 0 and 2 idle: 0's turn is first */
    assert_int_equal(hp__balance_pick(b, NULL, 0), 2);
    hp__balance_destroy(b);
}

static void least_conn_loads_targets_in_proportion_to_weight(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){2, 1}, 2);
    for (int i = 0; i < 30; i++) hp__balance_pick(b, NULL, 0); /* none released */
    assert_int_equal(hp__balance_in_flight(b, 0), 20);
    assert_int_equal(hp__balance_in_flight(b, 1), 10);
    hp__balance_destroy(b);
}

static void least_conn_ties_rotate_by_weight(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){1, 1, 1}, 3);
    assert_string_equal(sequence(b, 7), "abcabca");
    hp__balance_destroy(b);
    b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){3, 1}, 2);
    assert_string_equal(sequence(b, 10), "abaaabaaab");
    hp__balance_destroy(b);
}

static void least_conn_a_target_back_takes_no_burst(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){1, 1}, 2);
    hp__balance_set_out(b, 1, HP__BALANCE_OUT_HEALTH, true);
    assert_string_equal(sequence(b, 10), "aaaaaaaaaa");
    hp__balance_set_out(b, 1, HP__BALANCE_OUT_HEALTH, false);
    assert_string_equal(sequence(b, 6), "bababa");
    hp__balance_destroy(b);
}

static void least_conn_a_long_request_ending_takes_no_burst(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){1, 1}, 2);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 0); /* held */
    assert_string_equal(sequence(b, 10), "bbbbbbbbbb");
    hp__balance_release(b, 0);
    assert_string_equal(sequence(b, 6), "ababab");
    hp__balance_destroy(b);
}

static void least_conn_survives_targets_leaving_mid_heap(void **state)
{
    hp__balance *b = make(HP__BALANCE_LEAST_CONN, (uint32_t[]){1, 1, 1, 1, 1}, 5);
    for (int i = 0; i < 5; i++) hp__balance_pick(b, NULL, 0); /* one in flight on each */
    hp__balance_release(b, 3);
    hp__balance_set_out(b, 1, HP__BALANCE_OUT_PASSIVE, true);
    hp__balance_set_out(b, 3, HP__BALANCE_OUT_PASSIVE, true);
    hp__balance_release(b, 4);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 4); /* the only idle target in */
    hp__balance_set_out(b, 3, HP__BALANCE_OUT_PASSIVE, false);
    assert_int_equal(hp__balance_pick(b, NULL, 0), 3);
    for (int i = 0; i < 3; i++) assert_int_not_equal(hp__balance_pick(b, NULL, 0), 1);
    hp__balance_destroy(b);
}

/* --- consistent hashing ----------------------------------------------------------------- */

static uint32_t pick_key(hp__balance *b, int k)
{
    char key[32];
    int len = snprintf(key, sizeof key, "user-%d", k);
    uint32_t t = hp__balance_pick(b, key, (size_t)len);
    hp__balance_release(b, t);
    return t;
}

static void hash_maps_a_key_to_the_same_target_every_time(void **state)
{
    hp__balance *b = make(HP__BALANCE_HASH, (uint32_t[]){1, 1, 1, 1}, 4);
    size_t per_target[4] = {0};
    for (int k = 0; k < NKEYS; k++) {
        uint32_t t = pick_key(b, k);
        assert_int_equal(pick_key(b, k), t);
        per_target[t]++;
    }
    for (int t = 0; t < 4; t++) { /* a fair share is 2,500 */
        assert_true(per_target[t] > 1800);
        assert_true(per_target[t] < 3200);
    }
    hp__balance_destroy(b);
}

static void hash_a_target_leaving_moves_only_its_own_keys(void **state)
{
    hp__balance *b = make(HP__BALANCE_HASH, (uint32_t[]){1, 1, 1, 1, 1}, 5);
    static uint32_t before[NKEYS];
    for (int k = 0; k < NKEYS; k++) before[k] = pick_key(b, k);
    hp__balance_set_out(b, 2, HP__BALANCE_OUT_HEALTH, true);
    size_t moved = 0, moved_to[5] = {0};
    for (int k = 0; k < NKEYS; k++) {
        uint32_t now = pick_key(b, k);
        if (before[k] != 2) {
            assert_int_equal(now, before[k]);
            continue;
        }
        assert_int_not_equal(now, 2);
        moved++;
        moved_to[now]++;
    }
    assert_true(moved > 1400 && moved < 2600); /* its share: about 2,000 */
    for (int t = 0; t < 5; t++) {              /* spread over the four others, not dumped on one */
        if (t == 2) continue;
        assert_true(moved_to[t] > moved / 8);
        assert_true(moved_to[t] < moved / 2);
    }
    hp__balance_set_out(b, 2, HP__BALANCE_OUT_HEALTH, false);
    for (int k = 0; k < NKEYS; k++) assert_int_equal(pick_key(b, k), before[k]);
    hp__balance_destroy(b);
}

static void hash_places_targets_by_address_not_by_position(void **state)
{
    hp__balance_target forward[3] = {{"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}, {"10.0.0.3:80", 1}};
    hp__balance_target shuffled[4] = {
        {"10.0.0.3:80", 1}, {"10.0.0.9:80", 1}, {"10.0.0.1:80", 1}, {"10.0.0.2:80", 1}};
    hp__balance *a, *b;
    assert_int_equal(hp__balance_create(HP__BALANCE_HASH, forward, 3, &a), 0);
    assert_int_equal(hp__balance_create(HP__BALANCE_HASH, shuffled, 4, &b), 0);
    size_t moved = 0;
    for (int k = 0; k < NKEYS; k++) {
        const char *in_a = forward[pick_key(a, k)].id, *in_b = shuffled[pick_key(b, k)].id;
        /* Adding 10.0.0.9 takes keys only for itself; the rest stay with the same address. */
        if (strcmp(in_b, "10.0.0.9:80") == 0)
            moved++;
        else
            assert_string_equal(in_a, in_b);
    }
    assert_true(moved > 1800 && moved < 3200);
    hp__balance_destroy(a);
    hp__balance_destroy(b);
}

static void hash_shares_follow_weights(void **state)
{
    hp__balance *b = make(HP__BALANCE_HASH, (uint32_t[]){1, 3}, 2);
    size_t heavy = 0;
    for (int k = 0; k < NKEYS; k++) heavy += pick_key(b, k) == 1;
    assert_true(heavy > 6800 && heavy < 8200); /* 7,500 expected */
    hp__balance_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_refuses_what_it_cannot_balance),
        cmocka_unit_test(round_robin_weights_5_1_1_give_a_a_b_a_c_a_a),
        cmocka_unit_test(round_robin_equal_weights_rotate),
        cmocka_unit_test(round_robin_skips_a_target_out_and_takes_it_back),
        cmocka_unit_test(every_kind_reports_no_target_when_all_are_out),
        cmocka_unit_test(a_target_is_out_while_any_reason_holds),
        cmocka_unit_test(picks_count_in_flight_until_released),
        cmocka_unit_test(least_conn_picks_the_fewest_in_flight),
        cmocka_unit_test(least_conn_loads_targets_in_proportion_to_weight),
        cmocka_unit_test(least_conn_ties_rotate_by_weight),
        cmocka_unit_test(least_conn_a_target_back_takes_no_burst),
        cmocka_unit_test(least_conn_a_long_request_ending_takes_no_burst),
        cmocka_unit_test(least_conn_survives_targets_leaving_mid_heap),
        cmocka_unit_test(hash_maps_a_key_to_the_same_target_every_time),
        cmocka_unit_test(hash_a_target_leaving_moves_only_its_own_keys),
        cmocka_unit_test(hash_places_targets_by_address_not_by_position),
        cmocka_unit_test(hash_shares_follow_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
