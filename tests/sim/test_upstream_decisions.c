/* The three decision pieces wired as the proxy wires them, on one virtual clock: a balancer
 * whose out bits follow passive health and the breaker through their change callbacks. It
 * checks the contract in docs (notes/core.md): a target taken out by either is skipped, and
 * comes back at the time its rules say, with no request needed to notice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/balance.h"
#include "core/breaker.h"
#include "core/passive.h"
#include "core/sched.h"

#include <string.h>

#define T0 100000
#define NT 2

typedef struct upstream {
    hp__vclock vc;
    hp__sched sched;
    hp__balance *balance;
    hp__passive passive[NT];
    hp__breaker breaker[NT];
} upstream;

static uint32_t index_of_passive(upstream *u, hp__passive *p)
{
    return (uint32_t)(p - u->passive);
}

static void passive_changed(hp__passive *p, bool available, void *data)
{
    upstream *u = data;
    hp__balance_set_out(u->balance, index_of_passive(u, p), HP__BALANCE_OUT_PASSIVE, !available);
}

static void breaker_sync(upstream *u, uint32_t t)
{
    hp__balance_set_out(u->balance, t, HP__BALANCE_OUT_BREAKER,
                        !hp__breaker_admits(&u->breaker[t]));
}

static void breaker_changed(hp__breaker *b, hp__breaker_state from, hp__breaker_state to,
                            void *data)
{
    upstream *u = data;
    breaker_sync(u, (uint32_t)(b - u->breaker));
}

static void up_init(upstream *u, uint32_t max_fails)
{
    memset(u, 0, sizeof *u);
    hp__vclock_init(&u->vc, T0);
    hp__sched_init(&u->sched, hp__vclock_clock(&u->vc));
    hp__balance_target targets[NT] = {{"127.0.0.1:9001", 1}, {"127.0.0.1:9002", 1}};
    assert_int_equal(hp__balance_create(HP__BALANCE_ROUND_ROBIN, targets, NT, &u->balance), 0);
    hp__passive_config pc;
    hp__passive_config_default(&pc);
    pc.max_fails = max_fails;
    hp__breaker_config bc;
    hp__breaker_config_default(&bc);
    for (uint32_t t = 0; t < NT; t++) {
        hp__passive_init(&u->passive[t], &u->sched, &pc, passive_changed, u);
        hp__breaker_init(&u->breaker[t], &u->sched, &bc, breaker_changed, u);
    }
}

static void up_end(upstream *u)
{
    for (uint32_t t = 0; t < NT; t++) {
        hp__passive_close(&u->passive[t]);
        hp__breaker_close(&u->breaker[t]);
    }
    hp__balance_destroy(u->balance);
    assert_int_equal(hp__sched_pending(&u->sched), 0);
    hp__sched_close(&u->sched);
}

static void up_run_to(upstream *u, uint64_t t)
{
    hp__sched_advance(&u->sched, &u->vc, t - u->vc.now);
}

/* One request as the proxy makes it. `fails` says which targets fail ("b": the second).
 * Returns the target's letter, or '-' when none is available or the breaker refused. */
static char request(upstream *u, const char *fails)
{
    uint32_t t = hp__balance_pick(u->balance, NULL, 0);
    if (t == HP__BALANCE_NONE) return '-';
    hp__passive_picked(&u->passive[t]);
    hp__breaker_ticket ticket = hp__breaker_acquire(&u->breaker[t]);
    breaker_sync(u, t);
    char letter = (char)('a' + t);
    bool failed = strchr(fails, letter) != NULL;
    if (ticket != HP__BREAKER_REFUSED) {
        hp__breaker_report(&u->breaker[t], ticket,
                           failed ? HP__BREAKER_FAILURE : HP__BREAKER_SUCCESS);
        breaker_sync(u, t);
    }
    hp__passive_report(&u->passive[t], failed);
    hp__balance_release(u->balance, t);
    return ticket == HP__BREAKER_REFUSED ? '-' : letter;
}

static const char *requests(upstream *u, size_t n, const char *fails)
{
    static char out[64];
    for (size_t i = 0; i < n; i++) out[i] = request(u, fails);
    out[n] = 0;
    return out;
}

static void passive_health_takes_a_target_out_and_its_trial_brings_it_back(void **state)
{
    upstream u;
    up_init(&u, 1);
    assert_string_equal(requests(&u, 4, "b"), "abaa"); /* b fails once: out */
    assert_string_equal(requests(&u, 4, ""), "aaaa");
    up_run_to(&u, T0 + 9999);
    assert_string_equal(requests(&u, 2, ""), "aa");
    up_run_to(&u, T0 + 10000); /* back for its trial, which succeeds */
    assert_string_equal(requests(&u, 4, ""), "abab");
    up_end(&u);
}

static void an_open_breaker_is_skipped_until_its_trials_close_it(void **state)
{
    upstream u;
    up_init(&u, 0); /* passive health off: the breaker alone */
    assert_string_equal(requests(&u, 10, "b"), "ababababab"); /* b's fifth failure opens it */
    assert_int_equal(hp__breaker_state_of(&u.breaker[1]), HP__BREAKER_OPEN);
    assert_string_equal(requests(&u, 4, ""), "aaaa");
    up_run_to(&u, T0 + 30000); /* half-open: three trials */
    assert_false(hp__balance_is_out(u.balance, 1));
    assert_string_equal(requests(&u, 8, ""), "ababab"
                                             "ab");
    assert_int_equal(hp__breaker_state_of(&u.breaker[1]), HP__BREAKER_CLOSED);
    up_end(&u);
}

static void a_half_open_target_with_its_trials_running_is_skipped(void **state)
{
    upstream u;
    up_init(&u, 0);
    requests(&u, 10, "b");
    up_run_to(&u, T0 + 30000);
    hp__breaker_ticket trials[3];
    for (int i = 0; i < 3; i++) trials[i] = hp__breaker_acquire(&u.breaker[1]);
    breaker_sync(&u, 1);
    assert_true(hp__balance_is_out(u.balance, 1)); /* no trial place left */
    assert_string_equal(requests(&u, 3, ""), "aaa");
    hp__breaker_report(&u.breaker[1], trials[0], HP__BREAKER_FAILURE);
    assert_int_equal(hp__breaker_state_of(&u.breaker[1]), HP__BREAKER_OPEN);
    assert_true(hp__balance_is_out(u.balance, 1));
    up_run_to(&u, T0 + 60000);
    assert_false(hp__balance_is_out(u.balance, 1));
    up_end(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passive_health_takes_a_target_out_and_its_trial_brings_it_back),
        cmocka_unit_test(an_open_breaker_is_skipped_until_its_trials_close_it),
        cmocka_unit_test(a_half_open_target_with_its_trials_running_is_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
