/* The WebSocket hub (src/ws/hub.c) and its registry (src/ws/registry.c), on two real libuv
 * loops driven by this one thread: worker 0 and worker 1. Connections are fakes that record
 * what they were sent; payloads are strings with a reference count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostpool/errors.h"
#include "ws/hub.h"

#include <stdlib.h>
#include <string.h>

typedef struct payload {
    int refs;
    char text[32];
} payload;

typedef struct conn conn;
struct conn {
    hp__ws_member *m;
    char got[256][32];
    int n;
    int closed_with;
    bool close_on_delivery; /* closes its member from inside deliver (as back-pressure does) */
};

static int live_payloads;

static void fake_deliver(void *c, void *p)
{
    conn *k = c;
    if (k->n < 256) strcpy(k->got[k->n], ((payload *)p)->text);
    k->n++;
    if (k->close_on_delivery) {
        hp__ws_member_close(k->m);
        k->m = NULL;
    }
}

static void fake_ref(void *p)
{
    ((payload *)p)->refs++;
}

static void fake_unref(void *p)
{
    if (--((payload *)p)->refs == 0) {
        free(p);
        live_payloads--;
    }
}

/* A payload whose text is "big" stands for a quarter of an inbox's byte bound. */
static size_t fake_size(void *p)
{
    const char *text = ((payload *)p)->text;
    return strcmp(text, "big") == 0 ? HP__WS_HUB_QUEUE_BYTES / 4 : strlen(text);
}

static void fake_close(void *c, uint16_t code)
{
    ((conn *)c)->closed_with = code;
}

static const hp__ws_hub_ops ops = {
    .deliver = fake_deliver,
    .payload_ref = fake_ref,
    .payload_unref = fake_unref,
    .payload_size = fake_size,
    .close = fake_close,
};

typedef struct fixture {
    uv_loop_t loops[2];
    hp__ws_hub *hub;
    hp__ws_hub_worker *w[2];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->hub = hp__ws_hub_create(&ops);
    for (unsigned i = 0; i < 2; i++) {
        uv_loop_init(&f->loops[i]);
        f->w[i] = hp__ws_hub_worker_start(f->hub, &f->loops[i], i);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (unsigned i = 0; i < 2; i++) {
        hp__ws_hub_worker_stop(f->w[i]);
        uv_run(&f->loops[i], UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&f->loops[i]), 0);
    }
    hp__ws_hub_destroy(f->hub);
    free(f);
    assert_int_equal(live_payloads, 0);
    return 0;
}

/* Publishes a new payload (the hub keeps the references it needs). */
static int publish(fixture *f, hp__ws_hub_worker *from, const char *topic, const char *text)
{
    payload *p = calloc(1, sizeof *p);
    live_payloads++;
    p->refs = 1;
    strcpy(p->text, text);
    int reached = hp__ws_hub_publish(f->hub, from, topic, p);
    fake_unref(p);
    return reached;
}

static void run_once(fixture *f)
{
    for (int i = 0; i < 2; i++) uv_run(&f->loops[i], UV_RUN_NOWAIT);
}

static void run_until(fixture *f, const conn *c, int n)
{
    for (int i = 0; i < 1000 && c->n < n; i++) run_once(f);
}

static hp__ws_member *open_on(fixture *f, unsigned worker, conn *c, uint64_t id)
{
    c->m = hp__ws_member_open(f->w[worker], c, id, "127.0.0.1:5000", 1);
    return c->m;
}

static void a_connection_gets_a_message_once_however_many_patterns_match(void **state)
{
    fixture *f = *state;
    conn a = {0};
    open_on(f, 0, &a, 1);
    assert_int_equal(hp__ws_member_subscribe(a.m, "chat.*"), 0);
    assert_int_equal(hp__ws_member_subscribe(a.m, "chat.**"), 0);
    assert_int_equal(hp__ws_member_subscribe(a.m, "chat.room"), 0);
    assert_int_equal(publish(f, f->w[0], "chat.room", "m1"), 1);
    assert_int_equal(a.n, 1);
    assert_int_equal(publish(f, f->w[0], "chat.a.b", "m2"), 1); /* only chat.** */
    assert_int_equal(a.n, 2);
    assert_int_equal(publish(f, f->w[0], "news", "m3"), 0);
    assert_int_equal(a.n, 2);
    hp__ws_member_close(a.m);
}

static void subscribing_twice_or_past_the_limit_or_to_an_invalid_pattern_fails(void **state)
{
    fixture *f = *state;
    conn a = {0};
    open_on(f, 0, &a, 1);
    assert_int_equal(hp__ws_member_subscribe(a.m, "ser*"), HP_EINVAL);
    assert_int_equal(hp__ws_member_subscribe(a.m, "a"), 0);
    assert_int_equal(hp__ws_member_subscribe(a.m, "a"), HP_EEXISTS);
    char pattern[16];
    for (int i = 1; i < HP__WS_MAX_SUBSCRIPTIONS; i++) {
        snprintf(pattern, sizeof pattern, "t%d", i);
        assert_int_equal(hp__ws_member_subscribe(a.m, pattern), 0);
    }
    assert_int_equal(hp__ws_member_subscribe(a.m, "one.more"), HP_ELIMIT);
    assert_int_equal(hp__ws_member_unsubscribe(a.m, "nope"), HP_ENOTFOUND);
    hp__ws_member_close(a.m);
}

static void another_workers_subscribers_get_one_publishers_messages_in_order(void **state)
{
    fixture *f = *state;
    conn far[3] = {{0}}, near = {0};
    for (int i = 0; i < 3; i++) {
        open_on(f, 1, &far[i], (uint64_t)i + 10);
        assert_int_equal(hp__ws_member_subscribe(far[i].m, "chat.*"), 0);
    }
    open_on(f, 0, &near, 1);
    assert_int_equal(hp__ws_member_subscribe(near.m, "chat.room"), 0);
    char text[8];
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof text, "%d", i);
        assert_int_equal(publish(f, f->w[0], "chat.room", text), 4);
    }
    assert_int_equal(near.n, 100); /* its own worker's: at once */
    uv_run(&f->loops[1], UV_RUN_NOWAIT);
    assert_int_equal(far[0].n, 0); /* the others': once the publisher's iteration ends */
    for (int i = 0; i < 3; i++) {
        run_until(f, &far[i], 100);
        assert_int_equal(far[i].n, 100);
        for (int k = 0; k < 100; k++) {
            snprintf(text, sizeof text, "%d", k);
            assert_string_equal(far[i].got[k], text);
        }
    }
    for (int i = 0; i < 3; i++) hp__ws_member_close(far[i].m);
    hp__ws_member_close(near.m);
}

static void a_publish_off_the_workers_reaches_every_worker(void **state)
{
    fixture *f = *state;
    conn a = {0}, b = {0};
    open_on(f, 0, &a, 1);
    open_on(f, 1, &b, 2);
    assert_int_equal(hp__ws_member_subscribe(a.m, "**"), 0);
    assert_int_equal(hp__ws_member_subscribe(b.m, "events.*"), 0);
    assert_int_equal(publish(f, NULL, "events.x", "e1"), 2);
    assert_int_equal(publish(f, NULL, "events.x.y", "e2"), 1);
    run_until(f, &a, 2);
    run_until(f, &b, 1);
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 1);
    assert_string_equal(a.got[1], "e2");
    hp__ws_member_close(a.m);
    hp__ws_member_close(b.m);
}

static void the_reach_counts_each_connection_once_across_workers(void **state)
{
    fixture *f = *state;
    conn c[4] = {{0}};
    for (int i = 0; i < 4; i++) open_on(f, (unsigned)i % 2, &c[i], (uint64_t)i + 1);
    hp__ws_member_subscribe(c[0].m, "chat.*");
    hp__ws_member_subscribe(c[0].m, "*.room"); /* tangled: counted alone */
    hp__ws_member_subscribe(c[1].m, "chat.*");
    hp__ws_member_subscribe(c[1].m, "presence"); /* plain */
    hp__ws_member_subscribe(c[2].m, "chat.room");
    uint64_t workers;
    hp__ws_registry *r = hp__ws_hub_registry(f->hub);
    assert_int_equal(hp__ws_registry_reach(r, "chat.room", &workers), 3);
    assert_int_equal(workers, 3);
    assert_int_equal(hp__ws_registry_reach(r, "x.room", NULL), 1);
    assert_int_equal(hp__ws_registry_reach(r, "presence", NULL), 1);
    assert_int_equal(hp__ws_member_unsubscribe(c[0].m, "*.room"), 0); /* plain again */
    assert_int_equal(hp__ws_registry_reach(r, "chat.room", NULL), 3);
    assert_int_equal(hp__ws_registry_reach(r, "x.room", NULL), 0);
    hp__ws_member_close(c[1].m);
    assert_int_equal(hp__ws_registry_reach(r, "chat.room", &workers), 2);
    assert_int_equal(hp__ws_registry_reach(r, "presence", NULL), 0);
    assert_int_equal(workers, 1); /* worker 1 has nobody subscribed left: skipped */
    for (int i = 0; i < 4; i++)
        if (i != 1) hp__ws_member_close(c[i].m);
    assert_int_equal(hp__ws_registry_reach(r, "chat.room", &workers), 0);
    assert_int_equal(workers, 0);
}

static void count_entry_cb(const hp__ws_entry *e, void *data)
{
    (void)e;
    ++*(int *)data;
}

static void a_closed_connection_leaves_no_subscription_and_no_entry(void **state)
{
    fixture *f = *state;
    conn a = {0}, b = {0};
    open_on(f, 0, &a, 1);
    open_on(f, 0, &b, 2);
    hp__ws_member_subscribe(a.m, "chat.*");
    hp__ws_member_close(a.m);
    hp__ws_member_subscribe(b.m, "other");
    int entries = 0;
    hp__ws_registry_each(hp__ws_hub_registry(f->hub), count_entry_cb, &entries);
    assert_int_equal(entries, 1);
    assert_int_equal(publish(f, f->w[0], "chat.room", "x"), 0);
    assert_int_equal(a.n, 0);
    hp__ws_member_close(b.m);
}

static void a_connection_closed_while_delivering_is_skipped_and_freed_after(void **state)
{
    fixture *f = *state;
    conn a = {0}, b = {0};
    open_on(f, 0, &a, 1);
    open_on(f, 0, &b, 2);
    a.close_on_delivery = true;
    hp__ws_member_subscribe(a.m, "t");
    hp__ws_member_subscribe(b.m, "t");
    assert_int_equal(publish(f, f->w[0], "t", "x"), 2);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_int_equal(publish(f, f->w[0], "t", "y"), 1);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 2);
    hp__ws_member_close(b.m);
}

static void names_are_unique_and_freed_on_close(void **state)
{
    fixture *f = *state;
    conn a = {0}, b = {0};
    open_on(f, 0, &a, 1);
    open_on(f, 1, &b, 2);
    hp__ws_registry *r = hp__ws_hub_registry(f->hub);
    assert_int_equal(hp__ws_registry_join(r, &a.m->entry, "alice"), 0);
    assert_int_equal(hp__ws_registry_join(r, &b.m->entry, "alice"), HP_EEXISTS);
    assert_string_equal(a.m->entry.name, "alice");
    assert_null(b.m->entry.name);
    assert_int_equal(hp__ws_registry_join(r, &a.m->entry, "alice"), 0);
    hp__ws_member_close(a.m);
    assert_int_equal(hp__ws_registry_join(r, &b.m->entry, "alice"), 0);
    hp__ws_member_close(b.m);
}

static void a_full_inbox_drops_what_does_not_fit_and_counts_it(void **state)
{
    fixture *f = *state;
    conn b = {0};
    open_on(f, 1, &b, 2);
    hp__ws_member_subscribe(b.m, "t");
    for (int i = 0; i < HP__WS_HUB_QUEUE_MAX + 10; i++) publish(f, NULL, "t", "x");
    assert_int_equal(hp__ws_hub_dropped(f->hub), 10);
    run_until(f, &b, HP__WS_HUB_QUEUE_MAX);
    assert_int_equal(b.n, HP__WS_HUB_QUEUE_MAX);
    publish(f, NULL, "t", "after"); /* room again once the worker took its inbox */
    run_until(f, &b, HP__WS_HUB_QUEUE_MAX + 1);
    assert_int_equal(b.n, HP__WS_HUB_QUEUE_MAX + 1);
    hp__ws_member_close(b.m);
}

static void an_inbox_past_its_bytes_drops_what_does_not_fit(void **state)
{
    fixture *f = *state;
    conn b = {0};
    open_on(f, 1, &b, 2);
    hp__ws_member_subscribe(b.m, "t");
    for (int i = 0; i < 5; i++) publish(f, NULL, "t", "big"); /* the fifth is past the bound */
    assert_int_equal(hp__ws_hub_dropped(f->hub), 1);
    run_until(f, &b, 4);
    assert_int_equal(b.n, 4);
    publish(f, NULL, "t", "big"); /* room again once the worker took its inbox */
    run_until(f, &b, 5);
    assert_int_equal(b.n, 5);
    hp__ws_member_close(b.m);
}

static void closing_by_id_runs_on_the_connections_worker(void **state)
{
    fixture *f = *state;
    conn b = {0};
    open_on(f, 1, &b, 7);
    assert_int_equal(hp__ws_hub_close_connection(f->hub, 8, 1000), HP_ENOTFOUND);
    assert_int_equal(hp__ws_hub_close_connection(f->hub, 7, 1000), 0);
    assert_int_equal(b.closed_with, 0);
    for (int i = 0; i < 100 && !b.closed_with; i++) run_once(f);
    assert_int_equal(b.closed_with, 1000);
    hp__ws_member_close(b.m);
}

static void messages_still_queued_when_a_worker_stops_are_released(void **state)
{
    fixture *f = *state;
    conn b = {0};
    open_on(f, 1, &b, 2);
    hp__ws_member_subscribe(b.m, "t");
    publish(f, NULL, "t", "never read");
    publish(f, f->w[0], "t", "never flushed");
    hp__ws_member_close(b.m);
    /* teardown stops both workers with a message in worker 1's inbox and one in worker 0's
     * outgoing batch: live_payloads must come back to 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_connection_gets_a_message_once_however_many_patterns_match, setup, teardown),
        cmocka_unit_test_setup_teardown(
            subscribing_twice_or_past_the_limit_or_to_an_invalid_pattern_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(
            another_workers_subscribers_get_one_publishers_messages_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(a_publish_off_the_workers_reaches_every_worker, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_reach_counts_each_connection_once_across_workers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_closed_connection_leaves_no_subscription_and_no_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_connection_closed_while_delivering_is_skipped_and_freed_after, setup, teardown),
        cmocka_unit_test_setup_teardown(names_are_unique_and_freed_on_close, setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_inbox_drops_what_does_not_fit_and_counts_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_inbox_past_its_bytes_drops_what_does_not_fit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(closing_by_id_runs_on_the_connections_worker, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(messages_still_queued_when_a_worker_stops_are_released,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
