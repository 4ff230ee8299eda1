/* See supervisor.h for the states and the contract. How it is built:
 *
 * - The program. The config is checked and copied at create, with "{port}" (and "{name}", the
 *   server's name, for a template a switchboard did not expand) expanded once: the port is
 *   fixed for the supervisor's life, so every start runs the same argv, cwd and environment.
 * - Timers. One scheduler (io/uv_sched.h: one libuv timer) carries the three timers of a
 *   supervisor: the ready checks (a health checker, core/health_checker.h, every 5 ms for the
 *   first second of a boot, then every 100 ms, while BOOTING, rise 1: the first success is
 *   ready; so what the checks add to a fast program's start-up is a few milliseconds, and a
 *   slow one is probed ten times a second), the boot deadline, and the restart after a
 *   backoff. Their ids are 0 when not pending; each callback clears its own id first. The
 *   scheduler's timer is unreferenced: a pending restart alone does not keep a loop running
 *   (the control loop lives on the engine's handles; a running child's handles are referenced).
 * - The decisions are core/restart.h's, on the real monotonic clock, seeded per process and
 *   per supervisor so that supervisors crashing together spread their restarts.
 * - Exits. Every exit of a started program comes through child_exited (io/child.h reaps it);
 *   it is a crash to decide on unless a stop was asked (STOPPING): then it only ends the stop.
 *   A start that fails (the program cannot be found, cwd missing) goes through the same
 *   decision as an abnormal exit, with a line in the output ring saying why, so it backs off
 *   and gives up instead of spinning.
 * - Order of a change: the change's event (process.ready before the pool's server.started,
 *   process.giveup before its server.failed), the gate (restart_at_ns first, then the state,
 *   release stores), the on_state hook, then the waiters' answers. Waiters are a FIFO list;
 *   answering detaches the whole list first, so a done() that waits again joins a new list.
 * - Watchers and stop callbacks are small lists of their own. A watcher unwatched while the
 *   watchers are being called is only marked (fn NULL) and freed after the round.
 *
 * Re-entrancy: the hooks, a waiter's done() and a watcher may not call start, stop or
 * destroy; a waiter's done() may call hp__supervisor_wait again. A stop's cb may start or
 * destroy it: the state is STOPPED before the cbs run, and nothing of the supervisor is
 * touched after them (their list was detached first).
 *
 * Memory: everything but the scheduler's timer handle is freed in destroy; the supervisor
 * itself in that handle's close callback (the loop must run once more, as for io/child.h).
 * Control loop thread only, except the gate (supervisor.h). */
#include "pool/supervisor.h"

#include "common/alloc.h"
#include "core/clock.h"
#include "core/health_checker.h"
#include "core/restart.h"
#include "core/switch_name.h"
#include "hostpool/errors.h"
#include "io/child.h"
#include "io/uv_sched.h"
#include "pool/http_probe.h"
#include "pool/health_probe.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READY_INTERVAL_MS 100
#define READY_FAST_INTERVAL_MS 5 /* for the first READY_FAST_FOR_MS of a boot */
#define READY_FAST_FOR_MS 1000
/* A ready_path that takes longer than this to answer is a failed check (checks due meanwhile
 * are skipped, see health_checker.h). */
#define READY_CHECK_TIMEOUT_MS 1000
#define DEFAULT_BOOT_TIMEOUT_MS 30000
#define DEFAULT_STOP_TIMEOUT_MS 10000
#define DEFAULT_QUEUE 100

typedef struct stop_request {
    hp__supervisor_cb cb;
    void *data;
    struct stop_request *next;
} stop_request;

typedef struct watcher {
    uint64_t id;
    hp__supervisor_watch_fn fn; /* NULL: unwatched during a round, freed after it */
    void *data;
    struct watcher *next;
} watcher;

struct hp__supervisor {
    hp__process_gate gate;
    hp__process_state state; /* the gate's, as the control thread knows it */
    uv_loop_t *loop;
    char *name;
    uint16_t port;
    hp__supervisor_hooks hooks;
    void *data;

    /* The program, its placeholders expanded. */
    char **argv; /* NULL-terminated */
    char *cwd;   /* NULL: hostpool's */
    char **env;  /* NULL-terminated; NULL when there is none */
    uint32_t boot_timeout_ms, stop_timeout_ms, queue;
    hp__restart_config restart_config;

    hp__restart restart;
    hp__line_ring ring;

    /* The program running (BOOTING, READY, STOPPING). */
    hp__child *child;
    int pid;
    uint64_t started_ns; /* CLOCK_MONOTONIC when its start began (before the fork) */
    bool boot_timed_out; /* it is being stopped for not booting in time */

    hp__uv_sched sched;
    uint64_t boot_timer; /* scheduler ids; 0 when not pending */
    uint64_t restart_timer;
    hp__health_checker checker;
    hp__probe_target port_target;      /* the checker's target without ready_path */
    hp__http_probe_target http_target; /* with it */

    hp__process_waiter *waiters, *waiters_tail;
    uint32_t waiting;
    stop_request *stops, *stops_tail;
    watcher *watchers;
    uint64_t last_watch_id;
    bool notifying;

    uint32_t restarts;
    uint64_t starts;
    int last_exit_code, last_signal;
    uint64_t ready_ms;
};

const char *hp__process_state_name(hp__process_state state)
{
    switch (state) {
    case HP__PROCESS_STOPPED:
        return "stopped";
    case HP__PROCESS_BOOTING:
        return "booting";
    case HP__PROCESS_READY:
        return "ready";
    case HP__PROCESS_BACKOFF:
        return "backoff";
    case HP__PROCESS_FAILED:
        return "failed";
    case HP__PROCESS_STOPPING:
        return "stopping";
    }
    return "?";
}

/* ---- time ---- */

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The time given with output lines: Unix time in milliseconds, for people reading logs. */
static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The scheduler's clock is the loop's cached time: brought up to date first, so that a
 * deadline set after a slow step (a fork) is not counted from before it. */
static uint64_t sched_now(hp__supervisor *s)
{
    uv_update_time(s->loop);
    return hp__sched_now(&s->sched.sched);
}

static void cancel_timer(hp__supervisor *s, uint64_t *id)
{
    hp__sched_cancel(&s->sched.sched, *id);
    *id = 0;
}

/* ---- config: check, defaults, copy ---- */

static int fail(char *err, size_t errlen, const char *format, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(err, errlen, format, ap);
        va_end(ap);
    }
    return HP_EINVAL;
}

static uint32_t or_default(uint32_t value, uint32_t fallback)
{
    return value ? value : fallback;
}

/* The public restart config with its defaults, as core/restart.h takes it. */
static int convert_restart(const hp_restart_config *in, hp__restart_config *out, char *err,
                           size_t errlen)
{
    switch (in->policy) {
    case HP_RESTART_PERMANENT:
        out->policy = HP__RESTART_PERMANENT;
        break;
    case HP_RESTART_TRANSIENT:
        out->policy = HP__RESTART_TRANSIENT;
        break;
    case HP_RESTART_TEMPORARY:
        out->policy = HP__RESTART_TEMPORARY;
        break;
    default:
        return fail(err, errlen, "restart: unknown policy %d", (int)in->policy);
    }
    out->initial_ms = or_default(in->initial_ms, HP__RESTART_DEFAULT_INITIAL_MS);
    out->max_ms = or_default(in->max_ms, HP__RESTART_DEFAULT_MAX_MS);
    out->factor_milli = or_default(in->factor_milli, HP__RESTART_DEFAULT_FACTOR_MILLI);
    out->jitter_ppm = in->jitter_ppm == HP_RESTART_NONE
                          ? 0
                          : or_default(in->jitter_ppm, HP__RESTART_DEFAULT_JITTER_PPM);
    out->max_restarts = in->max_restarts == HP_RESTART_NONE
                            ? 0
                            : or_default(in->max_restarts, HP__RESTART_DEFAULT_MAX_RESTARTS);
    out->within_ms = or_default(in->within_ms, HP__RESTART_DEFAULT_WITHIN_MS);
    if (out->max_ms < out->initial_ms)
        return fail(err, errlen, "restart: max (%u ms) is below initial (%u ms)", out->max_ms,
                    out->initial_ms);
    if (out->factor_milli < 1000 || out->factor_milli > HP__RESTART_MAX_FACTOR_MILLI)
        return fail(err, errlen, "restart: factor must be from 1 to %u",
                    HP__RESTART_MAX_FACTOR_MILLI / 1000);
    if (out->jitter_ppm >= 1000000) return fail(err, errlen, "restart: jitter must be below 1");
    if (out->max_restarts > HP__RESTART_MAX_MAX_RESTARTS)
        return fail(err, errlen, "restart: max_restarts must be at most %d",
                    HP__RESTART_MAX_MAX_RESTARTS);
    if (hp__restart_config_check(out) != 0) return fail(err, errlen, "restart: out of range");
    return 0;
}

static int check_template(const char *what, size_t index, const char *text, char *err,
                          size_t errlen)
{
    char reason[256];
    if (hp__template_check(text, true, reason, sizeof reason) == 0) return 0;
    if (index == SIZE_MAX) return fail(err, errlen, "%s: %s", what, reason);
    return fail(err, errlen, "%s[%zu]: %s", what, index, reason);
}

static int check_env_entry(size_t i, const char *entry, char *err, size_t errlen)
{
    if (!entry) return fail(err, errlen, "env[%zu]: missing", i);
    const char *eq = strchr(entry, '=');
    if (!eq || eq == entry)
        return fail(err, errlen, "env[%zu]: \"%s\" is not NAME=VALUE", i, entry);
    return check_template("env", i, entry, err, errlen);
}

/* A path that can go into a request line: "/", then no space or control character. */
static bool request_path_ok(const char *path)
{
    if (path[0] != '/') return false;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return false;
    return true;
}

static int check_config(const hp__supervisor_options *o, char *err, size_t errlen)
{
    const hp_process_config *c = o->config;
    if (!c) return fail(err, errlen, "no process config");
    if (!c->command || c->command_count == 0) return fail(err, errlen, "command: missing");
    for (size_t i = 0; i < c->command_count; i++) {
        if (!c->command[i]) return fail(err, errlen, "command[%zu]: missing", i);
        if (check_template("command", i, c->command[i], err, errlen)) return HP_EINVAL;
    }
    if (c->command[0][0] == '\0') return fail(err, errlen, "command[0]: empty");
    if (c->cwd && check_template("cwd", SIZE_MAX, c->cwd, err, errlen)) return HP_EINVAL;
    if (c->env_count && !c->env) return fail(err, errlen, "env: missing");
    for (size_t i = 0; i < c->env_count; i++)
        if (check_env_entry(i, c->env[i], err, errlen)) return HP_EINVAL;
    if (c->ready_path && !request_path_ok(c->ready_path))
        return fail(err, errlen, "ready: path \"%s\" must start with \"/\" and hold no space",
                    c->ready_path);
    if (o->port == 0) return fail(err, errlen, "no port for the program");
    return 0;
}

/* `template` expanded (it passed the check: only its length can fail, so grow until it fits). */
static char *expand(const char *template, hp__template_values values)
{
    for (size_t cap = strlen(template) + 64;; cap *= 2) {
        char *out = hp__malloc(cap);
        if (hp__template_expand(template, values, out, cap, NULL) == HP__TEMPLATE_OK) return out;
        free(out);
    }
}

static char **expand_list(const char *const *templates, size_t n, hp__template_values values)
{
    char **list = hp__calloc(n + 1, sizeof *list);
    for (size_t i = 0; i < n; i++) list[i] = expand(templates[i], values);
    return list;
}

static void free_list(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

static void copy_program(hp__supervisor *s, const hp_process_config *c)
{
    hp__template_values values = {.name = s->name, .port = s->port};
    s->argv = expand_list(c->command, c->command_count, values);
    s->cwd = c->cwd ? expand(c->cwd, values) : NULL;
    s->env = c->env_count ? expand_list(c->env, c->env_count, values) : NULL;
    s->boot_timeout_ms = or_default(c->boot_timeout_ms, DEFAULT_BOOT_TIMEOUT_MS);
    s->stop_timeout_ms = or_default(c->stop_timeout_ms, DEFAULT_STOP_TIMEOUT_MS);
    s->queue = or_default(c->queue, DEFAULT_QUEUE);
}

/* ---- state, events, waiters, watchers ---- */

static void set_state(hp__supervisor *s, hp__process_state to)
{
    hp__process_state from = s->state;
    if (from == to) return;
    s->state = to;
    atomic_store_explicit(&s->gate.state, (uint32_t)to, memory_order_release);
    if (s->hooks.on_state) s->hooks.on_state(s, from, to, s->data);
}

static void publish(hp__supervisor *s, const char *topic, hp_event event)
{
    event.topic = topic;
    if (s->hooks.publish) s->hooks.publish(s, &event, s->data);
}

static void answer_waiters(hp__supervisor *s, hp__process_wait_result result)
{
    hp__process_waiter *w = s->waiters;
    s->waiters = s->waiters_tail = NULL;
    s->waiting = 0;
    while (w) {
        hp__process_waiter *next = w->next;
        w->next = NULL;
        w->done(w, result);
        w = next;
    }
}

static void notify_watchers(hp__supervisor *s, bool ended)
{
    s->notifying = true;
    for (watcher *w = s->watchers; w; w = w->next)
        if (w->fn) w->fn(w->data, ended);
    s->notifying = false;
    for (watcher **link = &s->watchers; *link;) {
        watcher *w = *link;
        if (w->fn && !ended) {
            link = &w->next;
            continue;
        }
        *link = w->next;
        free(w);
    }
}

/* Feeds the ring, then calls the watchers if a line was completed. */
static void record_output(hp__supervisor *s, hp__line_ring_stream stream, const char *bytes,
                          size_t len)
{
    uint64_t before = hp__line_ring_next_seq(&s->ring);
    hp__line_ring_feed(&s->ring, stream, bytes, len, wall_ms());
    if (hp__line_ring_next_seq(&s->ring) != before) notify_watchers(s, false);
}

static void flush_output(hp__supervisor *s)
{
    uint64_t before = hp__line_ring_next_seq(&s->ring);
    uint64_t now = wall_ms();
    hp__line_ring_flush(&s->ring, HP__LINE_RING_STDOUT, now);
    hp__line_ring_flush(&s->ring, HP__LINE_RING_STDERR, now);
    if (hp__line_ring_next_seq(&s->ring) != before) notify_watchers(s, false);
}

/* ---- the program's life ---- */

static void spawn(hp__supervisor *s);

static void on_restart_due(hp__sched *sched, uint64_t now, void *data)
{
    hp__supervisor *s = data;
    s->restart_timer = 0;
    if (s->state == HP__PROCESS_BACKOFF) spawn(s);
}

static void back_off(hp__supervisor *s, hp__restart_decision d)
{
    s->restarts++;
    atomic_store_explicit(&s->gate.restart_at_ns, monotonic_ns() + d.delay_ms * 1000000u,
                          memory_order_release);
    publish(s, "process.restarting", (hp_event){.attempt = d.attempt, .delay_ms = d.delay_ms});
    set_state(s, HP__PROCESS_BACKOFF);
    answer_waiters(s, HP__WAIT_BACKOFF);
    s->restart_timer = hp__sched_add(&s->sched.sched, sched_now(s) + d.delay_ms, on_restart_due, s);
}

static void give_up(hp__supervisor *s)
{
    char message[96];
    snprintf(message, sizeof message, "gave up after %u restarts within %gs",
             s->restart_config.max_restarts, s->restart_config.within_ms / 1000.0);
    publish(s, "process.giveup", (hp_event){.message = message});
    set_state(s, HP__PROCESS_FAILED);
    answer_waiters(s, HP__WAIT_DOWN);
}

/* The program ended by itself (or never started): the restart decision. */
static void decide(hp__supervisor *s, bool abnormal)
{
    hp__restart_decision d = hp__restart_exited(&s->restart, abnormal);
    switch (d.action) {
    case HP__RESTART_RESTART:
        back_off(s, d);
        return;
    case HP__RESTART_GIVE_UP:
        give_up(s);
        return;
    case HP__RESTART_STAY_DOWN:
        set_state(s, HP__PROCESS_FAILED);
        answer_waiters(s, HP__WAIT_DOWN);
        return;
    }
}

static void finish_stop(hp__supervisor *s)
{
    set_state(s, HP__PROCESS_STOPPED);
    stop_request *r = s->stops;
    s->stops = s->stops_tail = NULL;
    while (r) {
        stop_request *next = r->next;
        if (r->cb) r->cb(s, r->data);
        free(r);
        r = next;
    }
}

static void end_boot_checks(hp__supervisor *s)
{
    hp__health_checker_stop(&s->checker);
    cancel_timer(s, &s->boot_timer);
}

static void child_output(hp__child *child, hp__child_stream stream, const char *bytes, size_t len)
{
    hp__supervisor *s = hp__child_data(child);
    record_output(s, stream == HP__CHILD_STDOUT ? HP__LINE_RING_STDOUT : HP__LINE_RING_STDERR,
                  bytes, len);
}

static void child_exited(hp__child *child, int64_t exit_status, int term_signal)
{
    hp__supervisor *s = hp__child_data(child);
    flush_output(s);
    int pid = s->pid;
    hp__child_destroy(child);
    s->child = NULL;
    s->pid = 0;
    end_boot_checks(s);
    s->last_exit_code = term_signal ? -1 : (int)exit_status;
    s->last_signal = term_signal ? term_signal : -1;
    publish(s, "process.exited",
            (hp_event){.pid = pid,
                       .exit_code = term_signal ? 0 : (int)exit_status,
                       .signal = term_signal});
    if (s->state == HP__PROCESS_STOPPING) {
        finish_stop(s);
        return;
    }
    decide(s, term_signal != 0 || exit_status != 0 || s->boot_timed_out);
}

static const hp__child_callbacks child_callbacks = {
    .on_output = child_output,
    .on_exit = child_exited,
};

static void on_boot_timeout(hp__sched *sched, uint64_t now, void *data)
{
    hp__supervisor *s = data;
    s->boot_timer = 0;
    s->boot_timed_out = true;
    hp__health_checker_stop(&s->checker);
    answer_waiters(s, HP__WAIT_TIMEOUT);
    hp__child_stop(s->child, s->stop_timeout_ms);
}

static void became_ready(hp__supervisor *s)
{
    end_boot_checks(s);
    s->ready_ms = (monotonic_ns() - s->started_ns) / 1000000u;
    publish(s, "process.ready", (hp_event){.pid = s->pid, .boot_ms = s->ready_ms});
    set_state(s, HP__PROCESS_READY);
    answer_waiters(s, HP__WAIT_READY);
}

static void on_ready_check(hp__health *h, hp__health_state from, hp__health_state to, void *data)
{
    hp__supervisor *s = data;
    if (to == HP__HEALTH_OK && s->state == HP__PROCESS_BOOTING && !s->boot_timed_out)
        became_ready(s);
}

/* The start failed: a line in the ring says why, then it is decided as a crash. */
static void start_failed(hp__supervisor *s, int rc)
{
    char line[512];
    int n = s->cwd ? snprintf(line, sizeof line, "hostpool: cannot start %s in %s: %s\n",
                              s->argv[0], s->cwd, strerror(-rc))
                   : snprintf(line, sizeof line, "hostpool: cannot start %s: %s\n", s->argv[0],
                              strerror(-rc));
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    record_output(s, HP__LINE_RING_STDERR, line, len);
    flush_output(s); /* a line cut by the buffer still ends here */
    s->last_exit_code = -1;
    s->last_signal = -1;
    decide(s, true);
}

static void spawn(hp__supervisor *s)
{
    s->boot_timed_out = false;
    hp__child_options o = {
        .argv = (const char *const *)s->argv,
        .cwd = s->cwd,
        .env = (const char *const *)s->env,
    };
    hp__child *child = NULL;
    /* Before the fork: boot_ms counts the start too, and a program that got to listen while
     * this thread waited for its exec is not ready in "0 ms". */
    s->started_ns = monotonic_ns();
    int rc = hp__child_start(s->loop, &o, child_callbacks, s, &child);
    if (rc < 0) {
        start_failed(s, rc);
        return;
    }
    s->child = child;
    s->pid = hp__child_pid(child);
    s->starts++;
    atomic_store_explicit(&s->gate.restart_at_ns, 0, memory_order_release);
    publish(s, "process.started", (hp_event){.pid = s->pid});
    set_state(s, HP__PROCESS_BOOTING);
    s->boot_timer =
        hp__sched_add(&s->sched.sched, sched_now(s) + s->boot_timeout_ms, on_boot_timeout, s);
    hp__health_checker_start(&s->checker, 0);
}

/* ---- the interface ---- */

static void init_ready_checks(hp__supervisor *s, const char *ready_path)
{
    struct sockaddr_storage addr = {0};
    uv_ip4_addr("127.0.0.1", s->port, (struct sockaddr_in *)&addr);
    hp__health_config config = {
        .interval_ms = READY_INTERVAL_MS,
        .fast_interval_ms = READY_FAST_INTERVAL_MS,
        .fast_for_ms = READY_FAST_FOR_MS,
        .timeout_ms = READY_CHECK_TIMEOUT_MS,
        .rise = 1,
        .fall = 1,
    };
    void *target = &s->port_target;
    const hp__health_probe_ops *ops = &hp__tcp_probe_ops;
    if (ready_path) {
        char address[32];
        snprintf(address, sizeof address, "127.0.0.1:%u", (unsigned)s->port);
        hp__http_probe_target_init(&s->http_target, s->loop, &addr, address, ready_path,
                                   HP__HTTP_PROBE_ANY_2XX);
        target = &s->http_target;
        ops = &hp__http_probe_ops;
    } else {
        s->port_target = (hp__probe_target){.loop = s->loop, .addr = addr};
    }
    hp__uv_sched_init(&s->sched, s->loop);
    hp__health_checker_init(&s->checker, &s->sched.sched, &config, ops, target, on_ready_check, s);
}

int hp__supervisor_create(uv_loop_t *loop, const hp__supervisor_options *options,
                          hp__supervisor **out, char *err, size_t errlen)
{
    if (errlen) err[0] = '\0';
    hp__restart_config restart;
    int rc = check_config(options, err, errlen);
    if (rc == 0) rc = convert_restart(&options->config->restart, &restart, err, errlen);
    if (rc != 0) return rc;
    hp__supervisor *s = HP_NEW(hp__supervisor);
    s->loop = loop;
    s->name = hp__strdup(options->name ? options->name : "");
    s->port = options->port;
    s->hooks = options->hooks;
    s->data = options->data;
    s->restart_config = restart;
    s->last_exit_code = s->last_signal = -1;
    copy_program(s, options->config);
    uint64_t seed = ((uint64_t)getpid() << 32) ^ monotonic_ns() ^ (uint64_t)(uintptr_t)s;
    hp__restart_init(&s->restart, hp__clock_monotonic(), &restart, seed);
    hp__line_ring_config ring;
    hp__line_ring_config_default(&ring);
    hp__line_ring_init(&s->ring, &ring);
    init_ready_checks(s, options->config->ready_path);
    atomic_init(&s->gate.state, HP__PROCESS_STOPPED);
    atomic_init(&s->gate.restart_at_ns, 0);
    *out = s;
    return 0;
}

void hp__supervisor_start(hp__supervisor *s)
{
    switch (s->state) {
    case HP__PROCESS_STOPPED:
    case HP__PROCESS_FAILED:
    case HP__PROCESS_BACKOFF:
        cancel_timer(s, &s->restart_timer);
        hp__restart_reset(&s->restart);
        s->restarts = 0;
        spawn(s);
        return;
    case HP__PROCESS_BOOTING:
    case HP__PROCESS_READY:
    case HP__PROCESS_STOPPING:
        return;
    }
}

static void add_stop_request(hp__supervisor *s, hp__supervisor_cb cb, void *data)
{
    if (!cb) return;
    stop_request *r = HP_NEW(stop_request);
    r->cb = cb;
    r->data = data;
    if (s->stops_tail)
        s->stops_tail->next = r;
    else
        s->stops = r;
    s->stops_tail = r;
}

void hp__supervisor_stop(hp__supervisor *s, hp__supervisor_cb cb, void *data)
{
    switch (s->state) {
    case HP__PROCESS_STOPPED:
    case HP__PROCESS_FAILED:
    case HP__PROCESS_BACKOFF:
        cancel_timer(s, &s->restart_timer);
        set_state(s, HP__PROCESS_STOPPED);
        if (cb) cb(s, data);
        return;
    case HP__PROCESS_BOOTING:
    case HP__PROCESS_READY:
        end_boot_checks(s);
        set_state(s, HP__PROCESS_STOPPING);
        answer_waiters(s, HP__WAIT_DOWN);
        uv_update_time(s->loop); /* the stop timeout counts from now */
        hp__child_stop(s->child, s->stop_timeout_ms);
        add_stop_request(s, cb, data);
        return;
    case HP__PROCESS_STOPPING:
        add_stop_request(s, cb, data);
        return;
    }
}

static void on_sched_closed(uv_handle_t *handle)
{
    hp__uv_sched *sched = handle->data;
    free((char *)sched - offsetof(hp__supervisor, sched));
}

void hp__supervisor_destroy(hp__supervisor *s)
{
    if (!s) return;
    hp__health_checker_stop(&s->checker);
    answer_waiters(s, HP__WAIT_DOWN);
    for (stop_request *r = s->stops, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    notify_watchers(s, true);
    hp__child_destroy(s->child); /* kills and reaps what runs; its on_exit is not called */
    hp__restart_close(&s->restart);
    hp__line_ring_close(&s->ring);
    hp__http_probe_target_close(&s->http_target);
    free_list(s->argv);
    free(s->cwd);
    free_list(s->env);
    free(s->name);
    hp__uv_sched_close(&s->sched, on_sched_closed);
}

void hp__supervisor_wait(hp__supervisor *s, hp__process_waiter *w)
{
    w->next = NULL;
    switch (s->state) {
    case HP__PROCESS_READY:
        w->done(w, HP__WAIT_READY);
        return;
    case HP__PROCESS_BACKOFF:
        w->done(w, HP__WAIT_BACKOFF);
        return;
    case HP__PROCESS_BOOTING:
        if (s->boot_timed_out) {
            w->done(w, HP__WAIT_TIMEOUT);
        } else if (s->waiting >= s->queue) {
            w->done(w, HP__WAIT_FULL);
        } else {
            if (s->waiters_tail)
                s->waiters_tail->next = w;
            else
                s->waiters = w;
            s->waiters_tail = w;
            s->waiting++;
        }
        return;
    case HP__PROCESS_STOPPED:
    case HP__PROCESS_FAILED:
    case HP__PROCESS_STOPPING:
        w->done(w, HP__WAIT_DOWN);
        return;
    }
}

hp__process_gate *hp__supervisor_gate(hp__supervisor *s)
{
    return &s->gate;
}

hp__process_state hp__supervisor_state(const hp__supervisor *s)
{
    return s->state;
}

uint16_t hp__supervisor_port(const hp__supervisor *s)
{
    return s->port;
}

void hp__supervisor_info_get(const hp__supervisor *s, hp__supervisor_info *out)
{
    *out = (hp__supervisor_info){
        .state = s->state,
        .pid = s->pid,
        .restarts = s->restarts,
        .starts = s->starts,
        .last_exit_code = s->last_exit_code,
        .last_signal = s->last_signal,
        .ready_ms = s->ready_ms,
    };
}

const hp__line_ring *hp__supervisor_output(const hp__supervisor *s)
{
    return &s->ring;
}

uint64_t hp__supervisor_watch(hp__supervisor *s, hp__supervisor_watch_fn fn, void *data)
{
    watcher *w = HP_NEW(watcher);
    w->id = ++s->last_watch_id;
    w->fn = fn;
    w->data = data;
    w->next = s->watchers; /* first: one added during a round is not called in it */
    s->watchers = w;
    return w->id;
}

void hp__supervisor_unwatch(hp__supervisor *s, uint64_t id)
{
    for (watcher **link = &s->watchers; *link; link = &(*link)->next) {
        watcher *w = *link;
        if (w->id != id) continue;
        if (s->notifying) {
            w->fn = NULL; /* freed after the round */
        } else {
            *link = w->next;
            free(w);
        }
        return;
    }
}
