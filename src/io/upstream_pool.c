/* The per-worker upstream connection pool (upstream_pool.h).
 *
 * States of a connection: CONNECTING (its connect timer runs) → IN_USE (its user reads and
 * writes) ⇄ IDLE (on its target's stack, read from, its idle timer runs) → CLOSING (handle
 * closing; freed in the close callback). Every connection is on the pool's list of open ones
 * until its close callback, so destroy closes them all and the pool itself is freed by the
 * last close callback (or at once when none is open). set_state is the one place a state
 * changes after the open, so the target's count of open connections and the shared figures
 * follow every transition.
 *
 * Phases of a wait (the caller's hp__upstream_wait): NONE → QUEUED (in its target's FIFO, its
 * timer is the acquire timeout) → CONNECTING (a connection opened for it in a freed slot, or
 * by acquire under the limit; conn->wait points back) or HANDED (a connection released
 * reusable was given to it; its timer, at 0 ms, tells it on the next turn of the loop, so no
 * user callback runs inside another user's release) → NONE when its callback runs or it is
 * cancelled.
 *
 * Invariants: a target has waiters only while it has no idle connection and max_connections
 * open (a release hands over before anything goes idle; a close opens a connection for the
 * oldest waiter at once), so acquire never queues behind an idle connection and never opens
 * one while others wait. A connection's `wait` is set exactly while that wait is CONNECTING or
 * HANDED on it. */
#include "io/upstream_pool.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

typedef enum { CONNECTING, IN_USE, IDLE, CLOSING } conn_state;

enum { WAIT_NONE, WAIT_QUEUED, WAIT_CONNECTING, WAIT_HANDED };

typedef union stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} stream_handle;

typedef struct target target;

struct hp__upstream_conn {
    stream_handle io;
    uv_connect_t connect;
    hp_timer timer; /* connect timeout, then idle timeout */
    hp__upstream_pool *pool;
    target *to;
    hp__upstream_conn *prev, *next;      /* the pool's open connections */
    hp__upstream_conn *idle_next;        /* the target's idle stack */
    hp__upstream_connected_cb connected; /* CONNECTING: the user's callback */
    void *user;
    hp__upstream_wait *wait; /* the wait it is opened for or handed over to, not yet told */
    unsigned requests;       /* requests given this connection, this one included */
    int early_status;        /* a connect that failed before it began, reported by the timer */
    conn_state state;
    bool reused;
    bool reading;           /* libuv reads it, into read_user's callbacks or the idle ones */
    uv_alloc_cb user_alloc; /* the user's reader, NULL while idle or none is set */
    uv_read_cb user_read;
};

struct target {
    struct sockaddr_storage addr;
    hp__upstream_conn *idle; /* top of the stack: the most recently used */
    size_t idle_count;
    size_t open_count;                  /* connections not CLOSING: max_connections */
    hp__upstream_wait *oldest, *newest; /* the queue of waiters */
    hp__upstream_pool_figures *figures; /* the caller's, or NULL */
};

struct hp__upstream_pool {
    hp_worker *worker;
    uv_loop_t *loop;
    hp__upstream_pool_options options;
    hp__upstream_conn *open;
    bool destroyed;
    size_t target_count;
    target targets[];
};

static char idle_scratch[64]; /* what an idle connection reads is thrown away: one thread */

hp__upstream_pool *hp__upstream_pool_create(hp_worker *worker,
                                            const struct sockaddr_storage *targets, size_t count,
                                            const hp__upstream_pool_options *options)
{
    hp__upstream_pool *p = hp__calloc(1, sizeof *p + count * sizeof p->targets[0]);
    p->worker = worker;
    p->loop = hp_worker_loop(worker);
    p->options = *options;
    p->options.figures = NULL; /* kept per target */
    p->target_count = count;
    for (size_t i = 0; i < count; i++) {
        p->targets[i].addr = targets[i];
        p->targets[i].figures = options->figures ? &options->figures[i] : NULL;
    }
    return p;
}

/* ---- figures and states -------------------------------------------------------------------- */

static void figure_add(_Atomic uint32_t *figure, uint32_t n)
{
    atomic_fetch_add_explicit(figure, n, memory_order_relaxed);
}

static void figure_sub(_Atomic uint32_t *figure, uint32_t n)
{
    atomic_fetch_sub_explicit(figure, n, memory_order_relaxed);
}

static _Atomic uint32_t *state_figure(hp__upstream_pool_figures *f, conn_state state)
{
    if (state == IDLE) return &f->idle;
    if (state == IN_USE) return &f->in_use;
    return NULL;
}

static void count_move(hp__upstream_pool_figures *f, conn_state from, conn_state to)
{
    if (to == CLOSING) figure_sub(&f->open, 1);
    _Atomic uint32_t *left = state_figure(f, from), *entered = state_figure(f, to);
    if (left) figure_sub(left, 1);
    if (entered) figure_add(entered, 1);
}

static inline void set_state(hp__upstream_conn *c, conn_state to)
{
    conn_state from = c->state;
    c->state = to;
    if (to == CLOSING) c->to->open_count--;
    if (c->to->figures) count_move(c->to->figures, from, to);
}

/* One more request on a connection that served before (taken idle or handed over). */
static inline void count_reuse(hp__upstream_conn *c)
{
    c->requests++;
    c->reused = true;
    if (c->to->figures) atomic_fetch_add_explicit(&c->to->figures->reuses, 1, memory_order_relaxed);
}

static bool spent(const hp__upstream_conn *c)
{
    unsigned max = c->pool->options.max_requests;
    return max && c->requests >= max;
}

static bool at_limit(const hp__upstream_pool *p, const target *t)
{
    return p->options.max_connections && t->open_count >= p->options.max_connections;
}

/* ---- the queue of waiters ------------------------------------------------------------------ */

static void queue_push(target *t, hp__upstream_wait *w)
{
    w->phase = WAIT_QUEUED;
    w->next = NULL;
    w->prev = t->newest;
    if (t->newest)
        t->newest->next = w;
    else
        t->oldest = w;
    t->newest = w;
    if (t->figures) figure_add(&t->figures->waiting, 1);
}

static void queue_remove(target *t, hp__upstream_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        t->oldest = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        t->newest = w->prev;
    w->prev = w->next = NULL;
    w->phase = WAIT_NONE;
    hp_timer_stop(&w->timer);
    if (t->figures) figure_sub(&t->figures->waiting, 1);
}

/* The connection no longer serves its wait (told, given up, or failed). */
static void detach_wait(hp__upstream_conn *c)
{
    hp__upstream_wait *w = c->wait;
    if (!w) return;
    hp_timer_stop(&w->timer);
    w->phase = WAIT_NONE;
    w->conn = NULL;
    c->wait = NULL;
}

/* ---- closing ------------------------------------------------------------------------------- */

static void serve_freed_slot(hp__upstream_pool *p, target *t);

static void unlink_open(hp__upstream_conn *c)
{
    hp__upstream_pool *p = c->pool;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->open = c->next;
    if (c->next) c->next->prev = c->prev;
}

static void on_closed(uv_handle_t *h)
{
    hp__upstream_conn *c = h->data;
    hp__upstream_pool *p = c->pool;
    unlink_open(c);
    free(c);
    if (p->destroyed && !p->open) free(p);
}

static void remove_idle(hp__upstream_conn *c)
{
    target *t = c->to;
    for (hp__upstream_conn **at = &t->idle; *at; at = &(*at)->idle_next) {
        if (*at == c) {
            *at = c->idle_next;
            t->idle_count--;
            return;
        }
    }
}

/* Closes a connection whose wait, if any, was detached; its slot goes to the oldest waiter. */
static void conn_close(hp__upstream_conn *c)
{
    if (c->state == CLOSING) return;
    if (c->state == IDLE) remove_idle(c);
    set_state(c, CLOSING);
    c->connected = NULL;
    hp_timer_stop(&c->timer);
    c->io.handle.data = c;
    uv_close(&c->io.handle, on_closed);
    serve_freed_slot(c->pool, c->to);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void connect_failed(hp__upstream_conn *c, int status)
{
    hp__upstream_connected_cb cb = c->connected;
    void *user = c->user;
    detach_wait(c);
    conn_close(c);
    if (cb) cb(c, status, user);
}

static void on_connect_timeout(hp_timer *timer)
{
    hp__upstream_conn *c = timer->data;
    connect_failed(c, c->early_status ? c->early_status : UV_ETIMEDOUT);
}

static void on_connect(uv_connect_t *req, int status)
{
    hp__upstream_conn *c = req->data;
    if (c->state != CONNECTING) return; /* closed meanwhile: status is UV_ECANCELED */
    if (status != 0) return connect_failed(c, status);
    hp_timer_stop(&c->timer);
    detach_wait(c);
    set_state(c, IN_USE);
    hp__upstream_connected_cb cb = c->connected;
    c->connected = NULL;
    c->io.stream.data = c->user;
    cb(c, 0, c->user);
}

/* A new connection for one request (its first). */
static hp__upstream_conn *conn_open(hp__upstream_pool *p, target *t, hp__upstream_connected_cb cb,
                                    void *data)
{
    hp__upstream_conn *c = HP_NEW(hp__upstream_conn);
    const struct sockaddr_storage *addr = &t->addr;
    c->pool = p;
    c->to = t;
    c->connected = cb;
    c->user = data;
    c->state = CONNECTING;
    c->requests = 1;
    t->open_count++;
    if (t->figures) {
        figure_add(&t->figures->open, 1);
        atomic_fetch_add_explicit(&t->figures->connects, 1, memory_order_relaxed);
    }
    c->next = p->open;
    if (p->open) p->open->prev = c;
    p->open = c;
    c->connect.data = c;
    int rc;
    if (addr->ss_family == AF_UNIX) {
        uv_pipe_init(p->loop, &c->io.pipe, 0);
        uv_pipe_connect(&c->connect, &c->io.pipe, ((const struct sockaddr_un *)addr)->sun_path,
                        on_connect);
        rc = 0; /* uv_pipe_connect reports every failure through on_connect */
    } else {
        uv_tcp_init(p->loop, &c->io.tcp);
        uv_tcp_nodelay(&c->io.tcp, 1);
        rc = uv_tcp_connect(&c->connect, &c->io.tcp, (const struct sockaddr *)addr, on_connect);
    }
    c->timer.data = c;
    if (rc != 0) {
        /* Reported on the next turn of the loop, as every failure: the caller's own state is
         * complete by then. */
        c->early_status = rc;
        hp_timer_start(p->worker, &c->timer, 0, on_connect_timeout);
        return c;
    }
    hp_timer_start(p->worker, &c->timer, p->options.connect_timeout_ms, on_connect_timeout);
    return c;
}

hp__upstream_conn *hp__upstream_pool_connect(hp__upstream_pool *p, size_t target_index,
                                             hp__upstream_connected_cb cb, void *data)
{
    return conn_open(p, &p->targets[target_index], cb, data);
}

static void wait_on(hp__upstream_wait *w, hp__upstream_conn *c, int phase)
{
    w->phase = phase;
    w->conn = c;
    c->wait = w;
}

/* A slot of the target freed: a new connection for the oldest waiter. */
static void serve_freed_slot(hp__upstream_pool *p, target *t)
{
    hp__upstream_wait *w = t->oldest;
    if (!w || p->destroyed || at_limit(p, t)) return;
    queue_remove(t, w);
    wait_on(w, conn_open(p, t, w->cb, w->data), WAIT_CONNECTING);
}

/* ---- reading: started once, kept across users (no epoll_ctl per request) ------------------- */

static hp__upstream_conn *conn_of(uv_handle_t *h)
{
    return (hp__upstream_conn *)((char *)h - offsetof(hp__upstream_conn, io));
}

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    hp__upstream_conn *c = conn_of(h);
    if (c->user_alloc)
        c->user_alloc(h, suggested, buf);
    else
        *buf = uv_buf_init(idle_scratch, sizeof idle_scratch);
}

static void on_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    hp__upstream_conn *c = conn_of((uv_handle_t *)s);
    if (nread < 0) {
        c->reading = false; /* libuv stopped at EOF; an error stops here */
        uv_read_stop(s);
    }
    if (c->user_read)
        c->user_read(s, nread, buf);
    else if (nread != 0)
        conn_close(c); /* idle or between users: EOF, an error, or bytes nobody asked for */
}

static void read_on(hp__upstream_conn *c)
{
    if (c->reading) return;
    c->reading = true;
    uv_read_start(&c->io.stream, on_conn_alloc, on_conn_read);
}

static void read_off(hp__upstream_conn *c)
{
    if (!c->reading) return;
    c->reading = false;
    uv_read_stop(&c->io.stream);
}

void hp__upstream_conn_read(hp__upstream_conn *c, uv_alloc_cb alloc, uv_read_cb read)
{
    c->user_alloc = alloc;
    c->user_read = read;
    read_on(c);
}

void hp__upstream_conn_read_stop(hp__upstream_conn *c)
{
    read_off(c);
}

/* ---- idle ---------------------------------------------------------------------------------- */

static void on_idle_timeout(hp_timer *timer)
{
    conn_close(timer->data);
}

/* Pops the target's most recently used idle connection (now in use), or NULL. */
static hp__upstream_conn *take_idle(hp__upstream_pool *p, size_t target_index)
{
    target *t = &p->targets[target_index];
    hp__upstream_conn *c = t->idle;
    if (!c) return NULL;
    t->idle = c->idle_next;
    t->idle_count--;
    c->idle_next = NULL;
    hp_timer_stop(&c->timer); /* it goes on reading: the user sets its reader */
    set_state(c, IN_USE);
    count_reuse(c);
    return c;
}

static void go_idle(hp__upstream_conn *c)
{
    target *t = c->to;
    set_state(c, IDLE);
    c->idle_next = t->idle;
    t->idle = c;
    t->idle_count++;
    c->io.stream.data = c;
    read_on(c);
    hp_timer_start(c->pool->worker, &c->timer, c->pool->options.idle_timeout_ms, on_idle_timeout);
}

/* ---- acquiring ----------------------------------------------------------------------------- */

static void on_wait_timer(hp_timer *timer)
{
    hp__upstream_wait *w = timer->data;
    if (w->phase == WAIT_QUEUED) {
        queue_remove(&w->pool->targets[w->target], w);
        w->cb(NULL, HP__UPSTREAM_EACQUIRE, w->data);
        return;
    }
    hp__upstream_conn *c = w->conn; /* WAIT_HANDED: the handover, on the turn after release */
    detach_wait(c);
    count_reuse(c);
    c->io.stream.data = w->data;
    w->cb(c, 0, w->data);
}

/* A connection released reusable goes to the oldest waiter, told on the next turn. */
static void hand_over(hp__upstream_conn *c, hp__upstream_wait *w)
{
    queue_remove(c->to, w);
    wait_on(w, c, WAIT_HANDED);
    hp_timer_start(c->pool->worker, &w->timer, 0, on_wait_timer);
}

hp__upstream_acquire_result hp__upstream_pool_acquire(hp__upstream_pool *p, size_t target_index,
                                                      hp__upstream_wait *w,
                                                      hp__upstream_connected_cb cb, void *data,
                                                      hp__upstream_conn **out)
{
    hp__upstream_conn *c = take_idle(p, target_index);
    if (c) {
        c->io.stream.data = data;
        *out = c;
        return HP__UPSTREAM_GOT_IDLE;
    }
    target *t = &p->targets[target_index];
    w->cb = cb;
    w->data = data;
    w->pool = p;
    w->target = target_index;
    w->timer.data = w;
    if (!at_limit(p, t)) {
        *out = conn_open(p, t, cb, data);
        wait_on(w, *out, WAIT_CONNECTING);
        return HP__UPSTREAM_CONNECTING;
    }
    *out = NULL;
    w->conn = NULL;
    queue_push(t, w);
    hp_timer_start(p->worker, &w->timer, p->options.acquire_timeout_ms, on_wait_timer);
    return HP__UPSTREAM_QUEUED;
}

void hp__upstream_pool_cancel(hp__upstream_wait *w)
{
    switch (w->phase) {
    case WAIT_QUEUED:
        queue_remove(&w->pool->targets[w->target], w);
        break;
    case WAIT_CONNECTING:
        hp__upstream_pool_release(w->conn, false); /* detaches the wait */
        break;
    case WAIT_HANDED:
        hp__upstream_pool_release(w->conn, true); /* to the next waiter, or idle */
        break;
    default:
        break;
    }
}

bool hp__upstream_pool_would_queue(const hp__upstream_pool *p, size_t target_index)
{
    const target *t = &p->targets[target_index];
    return !t->idle && at_limit(p, t);
}

/* ---- release, drain, destroy --------------------------------------------------------------- */

void hp__upstream_pool_release(hp__upstream_conn *c, bool reusable)
{
    hp__upstream_pool *p = c->pool;
    target *t = c->to;
    if (c->state == CLOSING) return;
    detach_wait(c);
    c->connected = NULL;
    c->user = NULL;
    c->user_alloc = NULL;
    c->user_read = NULL;
    if (!reusable || c->state != IN_USE || p->destroyed || spent(c)) {
        conn_close(c);
        return;
    }
    if (t->oldest) {
        read_off(c); /* until its new user has it, on the next turn */
        hand_over(c, t->oldest);
        return;
    }
    if (t->idle_count >= p->options.keepalive) {
        conn_close(c);
        return;
    }
    go_idle(c);
}

void hp__upstream_pool_drain(hp__upstream_pool *p)
{
    for (size_t i = 0; i < p->target_count; i++)
        while (p->targets[i].idle) conn_close(p->targets[i].idle);
}

static void answer_cancelled(hp__upstream_wait *w)
{
    w->cb(NULL, UV_ECANCELED, w->data);
}

void hp__upstream_pool_destroy(hp__upstream_pool *p)
{
    if (!p) return;
    p->destroyed = true;
    for (size_t i = 0; i < p->target_count; i++) {
        target *t = &p->targets[i];
        while (t->oldest) {
            hp__upstream_wait *w = t->oldest;
            queue_remove(t, w);
            answer_cancelled(w);
        }
    }
    for (hp__upstream_conn *c = p->open; c; c = c->next) {
        hp__upstream_wait *w = c->wait;
        detach_wait(c);
        conn_close(c);
        if (w) answer_cancelled(w);
    }
    if (!p->open) free(p);
}

uv_stream_t *hp__upstream_conn_stream(hp__upstream_conn *c)
{
    return &c->io.stream;
}

bool hp__upstream_conn_reused(const hp__upstream_conn *c)
{
    return c->reused;
}
