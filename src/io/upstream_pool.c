/* The per-worker upstream connection pool (upstream_pool.h).
 *
 * States of a connection: CONNECTING (its connect timer runs) → IN_USE (its user reads and
 * writes) ⇄ IDLE (on its target's stack, read from, its idle timer runs) → CLOSING (handle
 * closing; freed in the close callback). Every connection is on the pool's list of open ones
 * until its close callback, so destroy closes them all and the pool itself is freed by the
 * last close callback (or at once when none is open). */
#include "io/upstream_pool.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

typedef enum { CONNECTING, IN_USE, IDLE, CLOSING } conn_state;

typedef union stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} stream_handle;

struct hp__upstream_conn {
    stream_handle io;
    uv_connect_t connect;
    hp_timer timer; /* connect timeout, then idle timeout */
    hp__upstream_pool *pool;
    size_t target;
    hp__upstream_conn *prev, *next;      /* the pool's open connections */
    hp__upstream_conn *idle_next;        /* the target's idle stack */
    hp__upstream_connected_cb connected; /* CONNECTING: the user's callback */
    void *user;
    int early_status; /* a connect that failed before it began, reported by the timer */
    conn_state state;
    bool reused;
};

typedef struct target {
    struct sockaddr_storage addr;
    hp__upstream_conn *idle; /* top of the stack: the most recently used */
    size_t idle_count;
} target;

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
    p->target_count = count;
    for (size_t i = 0; i < count; i++) p->targets[i].addr = targets[i];
    return p;
}

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
    target *t = &c->pool->targets[c->target];
    for (hp__upstream_conn **at = &t->idle; *at; at = &(*at)->idle_next) {
        if (*at == c) {
            *at = c->idle_next;
            t->idle_count--;
            return;
        }
    }
}

static void conn_close(hp__upstream_conn *c)
{
    if (c->state == CLOSING) return;
    if (c->state == IDLE) remove_idle(c);
    c->state = CLOSING;
    c->connected = NULL;
    hp_timer_stop(&c->timer);
    c->io.handle.data = c;
    uv_close(&c->io.handle, on_closed);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void connect_failed(hp__upstream_conn *c, int status)
{
    hp__upstream_connected_cb cb = c->connected;
    void *user = c->user;
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
    c->state = IN_USE;
    hp__upstream_connected_cb cb = c->connected;
    c->connected = NULL;
    c->io.stream.data = c->user;
    cb(c, 0, c->user);
}

hp__upstream_conn *hp__upstream_pool_connect(hp__upstream_pool *p, size_t target_index,
                                             hp__upstream_connected_cb cb, void *data)
{
    hp__upstream_conn *c = HP_NEW(hp__upstream_conn);
    const struct sockaddr_storage *addr = &p->targets[target_index].addr;
    c->pool = p;
    c->target = target_index;
    c->connected = cb;
    c->user = data;
    c->state = CONNECTING;
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

/* ---- idle ---------------------------------------------------------------------------------- */

static void on_idle_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init(idle_scratch, sizeof idle_scratch);
}

static void on_idle_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread != 0) conn_close(s->data); /* EOF, an error, or bytes nobody asked for */
}

static void on_idle_timeout(hp_timer *timer)
{
    conn_close(timer->data);
}

hp__upstream_conn *hp__upstream_pool_take_idle(hp__upstream_pool *p, size_t target_index)
{
    target *t = &p->targets[target_index];
    hp__upstream_conn *c = t->idle;
    if (!c) return NULL;
    t->idle = c->idle_next;
    t->idle_count--;
    c->idle_next = NULL;
    uv_read_stop(&c->io.stream);
    hp_timer_stop(&c->timer);
    c->state = IN_USE;
    c->reused = true;
    return c;
}

void hp__upstream_pool_release(hp__upstream_conn *c, bool reusable)
{
    hp__upstream_pool *p = c->pool;
    target *t = &p->targets[c->target];
    if (c->state == CLOSING) return;
    c->connected = NULL;
    c->user = NULL;
    if (!reusable || c->state != IN_USE || p->destroyed || t->idle_count >= p->options.keepalive) {
        conn_close(c);
        return;
    }
    uv_read_stop(&c->io.stream);
    c->state = IDLE;
    c->idle_next = t->idle;
    t->idle = c;
    t->idle_count++;
    c->io.stream.data = c;
    uv_read_start(&c->io.stream, on_idle_alloc, on_idle_read);
    hp_timer_start(p->worker, &c->timer, p->options.idle_timeout_ms, on_idle_timeout);
}

void hp__upstream_pool_drain(hp__upstream_pool *p)
{
    for (size_t i = 0; i < p->target_count; i++)
        while (p->targets[i].idle) conn_close(p->targets[i].idle);
}

void hp__upstream_pool_destroy(hp__upstream_pool *p)
{
    if (!p) return;
    p->destroyed = true;
    for (hp__upstream_conn *c = p->open; c; c = c->next) conn_close(c);
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
