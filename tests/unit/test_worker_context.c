/* The worker context without an engine (src/io/worker_context.c, worker_handlers.c, timer.c),
 * on a loop of the test's own: handlers with per-worker hooks are started once per server set
 * that uses them and stopped with the last, their data is found by handler whatever the table
 * went through (growth, removals in any order), handlers without hooks are not recorded, and
 * the worker's timers run in due order, stop, restart from their own callback, and are dropped
 * when the context closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/hostpool.h"
#include "hp_test.h"
#include "io/worker_context.h"

#include <stdlib.h>
#include <string.h>

#define HANDLERS 200

/* ---- a hooked handler whose data is its own number ----------------------------------------- */

typedef struct numbered {
    hp_handler base;
    uintptr_t number;
    int started, stopped, drained;
} numbered;

static void *start(hp_handler *self, hp_worker *worker)
{
    numbered *h = (numbered *)self;
    h->started++;
    return (void *)(h->number + 1); /* never NULL */
}

static void drain(hp_handler *self, hp_worker *worker, void *data)
{
    ((numbered *)self)->drained++;
}

static void stop(hp_handler *self, hp_worker *worker, void *data)
{
    numbered *h = (numbered *)self;
    assert_ptr_equal(data, (void *)(h->number + 1));
    h->stopped++;
}

static void on_request(hp_handler *self, hp_request *req) {}

static void destroy_numbered(hp_handler *self) {}

static const hp_handler_vtable numbered_vtable = {
    .name = "numbered",
    .on_request = on_request,
    .destroy = destroy_numbered,
    .worker_start = start,
    .worker_drain = drain,
    .worker_stop = stop,
};

static const hp_handler_vtable plain_vtable = {
    .name = "plain",
    .on_request = on_request,
    .destroy = destroy_numbered,
};

static struct {
    uv_loop_t loop;
    hp_worker worker;
    numbered handlers[HANDLERS];
    hp_server *servers[HANDLERS];
} t;

/* A server whose one route is `route` and whose default is `fallback` (either may be NULL);
 * the handlers stay the test's (disowned before destroy). */
static hp_server *server_with(hp_handler *route, hp_handler *fallback)
{
    hp_route_config r = {.handler = route};
    const char *listen = "127.0.0.1:0";
    hp_server_config c = {.name = "s",
                          .listen = &listen,
                          .listen_count = 1,
                          .routes = route ? &r : NULL,
                          .route_count = route ? 1 : 0,
                          .fallback = fallback};
    hp_limits_init(&c.limits);
    hp_server *s = NULL;
    assert_int_equal(hp_server_create(&c, &s, NULL, 0), 0);
    return s;
}

static void server_free(hp_server *s)
{
    hp__server_disown_handlers(s);
    hp_server_destroy(s);
}

static int setup(void **state)
{
    memset(&t, 0, sizeof t);
    uv_loop_init(&t.loop);
    hp__worker_context_init(&t.worker, &t.loop, 3);
    hp__worker_context_enter(&t.worker);
    for (size_t i = 0; i < HANDLERS; i++) {
        t.handlers[i].base.vt = &numbered_vtable;
        t.handlers[i].number = i;
    }
    return 0;
}

static int teardown(void **state)
{
    hp__worker_context_close(&t.worker);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t.loop), 0);
    for (size_t i = 0; i < HANDLERS; i++)
        if (t.servers[i]) server_free(t.servers[i]);
    return 0;
}

/* ---- handlers ------------------------------------------------------------------------------ */

static void data_is_found_by_handler_through_growth_and_removals_in_any_order(void **state)
{
    for (size_t i = 0; i < HANDLERS; i++) {
        t.servers[i] = server_with(&t.handlers[i].base, NULL);
        hp__worker_handlers_add_server(&t.worker, t.servers[i]);
        hp__worker_handlers_add_server(&t.worker, t.servers[i]); /* a second table naming it */
    }
    for (size_t i = 0; i < HANDLERS; i++) {
        assert_int_equal(t.handlers[i].started, 1);
        assert_ptr_equal(hp_worker_data(&t.worker, &t.handlers[i].base), (void *)(i + 1));
    }
    /* every third, then the odd ones left, in a scrambled order */
    for (size_t k = 0; k < HANDLERS; k++) {
        size_t i = (k * 7919) % HANDLERS;
        if (i % 3 == 0 || i % 2 == 1) hp__worker_handlers_remove_server(&t.worker, t.servers[i]);
    }
    for (size_t i = 0; i < HANDLERS; i++) {
        bool removed = i % 3 == 0 || i % 2 == 1;
        assert_int_equal(t.handlers[i].stopped, removed);
        void *want = removed ? NULL : (void *)(i + 1);
        assert_ptr_equal(hp_worker_data(&t.worker, &t.handlers[i].base), want);
    }
    hp__worker_handlers_drain_all(&t.worker);
    hp__worker_handlers_close(&t.worker);
    for (size_t i = 0; i < HANDLERS; i++) {
        assert_int_equal(t.handlers[i].stopped, 1); /* once each, whichever way */
        bool removed = i % 3 == 0 || i % 2 == 1;
        assert_int_equal(t.handlers[i].drained, !removed);
    }
}

static void a_handler_shared_by_servers_starts_once_and_stops_with_the_last(void **state)
{
    hp_handler *shared = &t.handlers[0].base;
    t.servers[0] = server_with(NULL, shared);
    t.servers[1] = server_with(&t.handlers[1].base, shared);
    hp__worker_handlers_add_server(&t.worker, t.servers[0]);
    hp__worker_handlers_add_server(&t.worker, t.servers[1]);
    assert_int_equal(t.handlers[0].started, 1);
    hp__worker_handlers_drain_server(&t.worker, t.servers[0]);
    assert_int_equal(t.handlers[0].drained, 1);
    assert_int_equal(t.handlers[1].drained, 0);
    hp__worker_handlers_remove_server(&t.worker, t.servers[0]);
    assert_int_equal(t.handlers[0].stopped, 0);
    assert_non_null(hp_worker_data(&t.worker, shared));
    hp__worker_handlers_remove_server(&t.worker, t.servers[1]);
    assert_int_equal(t.handlers[0].stopped, 1);
    assert_int_equal(t.handlers[1].stopped, 1);
    hp__worker_handlers_remove_server(&t.worker, t.servers[1]); /* not here any more: ignored */
    assert_int_equal(t.handlers[1].stopped, 1);
}

static void handlers_without_hooks_are_not_recorded(void **state)
{
    numbered plain = {.base.vt = &plain_vtable};
    t.servers[0] = server_with(&plain.base, NULL);
    hp__worker_handlers_add_server(&t.worker, t.servers[0]);
    assert_null(hp_worker_data(&t.worker, &plain.base));
    assert_int_equal(t.worker.handlers.servers.count, 0);
    assert_int_equal(t.worker.handlers.handlers.count, 0);
}

/* ---- timers -------------------------------------------------------------------------------- */

static struct {
    int order[8];
    size_t n;
    int again;        /* times the restarting timer still restarts */
    uv_timer_t alive; /* keeps the loop running until the restarting timer is done */
} fired;

static void record(hp_timer *timer)
{
    fired.order[fired.n++] = (int)(intptr_t)timer->data;
}

static void record_and_restart(hp_timer *timer)
{
    record(timer);
    if (fired.again-- > 0)
        hp_timer_start(timer->worker, timer, 1, record_and_restart);
    else
        uv_close((uv_handle_t *)&fired.alive, NULL);
}

static void never(uv_timer_t *timer)
{
    fail();
}

static void timers_run_in_due_order_stop_and_restart_from_their_callback(void **state)
{
    memset(&fired, 0, sizeof fired);
    hp_timer a = {.data = (void *)1}, b = {.data = (void *)2}, c = {.data = (void *)3};
    hp_timer_start(&t.worker, &a, 20, record);
    hp_timer_start(&t.worker, &b, 5, record);
    hp_timer_start(&t.worker, &c, 10, record);
    hp_timer_stop(&c);
    assert_false(hp_timer_pending(&c));
    assert_true(hp_timer_pending(&a));
    hp_timer d = {.data = (void *)4};
    fired.again = 2;
    hp_timer_start(&t.worker, &d, 30, record_and_restart);
    uint64_t began = hp_worker_now(&t.worker);
    /* The worker's timers keep no loop alive (a worker's loop has more handles): this one
     * does, until the last timer is done. */
    uv_timer_init(&t.loop, &fired.alive);
    uv_timer_start(&fired.alive, never, HP_TEST_DEADLINE_MS, 0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_false(hp_timer_pending(&a));
    assert_false(hp_timer_pending(&d));
    assert_true(hp_worker_now(&t.worker) >= began + 32);
    int want[] = {2, 1, 4, 4, 4};
    assert_int_equal(fired.n, 5);
    assert_memory_equal(fired.order, want, sizeof want);
}

static void timers_still_pending_when_the_context_closes_never_run(void **state)
{
    memset(&fired, 0, sizeof fired);
    hp_timer a = {.data = (void *)1};
    hp_timer_start(&t.worker, &a, 0, record);
    hp__worker_context_close(&t.worker);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(fired.n, 0);
    hp__worker_context_init(&t.worker, &t.loop, 3); /* for the teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            data_is_found_by_handler_through_growth_and_removals_in_any_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_handler_shared_by_servers_starts_once_and_stops_with_the_last, setup, teardown),
        cmocka_unit_test_setup_teardown(handlers_without_hooks_are_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(
            timers_run_in_due_order_stop_and_restart_from_their_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(timers_still_pending_when_the_context_closes_never_run,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
