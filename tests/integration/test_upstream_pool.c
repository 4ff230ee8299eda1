/* The upstream connection pool (src/io/upstream_pool.h) on a real loop, against a TCP listener
 * of the test's own on the same loop that counts the connections it accepts and the ones the
 * pool closes (target 0), and a port bound without listening that refuses them (target 1):
 * idle connections reused most recent first, a connection closed after max_requests,
 * max_connections with a FIFO queue of waiters served by releases (handed over) and by closes
 * (a new connection in the freed slot, whose failure its waiter gets), the acquire timeout,
 * giving up a connection being opened, cancelling a wait in each of its phases, drain and
 * destroy with waiters; and the shared figures exact at every step and back to 0 after
 * destroy.
 *
 * The pool's timers need a worker context: the test makes one on its loop, as a sans-IO driver
 * does (io/worker_context.h). The loop runs until a condition holds, with a deadline; a
 * heartbeat timer keeps each turn of the loop short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hp_test.h"
#include "io/upstream_pool.h"
#include "io/worker_context.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE_MS 5000
#define MAX_ACCEPTED 16

/* A request of the test: what the pool told it. */
typedef struct user {
    hp__upstream_wait wait;
    hp__upstream_conn *conn;
    hp__upstream_conn *opening; /* what acquire said it is connecting */
    int status;
    int calls;
    int order; /* when its callback ran, among all users */
} user;

static struct {
    uv_loop_t loop;
    hp_worker worker;
    uv_timer_t heartbeat;
    uv_tcp_t listener;
    struct sockaddr_storage targets[2]; /* the listener; a port bound without listening */
    int refusing_fd;
    uv_tcp_t *accepted[MAX_ACCEPTED];
    unsigned accepts;
    unsigned closed_by_pool; /* accepted connections that saw EOF */
    hp__upstream_pool_figures figures[2];
    hp__upstream_pool *pool;
    user users[8]; /* outlive the test function: teardown's destroy may answer them */
    int calls;
} t;

/* ---- the listener -------------------------------------------------------------------------- */

static void on_server_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char scratch[256];
    *buf = uv_buf_init(scratch, sizeof scratch);
}

static void on_server_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread >= 0) return;
    t.closed_by_pool++;
    uv_read_stop(s);
}

static void on_accept(uv_stream_t *server, int status)
{
    assert_int_equal(status, 0);
    assert_true(t.accepts < MAX_ACCEPTED);
    uv_tcp_t *c = calloc(1, sizeof *c);
    uv_tcp_init(&t.loop, c);
    assert_int_equal(uv_accept(server, (uv_stream_t *)c), 0);
    uv_read_start((uv_stream_t *)c, on_server_alloc, on_server_read);
    t.accepted[t.accepts++] = c;
}

static void on_heartbeat(uv_timer_t *timer) {}

static void close_free(uv_handle_t *h)
{
    free(h);
}

/* ---- driving the loop ---------------------------------------------------------------------- */

#define RUN_UNTIL(condition)                                                                       \
    do {                                                                                           \
        int64_t deadline_ = hp_test_now_ms() + DEADLINE_MS;                                        \
        while (!(condition)) {                                                                     \
            if (hp_test_now_ms() > deadline_) fail_msg("timed out waiting for %s", #condition);    \
            uv_run(&t.loop, UV_RUN_ONCE);                                                          \
        }                                                                                          \
    } while (0)

static void on_acquired(hp__upstream_conn *conn, int status, void *data)
{
    user *u = data;
    u->conn = conn;
    u->status = status;
    u->calls++;
    u->order = ++t.calls;
}

static hp__upstream_acquire_result acquire_from(size_t target, user *u)
{
    hp__upstream_conn *out = NULL;
    hp__upstream_acquire_result r =
        hp__upstream_pool_acquire(t.pool, target, &u->wait, on_acquired, u, &out);
    if (r == HP__UPSTREAM_GOT_IDLE) {
        assert_non_null(out);
        assert_ptr_equal(hp__upstream_conn_stream(out)->data, u);
        u->conn = out;
    } else if (r == HP__UPSTREAM_CONNECTING) {
        assert_non_null(out);
        u->opening = out;
    } else {
        assert_null(out);
    }
    return r;
}

static hp__upstream_acquire_result acquire(user *u)
{
    return acquire_from(0, u);
}

/* Acquires for a connection that is opened, and waits until it is connected. */
static void acquire_connected(user *u)
{
    assert_int_equal(acquire(u), HP__UPSTREAM_CONNECTING);
    RUN_UNTIL(u->calls == 1);
    assert_int_equal(u->status, 0);
    assert_non_null(u->conn);
}

static void make_pool(unsigned keepalive, unsigned max_connections, unsigned max_requests,
                      uint64_t acquire_timeout_ms)
{
    hp__upstream_pool_options o = {
        .keepalive = keepalive,
        .connect_timeout_ms = DEADLINE_MS,
        .idle_timeout_ms = 60 * 1000,
        .figures = t.figures,
        .max_connections = max_connections,
        .max_requests = max_requests,
        .acquire_timeout_ms = acquire_timeout_ms,
    };
    t.pool = hp__upstream_pool_create(&t.worker, t.targets, 2, &o);
}

static void assert_figures(uint32_t open, uint32_t idle, uint32_t in_use, uint32_t waiting)
{
    assert_int_equal(atomic_load(&t.figures[0].open), open);
    assert_int_equal(atomic_load(&t.figures[0].idle), idle);
    assert_int_equal(atomic_load(&t.figures[0].in_use), in_use);
    assert_int_equal(atomic_load(&t.figures[0].waiting), waiting);
}

static void assert_ever(uint64_t connects, uint64_t reuses)
{
    assert_int_equal(atomic_load(&t.figures[0].connects), connects);
    assert_int_equal(atomic_load(&t.figures[0].reuses), reuses);
}

static int setup(void **state)
{
    memset(&t, 0, sizeof t);
    assert_int_equal(uv_loop_init(&t.loop), 0);
    hp__worker_context_init(&t.worker, &t.loop, 0);
    hp__worker_context_enter(&t.worker);
    uv_timer_init(&t.loop, &t.heartbeat);
    uv_timer_start(&t.heartbeat, on_heartbeat, 10, 10);
    struct sockaddr_in any;
    uv_ip4_addr("127.0.0.1", 0, &any);
    uv_tcp_init(&t.loop, &t.listener);
    assert_int_equal(uv_tcp_bind(&t.listener, (const struct sockaddr *)&any, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&t.listener, 64, on_accept), 0);
    int len = sizeof t.targets[0];
    assert_int_equal(uv_tcp_getsockname(&t.listener, (struct sockaddr *)&t.targets[0], &len), 0);
    t.refusing_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(t.refusing_fd >= 0);
    assert_int_equal(bind(t.refusing_fd, (const struct sockaddr *)&any, sizeof any), 0);
    socklen_t slen = sizeof t.targets[1];
    assert_int_equal(getsockname(t.refusing_fd, (struct sockaddr *)&t.targets[1], &slen), 0);
    return 0;
}

/* Destroys the pool (when the test did not), and checks that every figure of a state went back
 * to 0 and that the listener saw every connection the pool opened closed. */
static int teardown(void **state)
{
    hp__upstream_pool_destroy(t.pool);
    assert_figures(0, 0, 0, 0);
    assert_int_equal(atomic_load(&t.figures[1].open) + atomic_load(&t.figures[1].waiting), 0);
    close(t.refusing_fd);
    RUN_UNTIL(t.closed_by_pool == t.accepts);
    for (unsigned i = 0; i < t.accepts; i++) uv_close((uv_handle_t *)t.accepted[i], close_free);
    uv_close((uv_handle_t *)&t.listener, NULL);
    uv_close((uv_handle_t *)&t.heartbeat, NULL);
    hp__worker_context_close(&t.worker);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t.loop), 0);
    return 0;
}

/* ---- reuse --------------------------------------------------------------------------------- */

static void idle_connections_are_reused_most_recent_first(void **state)
{
    make_pool(4, 0, 0, 1000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    user *d = &t.users[3];
    acquire_connected(a);
    acquire_connected(b);
    RUN_UNTIL(t.accepts == 2);
    assert_figures(2, 0, 2, 0);
    assert_false(hp__upstream_conn_reused(a->conn));

    hp__upstream_pool_release(a->conn, true);
    hp__upstream_pool_release(b->conn, true);
    assert_figures(2, 2, 0, 0);

    assert_int_equal(acquire(c), HP__UPSTREAM_GOT_IDLE);
    assert_ptr_equal(c->conn, b->conn); /* the last released */
    assert_int_equal(acquire(d), HP__UPSTREAM_GOT_IDLE);
    assert_ptr_equal(d->conn, a->conn);
    assert_true(hp__upstream_conn_reused(c->conn));
    assert_int_equal(c->calls + d->calls, 0);
    assert_figures(2, 0, 2, 0);
    assert_ever(2, 2);
    assert_int_equal(t.accepts, 2);
}

static void a_connection_is_closed_at_the_release_after_max_requests(void **state)
{
    make_pool(4, 0, 2, 1000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    acquire_connected(a); /* its first request */
    hp__upstream_pool_release(a->conn, true);
    assert_figures(1, 1, 0, 0);
    assert_int_equal(acquire(b), HP__UPSTREAM_GOT_IDLE); /* its second */
    assert_ptr_equal(b->conn, a->conn);
    hp__upstream_pool_release(b->conn, true);
    assert_figures(0, 0, 0, 0);
    RUN_UNTIL(t.closed_by_pool == 1);

    acquire_connected(c);
    RUN_UNTIL(t.accepts == 2);
    assert_ever(2, 1);
}

/* ---- the limit and its queue --------------------------------------------------------------- */

static void
at_max_connections_waiters_get_released_connections_first_come_first_served(void **state)
{
    make_pool(4, 2, 0, 5000);
    user *u = t.users;
    assert_false(hp__upstream_pool_would_queue(t.pool, 0));
    assert_int_equal(acquire(&u[0]), HP__UPSTREAM_CONNECTING);
    assert_int_equal(acquire(&u[1]), HP__UPSTREAM_CONNECTING);
    assert_true(hp__upstream_pool_would_queue(t.pool, 0));
    for (int i = 2; i < 5; i++) assert_int_equal(acquire(&u[i]), HP__UPSTREAM_QUEUED);
    assert_figures(2, 0, 0, 3);
    assert_ever(2, 0);
    RUN_UNTIL(u[0].calls && u[1].calls);
    assert_int_equal(u[0].status, 0);
    assert_int_equal(u[1].status, 0);
    assert_figures(2, 0, 2, 3);

    /* Each release hands its connection to the oldest waiter, on the next turn of the loop. */
    hp__upstream_conn *first = u[0].conn, *second = u[1].conn;
    hp__upstream_pool_release(first, true);
    assert_int_equal(u[2].calls, 0);
    assert_figures(2, 0, 2, 2);
    RUN_UNTIL(u[2].calls);
    assert_int_equal(u[2].status, 0);
    assert_ptr_equal(u[2].conn, first);
    assert_ptr_equal(hp__upstream_conn_stream(first)->data, &u[2]);
    assert_int_equal(u[3].calls + u[4].calls, 0);

    hp__upstream_pool_release(second, true);
    RUN_UNTIL(u[3].calls);
    assert_ptr_equal(u[3].conn, second);
    hp__upstream_pool_release(u[2].conn, true);
    RUN_UNTIL(u[4].calls);
    assert_ptr_equal(u[4].conn, first);
    assert_true(u[2].order < u[3].order && u[3].order < u[4].order);
    assert_figures(2, 0, 2, 0);
    assert_ever(2, 3);
    assert_int_equal(t.accepts, 2);

    hp__upstream_pool_release(u[3].conn, true);
    hp__upstream_pool_release(u[4].conn, true);
    assert_figures(2, 2, 0, 0);
    assert_false(hp__upstream_pool_would_queue(t.pool, 0));
}

static void a_connection_closed_at_the_limit_frees_a_slot_for_the_oldest_waiter(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    acquire_connected(a);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(c), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_release(a->conn, false);
    assert_figures(1, 0, 0, 1); /* a new connection opening for b */
    assert_ever(2, 0);
    RUN_UNTIL(b->calls);
    assert_int_equal(b->status, 0);
    assert_false(hp__upstream_conn_reused(b->conn));
    RUN_UNTIL(t.accepts == 2 && t.closed_by_pool == 1);
    assert_int_equal(c->calls, 0);
    assert_figures(1, 0, 1, 1);
}

static void a_queued_request_is_answered_eacquire_after_the_acquire_timeout(void **state)
{
    make_pool(4, 1, 0, 50);
    user *a = &t.users[0];
    user *b = &t.users[1];
    acquire_connected(a);
    uv_update_time(&t.loop);
    int64_t queued_at = hp_test_now_ms();
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    RUN_UNTIL(b->calls);
    assert_true(hp_test_now_ms() - queued_at >= 45);
    assert_int_equal(b->status, HP__UPSTREAM_EACQUIRE);
    assert_null(b->conn);
    assert_figures(1, 0, 1, 0);

    hp__upstream_pool_release(a->conn, true); /* nobody waits: it goes idle */
    assert_figures(1, 1, 0, 0);
    assert_int_equal(b->calls, 1);
}

static void a_connection_given_up_while_opening_calls_nothing_back_and_frees_its_slot(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    assert_int_equal(acquire(a), HP__UPSTREAM_CONNECTING);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_release(a->opening, false);
    assert_figures(1, 0, 0, 0); /* b's connection */
    RUN_UNTIL(b->calls);
    assert_int_equal(b->status, 0);
    assert_ptr_not_equal(b->conn, a->opening);
    hp__upstream_pool_cancel(&a->wait); /* given up already: no-op */
    assert_int_equal(a->calls, 0);
    assert_figures(1, 0, 1, 0);
}

static void a_waiter_given_a_freed_slot_gets_that_connections_failure(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    hp__upstream_pool_figures *f = &t.figures[1];
    assert_int_equal(acquire_from(1, a), HP__UPSTREAM_CONNECTING);
    assert_int_equal(acquire_from(1, b), HP__UPSTREAM_QUEUED);
    RUN_UNTIL(b->calls);
    assert_int_equal(a->status, UV_ECONNREFUSED);
    assert_int_equal(b->status, UV_ECONNREFUSED);
    assert_true(a->order < b->order);
    assert_int_equal(atomic_load(&f->open), 0);
    assert_int_equal(atomic_load(&f->waiting), 0);
    assert_int_equal(atomic_load(&f->connects), 2);
}

/* ---- cancelling ---------------------------------------------------------------------------- */

/* b is cancelled while queued: the release skips it, and its acquire timeout, due before d's,
 * never fires (d's does). */
static void a_cancelled_queued_request_is_skipped_and_never_called_back(void **state)
{
    make_pool(4, 1, 0, 100);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    user *d = &t.users[3];
    acquire_connected(a);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(c), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_cancel(&b->wait);
    assert_figures(1, 0, 1, 1);
    hp__upstream_pool_release(a->conn, true);
    RUN_UNTIL(c->calls);
    assert_ptr_equal(c->conn, a->conn);
    hp__upstream_pool_cancel(&c->wait); /* answered already: no-op */

    assert_int_equal(acquire(d), HP__UPSTREAM_QUEUED);
    RUN_UNTIL(d->calls);
    assert_int_equal(d->status, HP__UPSTREAM_EACQUIRE);
    assert_int_equal(b->calls, 0);
    hp__upstream_pool_release(c->conn, true);
    assert_figures(1, 1, 0, 0);
}

static void a_cancel_after_the_handover_passes_the_connection_to_the_next_waiter(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    acquire_connected(a);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(c), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_release(a->conn, true); /* handed to b, told on the next turn */
    hp__upstream_pool_cancel(&b->wait);
    assert_figures(1, 0, 1, 0);
    RUN_UNTIL(c->calls);
    assert_int_equal(b->calls, 0);
    assert_ptr_equal(c->conn, a->conn);
    assert_ever(1, 1);
}

static void a_cancel_while_connecting_for_a_waiter_closes_it_and_serves_the_next(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    acquire_connected(a);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(c), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_release(a->conn, false); /* a connection opens for b */
    hp__upstream_pool_cancel(&b->wait);        /* closed: one opens for c */
    assert_figures(1, 0, 0, 0);
    assert_ever(3, 0);
    RUN_UNTIL(c->calls);
    assert_int_equal(c->status, 0);
    assert_int_equal(b->calls, 0);
    assert_figures(1, 0, 1, 0);
}

/* ---- drain and destroy --------------------------------------------------------------------- */

static void drain_keeps_serving_waiters_and_destroy_answers_the_rest_ecanceled(void **state)
{
    make_pool(4, 1, 0, 5000);
    user *a = &t.users[0];
    user *b = &t.users[1];
    user *c = &t.users[2];
    user *d = &t.users[3];
    user *e = &t.users[4];
    acquire_connected(a);
    assert_int_equal(acquire(b), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(c), HP__UPSTREAM_QUEUED);
    assert_int_equal(acquire(d), HP__UPSTREAM_QUEUED);
    hp__upstream_pool_drain(t.pool);
    assert_figures(1, 0, 1, 3);
    hp__upstream_pool_release(a->conn, true);
    RUN_UNTIL(b->calls);
    assert_ptr_equal(b->conn, a->conn);

    hp__upstream_pool_release(b->conn, false); /* c's connection is opening */
    assert_figures(1, 0, 0, 1);
    hp__upstream_pool_destroy(t.pool);
    t.pool = NULL;
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->status, UV_ECANCELED);
    assert_null(c->conn);
    assert_int_equal(d->calls, 1);
    assert_int_equal(d->status, UV_ECANCELED);
    assert_figures(0, 0, 0, 0);
    hp__upstream_pool_cancel(&e->wait); /* never used: no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(idle_connections_are_reused_most_recent_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_connection_is_closed_at_the_release_after_max_requests,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            at_max_connections_waiters_get_released_connections_first_come_first_served, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            a_connection_closed_at_the_limit_frees_a_slot_for_the_oldest_waiter, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_queued_request_is_answered_eacquire_after_the_acquire_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_connection_given_up_while_opening_calls_nothing_back_and_frees_its_slot, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_waiter_given_a_freed_slot_gets_that_connections_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_cancelled_queued_request_is_skipped_and_never_called_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_cancel_after_the_handover_passes_the_connection_to_the_next_waiter, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_cancel_while_connecting_for_a_waiter_closes_it_and_serves_the_next, setup, teardown),
        cmocka_unit_test_setup_teardown(
            drain_keeps_serving_waiters_and_destroy_answers_the_rest_ecanceled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
