/* The timer scheduler of src/core (src/core/sched.c) and the clocks it runs on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/sched.h"

/* Every callback appends (tag, now) here. */
static struct {
    int tag[4096];
    uint64_t now[4096];
    size_t n;
} ran;

static void record(hp__sched *s, uint64_t now, void *data)
{
    ran.tag[ran.n] = (int)(intptr_t)data;
    ran.now[ran.n] = now;
    ran.n++;
}

static int reset_log(void **state)
{
    ran.n = 0;
    return 0;
}

static void add_tag(hp__sched *s, uint64_t at, int tag)
{
    hp__sched_add(s, at, record, (void *)(intptr_t)tag);
}

static void assert_ran(const int *tags, size_t n)
{
    assert_int_equal(ran.n, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(ran.tag[i], tags[i]);
}

static void timers_run_in_due_order(void **state)
{
    hp__vclock vc;
    hp__vclock_init(&vc, 0);
    hp__sched s;
    hp__sched_init(&s, hp__vclock_clock(&vc));
    add_tag(&s, 30, 3);
    add_tag(&s, 10, 1);
    add_tag(&s, 20, 2);
    assert_int_equal(hp__sched_run_due(&s, 100), 3);
    assert_ran((int[]){1, 2, 3}, 3);
    for (size_t i = 0; i < 3; i++) assert_int_equal(ran.now[i], 100);
    hp__sched_close(&s);
}

static void equal_due_times_run_in_insertion_order(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    add_tag(&s, 50, 1);
    add_tag(&s, 40, 0);
    add_tag(&s, 50, 2);
    add_tag(&s, 60, 5);
    add_tag(&s, 50, 3);
    add_tag(&s, 50, 4);
    hp__sched_run_due(&s, 60);
    assert_ran((int[]){0, 1, 2, 3, 4, 5}, 6);
    hp__sched_close(&s);
}

static void only_timers_due_by_now_run(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    add_tag(&s, 10, 1);
    add_tag(&s, 20, 2);
    assert_int_equal(hp__sched_run_due(&s, 9), 0);
    assert_int_equal(hp__sched_run_due(&s, 10), 1);
    assert_ran((int[]){1}, 1);
    assert_int_equal(hp__sched_pending(&s), 1);
    assert_int_equal(hp__sched_next_due(&s), 20);
    assert_int_equal(hp__sched_run_due(&s, 19), 0);
    assert_int_equal(hp__sched_run_due(&s, 25), 1);
    assert_ran((int[]){1, 2}, 2);
    assert_int_equal(hp__sched_pending(&s), 0);
    hp__sched_close(&s);
}

static void a_cancelled_timer_never_runs(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    add_tag(&s, 10, 1);
    uint64_t id = hp__sched_add(&s, 20, record, (void *)(intptr_t)2);
    add_tag(&s, 30, 3);
    assert_int_not_equal(id, 0);
    assert_true(hp__sched_cancel(&s, id));
    assert_false(hp__sched_cancel(&s, id)); /* twice: a no-op */
    assert_false(hp__sched_cancel(&s, 0));
    assert_false(hp__sched_cancel(&s, 12345678));
    assert_int_equal(hp__sched_pending(&s), 2);
    hp__sched_run_due(&s, 100);
    assert_ran((int[]){1, 3}, 2);
    hp__sched_close(&s);
}

static void the_id_of_a_timer_that_ran_cancels_nothing(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    uint64_t old = hp__sched_add(&s, 10, record, (void *)(intptr_t)1);
    hp__sched_run_due(&s, 10);
    /* The new timer reuses the freed slot; the old id must not reach it. */
    uint64_t young = hp__sched_add(&s, 20, record, (void *)(intptr_t)2);
    assert_int_not_equal(old, young);
    assert_false(hp__sched_cancel(&s, old));
    hp__sched_run_due(&s, 20);
    assert_ran((int[]){1, 2}, 2);
    assert_false(hp__sched_cancel(&s, young));
    hp__sched_close(&s);
}

/* A callback that adds timers: one already due (in the past), one due exactly now, one
 * between the pending ones, one in the future. */
static void add_more(hp__sched *s, uint64_t now, void *data)
{
    record(s, now, data);
    add_tag(s, 5, 11);
    add_tag(s, now, 12);
    add_tag(s, 25, 13);
    add_tag(s, 1000, 14);
}

static void timers_added_while_running_run_when_already_due(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    hp__sched_add(&s, 10, add_more, (void *)(intptr_t)1);
    add_tag(&s, 20, 2);
    add_tag(&s, 30, 3);
    assert_int_equal(hp__sched_run_due(&s, 30), 6);
    /* In due order: 5 (added, past), 20, 25 (added), 30 (both; 3 was added first). */
    assert_ran((int[]){1, 11, 2, 13, 3, 12}, 6);
    assert_int_equal(hp__sched_next_due(&s), 1000);
    hp__sched_close(&s);
}

static uint64_t victim;

static void cancel_victim(hp__sched *s, uint64_t now, void *data)
{
    record(s, now, data);
    assert_true(hp__sched_cancel(s, victim));
}

static void a_callback_may_cancel_a_pending_timer(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    hp__sched_add(&s, 10, cancel_victim, (void *)(intptr_t)1);
    victim = hp__sched_add(&s, 10, record, (void *)(intptr_t)2);
    add_tag(&s, 10, 3);
    hp__sched_run_due(&s, 10);
    assert_ran((int[]){1, 3}, 2);
    hp__sched_close(&s);
}

static void next_due_is_the_earliest_pending(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    assert_int_equal(hp__sched_next_due(&s), HP__SCHED_NEVER);
    add_tag(&s, 70, 1);
    assert_int_equal(hp__sched_next_due(&s), 70);
    uint64_t early = hp__sched_add(&s, 40, record, NULL);
    add_tag(&s, 55, 2);
    assert_int_equal(hp__sched_next_due(&s), 40);
    hp__sched_cancel(&s, early);
    assert_int_equal(hp__sched_next_due(&s), 55);
    hp__sched_run_due(&s, 55);
    assert_int_equal(hp__sched_next_due(&s), 70);
    hp__sched_run_due(&s, 70);
    assert_int_equal(hp__sched_next_due(&s), HP__SCHED_NEVER);
    hp__sched_close(&s);
}

/* Many timers with pseudo-random due times, a third cancelled: the rest run exactly once,
 * in (due time, insertion) order. Exercises the heap's sift and remove paths. */
static void many_timers_keep_the_order(void **state)
{
    enum { N = 3000 };
    static uint64_t ids[N], due[N];
    static bool cancelled[N];
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        due[i] = (x >> 16) % 500;
        cancelled[i] = false;
        ids[i] = hp__sched_add(&s, due[i], record, (void *)(intptr_t)i);
    }
    size_t left = N;
    for (int i = 0; i < N; i += 3) {
        assert_true(hp__sched_cancel(&s, ids[i]));
        cancelled[i] = true;
        left--;
    }
    assert_int_equal(hp__sched_pending(&s), left);
    assert_int_equal(hp__sched_run_due(&s, 1000), left);
    assert_int_equal(ran.n, left);
    for (size_t k = 0; k < ran.n; k++) {
        int i = ran.tag[k];
        assert_false(cancelled[i]);
        if (k > 0) {
            int p = ran.tag[k - 1];
            assert_true(due[p] < due[i] || (due[p] == due[i] && p < i));
        }
    }
    hp__sched_close(&s);
}

static struct {
    uint64_t due[8];
    size_t n;
} wakeups;

static void on_wakeup(hp__sched *s, uint64_t due, void *data)
{
    wakeups.due[wakeups.n++] = due;
}

static void add_early(hp__sched *s, uint64_t now, void *data)
{
    add_tag(s, 1, 9);
}

static void the_wakeup_hook_hears_of_earlier_timers_only(void **state)
{
    hp__sched s;
    hp__sched_init(&s, hp__clock_monotonic());
    wakeups.n = 0;
    hp__sched_set_wakeup(&s, on_wakeup, NULL);
    add_tag(&s, 50, 1); /* first: earliest */
    add_tag(&s, 60, 2); /* later: no wakeup */
    add_tag(&s, 50, 3); /* same time, after the first: no wakeup */
    add_tag(&s, 40, 4); /* earlier */
    hp__sched_add(&s, 45, add_early, NULL);
    hp__sched_run_due(&s, 45); /* the driver re-reads next_due itself: no wakeup inside */
    assert_int_equal(wakeups.n, 2);
    assert_int_equal(wakeups.due[0], 50);
    assert_int_equal(wakeups.due[1], 40);
    hp__sched_close(&s);
}

static void advance_runs_each_timer_at_its_due_time(void **state)
{
    hp__vclock vc;
    hp__vclock_init(&vc, 1000);
    hp__sched s;
    hp__sched_init(&s, hp__vclock_clock(&vc));
    assert_int_equal(hp__sched_now(&s), 1000);
    add_tag(&s, 1500, 1);
    add_tag(&s, 1200, 2);
    add_tag(&s, 900, 3); /* already due: runs at the current time */
    add_tag(&s, 3000, 4);
    hp__sched_advance(&s, &vc, 1500);
    assert_int_equal(vc.now, 2500);
    assert_ran((int[]){3, 2, 1}, 3);
    assert_int_equal(ran.now[0], 1000);
    assert_int_equal(ran.now[1], 1200);
    assert_int_equal(ran.now[2], 1500);
    hp__sched_advance(&s, &vc, 500);
    assert_ran((int[]){3, 2, 1, 4}, 4);
    assert_int_equal(ran.now[3], 3000);
    hp__sched_close(&s);
}

static void clocks_tell_the_time(void **state)
{
    hp__vclock vc;
    hp__vclock_init(&vc, 7);
    hp__clock virtual = hp__vclock_clock(&vc);
    assert_int_equal(hp__clock_now(&virtual), 7);
    hp__vclock_advance(&vc, 93);
    assert_int_equal(hp__clock_now(&virtual), 100);

    hp__clock real = hp__clock_monotonic();
    uint64_t a = hp__clock_now(&real), b = hp__clock_now(&real);
    assert_true(a > 0);
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(timers_run_in_due_order, reset_log),
        cmocka_unit_test_setup(equal_due_times_run_in_insertion_order, reset_log),
        cmocka_unit_test_setup(only_timers_due_by_now_run, reset_log),
        cmocka_unit_test_setup(a_cancelled_timer_never_runs, reset_log),
        cmocka_unit_test_setup(the_id_of_a_timer_that_ran_cancels_nothing, reset_log),
        cmocka_unit_test_setup(timers_added_while_running_run_when_already_due, reset_log),
        cmocka_unit_test_setup(a_callback_may_cancel_a_pending_timer, reset_log),
        cmocka_unit_test_setup(next_due_is_the_earliest_pending, reset_log),
        cmocka_unit_test_setup(many_timers_keep_the_order, reset_log),
        cmocka_unit_test_setup(the_wakeup_hook_hears_of_earlier_timers_only, reset_log),
        cmocka_unit_test_setup(advance_runs_each_timer_at_its_due_time, reset_log),
        cmocka_unit_test_setup(clocks_tell_the_time, reset_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
