/* The supervisor (src/pool/supervisor.h) with real programs on a libuv loop of the test's own:
 * the hostpool binary's `respond` as the well-behaved app (it listens on {port}), sh -c
 * scripts as programs that crash, boot slowly, never listen or ignore SIGTERM.
 *
 * The test process is a child subreaper (as test_child.c), so descendants orphaned by a kill
 * are reparented to it and reaped by the "gone" checks. Every wait polls the loop with a
 * deadline; every test destroys its supervisor, runs the loop until it closes and leaves no
 * process behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "hostpool/errors.h"
#include "hp_test.h"
#include "pool/supervisor.h"

#define PORT_MIN 26100
#define PORT_COUNT 100
#define DEADLINE_MS 10000
#define MAX_EVENTS 64
/* The loop's timers count whole milliseconds: a deadline may come up to 1 ms early. */
#define CLOCK_SLACK_NS 1000000u

typedef struct seen_event {
    char topic[32];
    char message[96];
    hp_event figures; /* topic and message point nowhere */
} seen_event;

typedef struct waiter {
    hp__process_waiter w;
    int answers;
    hp__process_wait_result result;
} waiter;

typedef struct run {
    uv_loop_t loop;
    hp__supervisor *sup;
    int port;
    char port_text[8];
    seen_event events[MAX_EVENTS];
    int event_count;
    hp__process_state states[MAX_EVENTS]; /* every state entered, in order */
    int state_count;
    uint64_t backoff_gate_ns; /* the gate's restart time when it entered BACKOFF */
    uint64_t backoff_seen_ns; /* CLOCK_MONOTONIC then */
    int watch_calls, watch_ended;
    uint64_t watch_id;
    int watch_once_calls;
    int stopped; /* stop callbacks */
} run;

/* The run in progress, for the teardown after a failed assertion. */
static run *live;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_publish(hp__supervisor *s, hp_event *event, void *data)
{
    run *r = data;
    assert_true(r->event_count < MAX_EVENTS);
    seen_event *e = &r->events[r->event_count++];
    snprintf(e->topic, sizeof e->topic, "%s", event->topic);
    snprintf(e->message, sizeof e->message, "%s", event->message ? event->message : "");
    e->figures = *event;
    e->figures.topic = e->figures.message = NULL;
}

static void on_state(hp__supervisor *s, hp__process_state from, hp__process_state to, void *data)
{
    run *r = data;
    assert_true(r->state_count < MAX_EVENTS);
    r->states[r->state_count++] = to;
    hp__process_gate *gate = hp__supervisor_gate(s);
    assert_int_equal(atomic_load_explicit(&gate->state, memory_order_acquire), to);
    if (to == HP__PROCESS_BACKOFF) {
        r->backoff_gate_ns = atomic_load_explicit(&gate->restart_at_ns, memory_order_acquire);
        r->backoff_seen_ns = monotonic_ns();
    }
}

/* ---- the loop ---- */

static void on_guard(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

typedef bool (*condition)(run *r, const void *arg);

/* Runs the loop until cond holds or `timeout_ms` passed; returns whether it holds. */
static bool run_until(run *r, condition cond, const void *arg, int timeout_ms)
{
    bool late = false;
    uv_timer_t guard;
    uv_timer_init(&r->loop, &guard);
    guard.data = &late;
    uv_timer_start(&guard, on_guard, (uint64_t)timeout_ms, 0);
    while (!cond(r, arg) && !late) uv_run(&r->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&r->loop, UV_RUN_NOWAIT);
    return cond(r, arg);
}

static bool in_state(run *r, const void *state)
{
    return hp__supervisor_state(r->sup) == *(const hp__process_state *)state;
}

static void wait_state(run *r, hp__process_state state, int timeout_ms)
{
    if (!run_until(r, in_state, &state, timeout_ms))
        fail_msg("state %s, expected %s", hp__process_state_name(hp__supervisor_state(r->sup)),
                 hp__process_state_name(state));
}

static int count_events(const run *r, const char *topic)
{
    int n = 0;
    for (int i = 0; i < r->event_count; i++) n += strcmp(r->events[i].topic, topic) == 0;
    return n;
}

/* The n-th (0-based) event called `topic`, or NULL. */
static const seen_event *event_of(const run *r, const char *topic, int n)
{
    for (int i = 0; i < r->event_count; i++)
        if (strcmp(r->events[i].topic, topic) == 0 && n-- == 0) return &r->events[i];
    return NULL;
}

static bool has_event(run *r, const void *topic)
{
    return count_events(r, topic) > 0;
}

static void wait_event(run *r, const char *topic, int timeout_ms)
{
    if (!run_until(r, has_event, topic, timeout_ms)) fail_msg("no %s event", topic);
}

/* ---- programs ---- */

/* A port of this file's range that was free a moment ago. Each run starts at a place of its
 * own (its pid), so that two runs of this file at once (two build trees) seldom take the same
 * port: the other run's program listening there would look ready to this one. */
static int free_port(void)
{
    static int next = -1;
    if (next < 0) next = (int)(getpid() % PORT_COUNT);
    for (int i = 0; i < PORT_COUNT; i++) {
        int port = PORT_MIN + next;
        next = (next + 1) % PORT_COUNT;
        int fd = hp_test_hold_port_at(port);
        if (fd >= 0) {
            close(fd);
            return port;
        }
    }
    return -1;
}

static void prepare(run *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    r->port = free_port();
    assert_true(r->port > 0);
    snprintf(r->port_text, sizeof r->port_text, "%d", r->port);
    live = r;
}

static int create(run *r, const hp_process_config *config, char *err, size_t errlen)
{
    hp__supervisor_options o = {
        .name = "app",
        .config = config,
        .port = (uint16_t)r->port,
        .hooks = {.publish = on_publish, .on_state = on_state},
        .data = r,
    };
    return hp__supervisor_create(&r->loop, &o, &r->sup, err, errlen);
}

/* Creates the supervisor of `config` and starts it. */
static void start(run *r, hp_process_config *config)
{
    char err[256];
    if (create(r, config, err, sizeof err) != 0) fail_msg("create: %s", err);
    hp__supervisor_start(r->sup);
}

static void finish(run *r)
{
    live = NULL;
    hp__supervisor_destroy(r->sup);
    r->sup = NULL;
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static hp_process_config config_of(const char *const *command, size_t count)
{
    return (hp_process_config){.command = command, .command_count = count};
}

#define CONFIG(...)                                                                                \
    config_of((const char *const[]){__VA_ARGS__},                                                  \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* `hostpool respond` on {port}, as the command's arguments. */
#define RESPOND(...)                                                                               \
    hp_test_bin(), "respond", "--listen", "127.0.0.1:{port}", "--workers", "1", "--no-access-log", \
        __VA_ARGS__

/* Reaps orphans reparented to this subreaper, then tells whether nothing of `pid`'s process
 * group is left. */
static bool group_gone(void *data)
{
    pid_t pid = *(pid_t *)data;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    return kill(-pid, 0) < 0 && errno == ESRCH;
}

static bool process_gone(void *data)
{
    pid_t pid = *(pid_t *)data;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* ---- waiters, watchers, stop callbacks ---- */

static void on_waiter_done(hp__process_waiter *w, hp__process_wait_result result)
{
    waiter *t = (waiter *)w;
    t->answers++;
    t->result = result;
}

static void wait_on(run *r, waiter *t)
{
    *t = (waiter){.w.done = on_waiter_done};
    hp__supervisor_wait(r->sup, &t->w);
}

static bool answered(run *r, const void *t)
{
    return ((const waiter *)t)->answers > 0;
}

static void on_watch(void *data, bool ended)
{
    run *r = data;
    if (ended)
        r->watch_ended++;
    else
        r->watch_calls++;
}

static void on_stopped(hp__supervisor *s, void *data)
{
    ((run *)data)->stopped++;
}

static bool stopped(run *r, const void *arg)
{
    return r->stopped > 0;
}

/* The ring's kept line that contains `text`, or false. */
static bool ring_line(const run *r, const char *text, hp__line_ring_line *found)
{
    const hp__line_ring *ring = hp__supervisor_output(r->sup);
    for (uint64_t seq = hp__line_ring_first_seq(ring); seq < hp__line_ring_next_seq(ring); seq++) {
        hp__line_ring_line line;
        if (!hp__line_ring_read(ring, seq, &line)) continue;
        char copy[4097];
        memcpy(copy, line.text, line.len);
        copy[line.len] = '\0';
        if (strstr(copy, text)) {
            if (found) *found = line;
            return true;
        }
    }
    return false;
}

static bool has_line(run *r, const void *text)
{
    return ring_line(r, text, NULL);
}

/* ---- tests ---- */

static void a_program_listening_on_its_port_is_ready_after_started_and_ready_events(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG(RESPOND("--body", "hi"));
    uint64_t asked = monotonic_ns();
    start(&r, &c);
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_BOOTING);
    wait_state(&r, HP__PROCESS_READY, DEADLINE_MS);
    uint64_t elapsed_ms = (monotonic_ns() - asked) / 1000000u;
    assert_int_equal(r.event_count, 2);
    assert_string_equal(r.events[0].topic, "process.started");
    assert_string_equal(r.events[1].topic, "process.ready");
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    assert_true(info.pid > 0);
    assert_int_equal(r.events[0].figures.pid, info.pid);
    assert_int_equal(r.events[1].figures.pid, info.pid);
    assert_true(r.events[1].figures.boot_ms > 0); /* an exec and a bind take more than 1 ms */
    assert_true(r.events[1].figures.boot_ms <= elapsed_ms);
    assert_int_equal(info.ready_ms, r.events[1].figures.boot_ms);
    assert_int_equal(info.starts, 1);
    assert_int_equal(hp__supervisor_port(r.sup), r.port);
    hp_test_response resp;
    assert_int_equal(hp_test_exchange(r.port, HP_TEST_GET, &resp, HP_TEST_DEADLINE_MS), HP_TEST_OK);
    assert_string_equal(resp.body, "hi");
    hp_test_response_free(&resp);
    waiter late;
    wait_on(&r, &late); /* answered at once */
    assert_int_equal(late.answers, 1);
    assert_int_equal(late.result, HP__WAIT_READY);
    finish(&r);
}

static void a_ready_path_answering_any_2xx_makes_it_ready(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG(RESPOND("--status", "204"));
    c.ready_path = "/health";
    start(&r, &c);
    wait_state(&r, HP__PROCESS_READY, DEADLINE_MS);
    assert_int_equal(count_events(&r, "process.ready"), 1);
    finish(&r);
}

static void a_ready_path_answering_404_never_makes_it_ready_and_its_boot_times_out(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG(RESPOND("--status", "404"));
    c.ready_path = "/";
    c.boot_timeout_ms = 500;
    c.restart.policy = HP_RESTART_TRANSIENT;
    start(&r, &c);
    waiter w;
    wait_on(&r, &w);
    assert_true(run_until(&r, answered, &w, DEADLINE_MS));
    assert_int_equal(w.result, HP__WAIT_TIMEOUT);
    /* respond exits 0 on SIGTERM, yet a boot timeout is an abnormal exit: transient restarts */
    wait_event(&r, "process.restarting", DEADLINE_MS);
    assert_int_equal(event_of(&r, "process.exited", 0)->figures.exit_code, 0);
    assert_int_equal(count_events(&r, "process.ready"), 0);
    finish(&r);
}

static void a_program_that_boots_slowly_answers_a_queued_waiter_ready(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c",
                                 "sleep 0.5; exec \"$0\" respond --listen 127.0.0.1:$1 "
                                 "--workers 1 --no-access-log",
                                 hp_test_bin(), "{port}");
    start(&r, &c);
    waiter w;
    wait_on(&r, &w);
    assert_int_equal(w.answers, 0); /* queued */
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_BOOTING);
    assert_true(run_until(&r, answered, &w, DEADLINE_MS));
    assert_int_equal(w.answers, 1);
    assert_int_equal(w.result, HP__WAIT_READY);
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_READY);
    assert_true(event_of(&r, "process.ready", 0)->figures.boot_ms >= 500);
    assert_int_equal(r.state_count, 2);
    assert_int_equal(r.states[0], HP__PROCESS_BOOTING);
    assert_int_equal(r.states[1], HP__PROCESS_READY);
    finish(&r);
}

static bool has_fourth_restart(run *r, const void *arg)
{
    return count_events(r, "process.restarting") >= 4;
}

static void a_crash_loop_backs_off_with_growing_delays_then_gives_up(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "exit 3");
    c.restart = (hp_restart_config){.initial_ms = 20, .factor_milli = 2000, .max_restarts = 3};
    start(&r, &c);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_int_equal(count_events(&r, "process.started"), 4);
    assert_int_equal(count_events(&r, "process.exited"), 4);
    assert_int_equal(count_events(&r, "process.restarting"), 3);
    uint64_t previous = 0;
    for (int i = 0; i < 3; i++) {
        const seen_event *e = event_of(&r, "process.restarting", i);
        assert_int_equal(e->figures.attempt, i + 1);
        assert_true(e->figures.delay_ms > previous); /* 20, 40, 80 ± 10 % */
        previous = e->figures.delay_ms;
    }
    assert_int_equal(event_of(&r, "process.exited", 0)->figures.exit_code, 3);
    const seen_event *giveup = event_of(&r, "process.giveup", 0);
    assert_non_null(giveup);
    assert_string_equal(giveup->message, "gave up after 3 restarts within 60s");
    assert_string_equal(r.events[r.event_count - 1].topic, "process.giveup");
    /* The gate said when the last restart was due: its delay from the moment it was set. */
    assert_true(r.backoff_gate_ns > r.backoff_seen_ns);
    assert_true(r.backoff_gate_ns - r.backoff_seen_ns <= previous * 1000000u);
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    assert_int_equal(info.restarts, 3);
    assert_int_equal(info.last_exit_code, 3);
    assert_int_equal(info.last_signal, -1);
    assert_int_equal(info.pid, 0);
    waiter w;
    wait_on(&r, &w);
    assert_int_equal(w.answers, 1);
    assert_int_equal(w.result, HP__WAIT_DOWN);

    /* A start boots it again with the count cleared: its next crash is attempt 1. */
    int before = r.event_count;
    hp__supervisor_start(r.sup);
    assert_string_equal(r.events[before].topic, "process.started");
    hp__supervisor_info_get(r.sup, &info);
    assert_int_equal(info.restarts, 0);
    assert_int_equal(info.starts, 5);
    assert_true(run_until(&r, has_fourth_restart, NULL, DEADLINE_MS));
    const seen_event *again = event_of(&r, "process.restarting", 3);
    assert_int_equal(again->figures.attempt, 1);
    finish(&r);
}

static void the_transient_policy_leaves_a_clean_exit_down(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "exit 0");
    c.restart.policy = HP_RESTART_TRANSIENT;
    start(&r, &c);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_int_equal(count_events(&r, "process.exited"), 1);
    assert_int_equal(count_events(&r, "process.restarting"), 0);
    assert_int_equal(count_events(&r, "process.giveup"), 0);
    finish(&r);
}

static void the_temporary_policy_never_restarts(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "exit 3");
    c.restart.policy = HP_RESTART_TEMPORARY;
    start(&r, &c);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_int_equal(count_events(&r, "process.started"), 1);
    assert_int_equal(count_events(&r, "process.restarting"), 0);
    assert_int_equal(count_events(&r, "process.giveup"), 0);
    finish(&r);
}

static void a_program_that_never_listens_times_out_is_killed_and_restarts(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sleep", "30");
    c.boot_timeout_ms = 300;
    uint64_t started = monotonic_ns();
    start(&r, &c);
    waiter w;
    wait_on(&r, &w);
    assert_true(run_until(&r, answered, &w, DEADLINE_MS));
    assert_int_equal(w.result, HP__WAIT_TIMEOUT);
    assert_true(monotonic_ns() - started >= 300 * 1000000u - CLOCK_SLACK_NS);
    wait_event(&r, "process.restarting", DEADLINE_MS);
    const seen_event *exited = event_of(&r, "process.exited", 0);
    assert_int_equal(exited->figures.signal, SIGTERM);
    assert_int_equal(exited->figures.exit_code, 0);
    assert_int_equal(event_of(&r, "process.restarting", 0)->figures.attempt, 1);
    finish(&r);
}

static void the_waiter_past_the_queue_is_answered_full(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sleep", "30");
    c.queue = 2;
    start(&r, &c);
    waiter w[3];
    for (int i = 0; i < 3; i++) wait_on(&r, &w[i]);
    assert_int_equal(w[0].answers, 0);
    assert_int_equal(w[1].answers, 0);
    assert_int_equal(w[2].answers, 1);
    assert_int_equal(w[2].result, HP__WAIT_FULL);
    hp__supervisor_stop(r.sup, on_stopped, &r);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].answers, 1);
        assert_int_equal(w[i].result, HP__WAIT_DOWN);
    }
    assert_true(run_until(&r, stopped, NULL, DEADLINE_MS));
    finish(&r);
}

static void stopping_a_ready_program_leaves_nothing_of_its_group(void **state)
{
    run r;
    prepare(&r);
    /* A shell with two descendants: the app and a sleep. */
    hp_process_config c =
        CONFIG("sh", "-c",
               "\"$0\" respond --listen 127.0.0.1:$1 --workers 1 --no-access-log & sleep 30 & wait",
               hp_test_bin(), "{port}");
    start(&r, &c);
    wait_state(&r, HP__PROCESS_READY, DEADLINE_MS);
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    pid_t pid = info.pid;
    hp__supervisor_stop(r.sup, on_stopped, &r);
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_STOPPING);
    assert_int_equal(r.stopped, 0);
    assert_true(run_until(&r, stopped, NULL, DEADLINE_MS));
    assert_int_equal(r.stopped, 1);
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_STOPPED);
    const seen_event *exited = event_of(&r, "process.exited", 0);
    assert_non_null(exited);
    assert_int_equal(exited->figures.pid, pid);
    assert_int_equal(exited->figures.signal, SIGTERM);
    assert_int_equal(count_events(&r, "process.restarting"), 0);
    assert_true(hp_test_poll_until(process_gone, &pid, DEADLINE_MS));
    assert_true(hp_test_poll_until(group_gone, &pid, DEADLINE_MS));
    finish(&r);
}

static bool both_stops_done(run *r, const void *arg)
{
    return r->stopped == 2;
}

static void on_stopped_start_again(hp__supervisor *s, void *data)
{
    ((run *)data)->stopped++;
    hp__supervisor_start(s);
}

static void a_stop_callback_may_start_the_program_again(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG(RESPOND("--body", "hi"));
    start(&r, &c);
    wait_state(&r, HP__PROCESS_READY, DEADLINE_MS);
    hp__supervisor_stop(r.sup, on_stopped_start_again, &r);
    assert_true(run_until(&r, stopped, NULL, DEADLINE_MS));
    wait_state(&r, HP__PROCESS_READY, DEADLINE_MS);
    static const hp__process_state states[] = {
        HP__PROCESS_BOOTING, HP__PROCESS_READY,   HP__PROCESS_STOPPING,
        HP__PROCESS_STOPPED, HP__PROCESS_BOOTING, HP__PROCESS_READY,
    };
    assert_int_equal(r.state_count, 6);
    assert_memory_equal(r.states, states, sizeof states);
    assert_int_equal(count_events(&r, "process.started"), 2);
    assert_int_equal(count_events(&r, "process.ready"), 2);
    assert_int_equal(count_events(&r, "process.restarting"), 0);
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    assert_int_equal(info.starts, 2);
    finish(&r);
}

static void on_stopped_destroy(hp__supervisor *s, void *data)
{
    run *r = data;
    r->stopped++;
    hp__supervisor_destroy(s);
    r->sup = NULL;
}

static void a_stop_callback_may_destroy_the_supervisor(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sleep", "30");
    start(&r, &c);
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    pid_t pid = info.pid;
    hp__supervisor_stop(r.sup, on_stopped_destroy, &r);
    assert_true(run_until(&r, stopped, NULL, DEADLINE_MS));
    assert_null(r.sup);
    assert_true(hp_test_poll_until(process_gone, &pid, DEADLINE_MS));
    finish(&r); /* the loop closes: nothing of the supervisor is left */
}

static void a_program_ignoring_sigterm_is_killed_after_the_stop_timeout(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c =
        CONFIG("sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 1; done");
    c.stop_timeout_ms = 200;
    start(&r, &c);
    assert_true(run_until(&r, has_line, "trapped", DEADLINE_MS));
    hp__supervisor_info info;
    hp__supervisor_info_get(r.sup, &info);
    pid_t pid = info.pid;
    uint64_t asked = monotonic_ns();
    hp__supervisor_stop(r.sup, on_stopped, &r);
    hp__supervisor_stop(r.sup, on_stopped, &r); /* while STOPPING: its cb is called too */
    assert_true(run_until(&r, both_stops_done, NULL, DEADLINE_MS));
    assert_int_equal(r.stopped, 2);
    assert_true(monotonic_ns() - asked >= 200 * 1000000u - CLOCK_SLACK_NS);
    assert_int_equal(event_of(&r, "process.exited", 0)->figures.signal, SIGKILL);
    assert_true(hp_test_poll_until(group_gone, &pid, DEADLINE_MS));
    finish(&r);
}

static void output_lines_of_both_streams_reach_the_ring_and_its_watchers(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "echo to-stdout; echo to-stderr >&2; printf tail");
    c.restart.policy = HP_RESTART_TEMPORARY;
    start(&r, &c);
    uint64_t id = hp__supervisor_watch(r.sup, on_watch, &r);
    assert_true(id != 0);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    hp__line_ring_line line;
    assert_true(ring_line(&r, "to-stdout", &line));
    assert_int_equal(line.stream, HP__LINE_RING_STDOUT);
    assert_int_equal(line.len, strlen("to-stdout"));
    assert_true(ring_line(&r, "to-stderr", &line));
    assert_int_equal(line.stream, HP__LINE_RING_STDERR);
    assert_true(ring_line(&r, "tail", &line)); /* the partial line, flushed at the exit */
    assert_true(r.watch_calls >= 1);
    assert_int_equal(r.watch_ended, 0);
    finish(&r);
    assert_int_equal(r.watch_ended, 1);
}

static void an_unwatched_watcher_is_not_called(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "echo one");
    c.restart.policy = HP_RESTART_TEMPORARY;
    start(&r, &c);
    uint64_t id = hp__supervisor_watch(r.sup, on_watch, &r);
    hp__supervisor_unwatch(r.sup, id);
    hp__supervisor_unwatch(r.sup, id); /* idempotent */
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_true(has_line(&r, "one"));
    finish(&r);
    assert_int_equal(r.watch_calls, 0);
    assert_int_equal(r.watch_ended, 0);
}

static void on_watch_once(void *data, bool ended)
{
    run *r = data;
    r->watch_once_calls++;
    hp__supervisor_unwatch(r->sup, r->watch_id);
}

static void a_watcher_may_unwatch_itself_from_its_call(void **state)
{
    run r;
    prepare(&r);
    char go[4200];
    snprintf(go, sizeof go, "%s/go-%d", hp_test_temp_dir(), r.port);
    unlink(go);
    /* "second" only once the test has seen "first": two reads, two rounds of watchers. */
    hp_process_config c = CONFIG(
        "sh", "-c", "echo first; while [ ! -e \"$0\" ]; do sleep 0.01; done; echo second", go);
    c.restart.policy = HP_RESTART_TEMPORARY;
    start(&r, &c);
    hp__supervisor_watch(r.sup, on_watch, &r);
    r.watch_id = hp__supervisor_watch(r.sup, on_watch_once, &r);
    hp__supervisor_watch(r.sup, on_watch, &r);
    assert_true(run_until(&r, has_line, "first", DEADLINE_MS));
    assert_int_equal(r.watch_once_calls, 1);
    assert_int_equal(r.watch_calls, 2);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), strrchr(go, '/') + 1, "", 0), 0);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_true(has_line(&r, "second"));
    assert_int_equal(r.watch_once_calls, 1);
    assert_int_equal(r.watch_calls, 4);
    finish(&r);
    assert_int_equal(r.watch_once_calls, 1); /* not even ended */
    assert_int_equal(r.watch_ended, 2);
    unlink(go);
}

static void a_missing_program_says_why_in_the_ring_backs_off_and_gives_up(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("./no-such-program", "{port}");
    c.restart = (hp_restart_config){.initial_ms = 10, .max_restarts = 2};
    start(&r, &c);
    /* The failed start is decided at once: no process, a restart pending. */
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_BACKOFF);
    assert_true(
        has_line(&r, "hostpool: cannot start ./no-such-program: No such file or directory"));
    hp__line_ring_line line;
    assert_true(ring_line(&r, "cannot start", &line));
    assert_int_equal(line.stream, HP__LINE_RING_STDERR);
    waiter w;
    wait_on(&r, &w);
    assert_int_equal(w.result, HP__WAIT_BACKOFF);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    assert_int_equal(count_events(&r, "process.started"), 0);
    assert_int_equal(count_events(&r, "process.restarting"), 2);
    assert_int_equal(count_events(&r, "process.giveup"), 1);
    assert_int_equal(hp__line_ring_count(hp__supervisor_output(r.sup)), 3);
    /* Stopping what does not run is done at once, inside the call. */
    hp__supervisor_stop(r.sup, on_stopped, &r);
    assert_int_equal(r.stopped, 1);
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_STOPPED);
    finish(&r);
}

static void a_missing_working_directory_says_why_in_the_ring(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "exit 0");
    c.cwd = "/nonexistent/app-{port}";
    c.restart.max_restarts = HP_RESTART_NONE;
    start(&r, &c);
    char text[128];
    snprintf(text, sizeof text, "hostpool: cannot start sh in /nonexistent/app-%d: ", r.port);
    assert_true(has_line(&r, text));
    assert_int_equal(hp__supervisor_state(r.sup), HP__PROCESS_FAILED);
    assert_int_equal(count_events(&r, "process.giveup"), 1);
    finish(&r);
}

static void port_and_environment_placeholders_reach_the_program(void **state)
{
    run r;
    prepare(&r);
    hp_process_config c = CONFIG("sh", "-c", "echo \"arg=$0 env=$APP_PORT\"", "{port}");
    const char *env[] = {"APP_PORT={port}"};
    c.env = env;
    c.env_count = 1;
    c.restart.policy = HP_RESTART_TEMPORARY;
    start(&r, &c);
    wait_state(&r, HP__PROCESS_FAILED, DEADLINE_MS);
    char text[64];
    snprintf(text, sizeof text, "arg=%d env=%d", r.port, r.port);
    assert_true(has_line(&r, text));
    finish(&r);
}

static void an_invalid_config_is_refused_with_the_reason(void **state)
{
    run r;
    prepare(&r);
    char err[256];
    hp_process_config none = {0};
    assert_int_equal(create(&r, &none, err, sizeof err), HP_EINVAL);
    assert_string_equal(err, "command: missing");
    hp_process_config typo = CONFIG("app", "--port", "{prot}");
    assert_int_equal(create(&r, &typo, err, sizeof err), HP_EINVAL);
    assert_non_null(strstr(err, "command[2]"));
    assert_non_null(strstr(err, "{prot}"));
    hp_process_config env = CONFIG("app");
    const char *entries[] = {"NOVALUE"};
    env.env = entries;
    env.env_count = 1;
    assert_int_equal(create(&r, &env, err, sizeof err), HP_EINVAL);
    assert_non_null(strstr(err, "env[0]"));
    hp_process_config backoff = CONFIG("app");
    backoff.restart.initial_ms = 10000; /* above the default max, 5 s */
    assert_int_equal(create(&r, &backoff, err, sizeof err), HP_EINVAL);
    assert_non_null(strstr(err, "restart"));
    hp_process_config too_many = CONFIG("app");
    too_many.restart.max_restarts = 1001;
    assert_int_equal(create(&r, &too_many, err, sizeof err), HP_EINVAL);
    assert_non_null(strstr(err, "max_restarts"));
    hp_process_config path = CONFIG("app");
    path.ready_path = "health";
    assert_int_equal(create(&r, &path, err, sizeof err), HP_EINVAL);
    assert_non_null(strstr(err, "ready"));
    assert_null(r.sup);
    finish(&r);
}

static int become_subreaper(void **state)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static int teardown(void **state)
{
    if (live) finish(live);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            a_program_listening_on_its_port_is_ready_after_started_and_ready_events, teardown),
        cmocka_unit_test_teardown(a_ready_path_answering_any_2xx_makes_it_ready, teardown),
        cmocka_unit_test_teardown(
            a_ready_path_answering_404_never_makes_it_ready_and_its_boot_times_out, teardown),
        cmocka_unit_test_teardown(a_program_that_boots_slowly_answers_a_queued_waiter_ready,
                                  teardown),
        cmocka_unit_test_teardown(a_crash_loop_backs_off_with_growing_delays_then_gives_up,
                                  teardown),
        cmocka_unit_test_teardown(the_transient_policy_leaves_a_clean_exit_down, teardown),
        cmocka_unit_test_teardown(the_temporary_policy_never_restarts, teardown),
        cmocka_unit_test_teardown(a_program_that_never_listens_times_out_is_killed_and_restarts,
                                  teardown),
        cmocka_unit_test_teardown(the_waiter_past_the_queue_is_answered_full, teardown),
        cmocka_unit_test_teardown(stopping_a_ready_program_leaves_nothing_of_its_group, teardown),
        cmocka_unit_test_teardown(a_stop_callback_may_start_the_program_again, teardown),
        cmocka_unit_test_teardown(a_stop_callback_may_destroy_the_supervisor, teardown),
        cmocka_unit_test_teardown(a_program_ignoring_sigterm_is_killed_after_the_stop_timeout,
                                  teardown),
        cmocka_unit_test_teardown(output_lines_of_both_streams_reach_the_ring_and_its_watchers,
                                  teardown),
        cmocka_unit_test_teardown(an_unwatched_watcher_is_not_called, teardown),
        cmocka_unit_test_teardown(a_watcher_may_unwatch_itself_from_its_call, teardown),
        cmocka_unit_test_teardown(a_missing_program_says_why_in_the_ring_backs_off_and_gives_up,
                                  teardown),
        cmocka_unit_test_teardown(a_missing_working_directory_says_why_in_the_ring, teardown),
        cmocka_unit_test_teardown(port_and_environment_placeholders_reach_the_program, teardown),
        cmocka_unit_test_teardown(an_invalid_config_is_refused_with_the_reason, teardown),
    };
    return cmocka_run_group_tests(tests, become_subreaper, NULL);
}
