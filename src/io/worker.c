#include "io/worker.h"

#include "common/alloc.h"
#include "common/log.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct hp__server_drain hp__server_drain;

struct hp__worker {
    unsigned index;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wakeup;
    hp__locked_queue commands;
    hp__http_context http;
    hp__listener *listeners; /* open */
    hp__listener *retired;   /* closed, with connections still open */
    hp__server_drain *server_drains;
    hp__link conns; /* circular list head */
    size_t conn_count;
    bool draining;
    uv_timer_t drain_timer;
    hp__worker_reply_cb on_reply;
    void *on_reply_data;
};

/* A STOP_SERVER or RETARGET in progress on this worker: done when `conns_left` (the
 * connections accepted for `server` here) have all closed; at the deadline the rest are
 * aborted. The drains in progress are few, so a closing connection checks them all. */
struct hp__server_drain {
    hp__worker *worker;
    const hp_server *server;
    void *token;
    size_t conns_left;
    uv_timer_t deadline;
    hp__server_drain *next;
};

unsigned hp__worker_index(const hp__worker *w)
{
    return w->index;
}

uv_loop_t *hp__worker_loop(hp__worker *w)
{
    return &w->loop;
}

hp__http_context *hp__worker_http(hp__worker *w)
{
    return &w->http;
}

/* ---- connections -------------------------------------------------------------------------- */

void hp__worker_conn_opened(hp__worker *w, hp__conn *c)
{
    hp__link *l = (hp__link *)c;
    l->next = w->conns.next;
    l->prev = &w->conns;
    w->conns.next->prev = l;
    w->conns.next = l;
    w->conn_count++;
}

static void maybe_exit(hp__worker *w);

static void listener_accept_pending(hp__listener *l)
{
    const hp_limits *limits = &l->server->limits;
    while (l->paused && !l->closing && l->conn_count < limits->max_connections) {
        l->paused = false;
        hp__conn_accept(l);
    }
}

static void list_insert(hp__listener **head, hp__listener *l)
{
    l->prev = NULL;
    l->next = *head;
    if (*head) (*head)->prev = l;
    *head = l;
}

static void list_remove(hp__listener **head, hp__listener *l)
{
    if (l->prev) {
        l->prev->next = l->next;
    } else {
        *head = l->next;
    }
    if (l->next) l->next->prev = l->prev;
    l->next = l->prev = NULL;
}

static void server_drains_conn_closed(hp__worker *w, const hp_server *server);

/* A retired listener is freed with its last connection. */
static void listener_release(hp__worker *w, hp__listener *l)
{
    if (!l->closed || l->conn_count > 0) return;
    list_remove(&w->retired, l);
    free(l);
}

void hp__worker_conn_closed(hp__worker *w, hp__conn *c, hp__listener *listener)
{
    if (w->server_drains) server_drains_conn_closed(w, hp__conn_server(c));
    hp__link *l = (hp__link *)c;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    w->conn_count--;
    listener->conn_count--;
    if (listener->closed) {
        listener_release(w, listener);
    } else {
        listener_accept_pending(listener);
    }
    if (w->draining) maybe_exit(w);
}

/* ---- listeners ---------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    hp__listener *l = server->data;
    if (status < 0 || l->closing) return;
    if (l->conn_count >= l->server->limits.max_connections) {
        /* Leave the connection in libuv's hands: it stops polling this socket until we
         * accept, and the kernel's backlog holds the rest. */
        l->paused = true;
        return;
    }
    int r = hp__conn_accept(l);
    if (r != 0) hp__warn("worker %u: accept failed: %s", l->worker->index, uv_strerror(r));
}

/* A listener outlives its handle while connections it accepted still point to it. */
static void on_listener_closed(uv_handle_t *h)
{
    hp__listener *l = h->data;
    l->closed = true;
    listener_release(l->worker, l);
}

/* Stops accepting on `l`; it stays (retired) until its connections are gone. */
static void listener_close(hp__worker *w, hp__listener *l)
{
    list_remove(&w->listeners, l);
    list_insert(&w->retired, l);
    l->closing = true;
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
}

static void listener_open(hp__worker *w, int fd, const hp_server *server)
{
    hp__listener *l = HP_NEW(hp__listener);
    l->worker = w;
    l->server = server;
    uv_tcp_init(&w->loop, &l->tcp);
    l->tcp.data = l;
    int r = uv_tcp_open(&l->tcp, fd);
    if (r != 0) {
        close(fd); /* not adopted by the handle */
    } else {
        r = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
    }
    list_insert(&w->listeners, l);
    if (r != 0) {
        hp__error("worker %u: cannot listen for %s: %s", w->index, server->name, uv_strerror(r));
        listener_close(w, l);
    }
}

static void close_listeners(hp__worker *w, const hp_server *only)
{
    for (hp__listener *l = w->listeners, *next; l; l = next) {
        next = l->next;
        if (!only || l->server == only) listener_close(w, l);
    }
}

/* ---- stopping one server ------------------------------------------------------------------ */

static void on_server_drain_closed(uv_handle_t *h)
{
    free(h->data); /* the hp__server_drain */
}

static void server_drain_done(hp__worker *w, hp__server_drain *d)
{
    hp__server_drain **pp = &w->server_drains;
    while (*pp != d) pp = &(*pp)->next;
    *pp = d->next;
    w->on_reply(w, HP__REPLY_SERVER_STOPPED, d->token, w->on_reply_data);
    uv_close((uv_handle_t *)&d->deadline, on_server_drain_closed);
}

static void server_drains_conn_closed(hp__worker *w, const hp_server *server)
{
    for (hp__server_drain *d = w->server_drains, *next; d; d = next) {
        next = d->next;
        if (d->server == server && --d->conns_left == 0) server_drain_done(w, d);
    }
}

static void on_server_drain_deadline(uv_timer_t *t)
{
    hp__server_drain *d = t->data;
    hp__worker *w = d->worker;
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        if (hp__conn_server((hp__conn *)l) == d->server) hp__conn_abort((hp__conn *)l);
    }
}

/* Drains the connections accepted for `server` here; replies when the last one closed. */
static void drain_server_conns(hp__worker *w, const hp_server *server, uint64_t timeout_ms,
                               void *token)
{
    hp__server_drain *d = HP_NEW(hp__server_drain);
    d->worker = w;
    d->server = server;
    d->token = token;
    uv_timer_init(&w->loop, &d->deadline);
    d->deadline.data = d;
    d->next = w->server_drains;
    w->server_drains = d;
    for (hp__link *l = w->conns.next; l != &w->conns; l = l->next)
        d->conns_left += hp__conn_server((hp__conn *)l) == server;
    if (d->conns_left == 0) {
        server_drain_done(w, d); /* nothing of this server on this worker */
        return;
    }
    uv_timer_start(&d->deadline, on_server_drain_deadline, timeout_ms, 0);
    /* Draining may close idle connections at once, which counts them down. */
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        if (hp__conn_server((hp__conn *)l) == server) hp__conn_drain((hp__conn *)l);
    }
}

static void stop_server(hp__worker *w, const hp_server *server, uint64_t timeout_ms, void *token)
{
    close_listeners(w, server);
    drain_server_conns(w, server, timeout_ms, token);
}

/* Hands `old`'s listening sockets to `new_server`: new connections go to the new version at
 * once, no socket is closed, and the old version's connections drain. */
static void retarget(hp__worker *w, const hp_server *old, const hp_server *new_server,
                     uint64_t timeout_ms, void *token)
{
    for (hp__listener *l = w->listeners; l; l = l->next)
        if (l->server == old) l->server = new_server;
    drain_server_conns(w, old, timeout_ms, token);
}

/* ---- drain and exit ----------------------------------------------------------------------- */

static void maybe_exit(hp__worker *w)
{
    if (w->conn_count > 0) return;
    if (!uv_is_closing((uv_handle_t *)&w->drain_timer)) {
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_close((uv_handle_t *)&w->wakeup, NULL);
    }
}

static void on_drain_deadline(uv_timer_t *t)
{
    hp__worker *w = t->data;
    /* Aborting unlinks connections as their handles close, so walk a stable snapshot. */
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        hp__conn_abort((hp__conn *)l);
    }
}

static void drain(hp__worker *w, uint64_t timeout_ms)
{
    if (w->draining) return;
    w->draining = true;
    close_listeners(w, NULL);
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        hp__conn_drain((hp__conn *)l);
    }
    uv_timer_start(&w->drain_timer, on_drain_deadline, timeout_ms, 0);
    maybe_exit(w);
}

/* ---- commands ----------------------------------------------------------------------------- */

void hp__worker_post(hp__worker *w, hp__command *cmd)
{
    hp__locked_queue_push(&w->commands, &cmd->item);
    uv_async_send(&w->wakeup);
}

static void on_wakeup(uv_async_t *a)
{
    hp__worker *w = a->data;
    hp__command *cmd = (hp__command *)hp__locked_queue_take_all(&w->commands);
    while (cmd) {
        hp__command *next = (hp__command *)cmd->item.next;
        if (cmd->type == HP__CMD_LISTEN) {
            if (w->draining) {
                close(cmd->fd);
            } else {
                listener_open(w, cmd->fd, cmd->server);
            }
        } else if (cmd->type == HP__CMD_STOP_SERVER) {
            stop_server(w, cmd->server, cmd->timeout_ms, cmd->token);
        } else if (cmd->type == HP__CMD_RETARGET) {
            retarget(w, cmd->server, cmd->new_server, cmd->timeout_ms, cmd->token);
        } else if (cmd->type == HP__CMD_DRAIN) {
            drain(w, cmd->timeout_ms);
        }
        free(cmd);
        cmd = next;
    }
}

/* ---- thread ------------------------------------------------------------------------------- */

hp__worker *hp__worker_create(unsigned index, hp__worker_reply_cb on_reply, void *data)
{
    hp__worker *w = HP_NEW(hp__worker);
    w->index = index;
    w->on_reply = on_reply;
    w->on_reply_data = data;
    w->conns.next = w->conns.prev = &w->conns;
    uv_loop_init(&w->loop);
    hp__locked_queue_init(&w->commands);
    uv_async_init(&w->loop, &w->wakeup, on_wakeup);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    hp__http_context_init(&w->http, index);
    return w;
}

static void worker_main(void *arg)
{
    hp__worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    w->on_reply(w, HP__REPLY_EXITED, NULL, w->on_reply_data);
}

int hp__worker_start(hp__worker *w)
{
    return uv_thread_create(&w->thread, worker_main, w);
}

void hp__worker_destroy(hp__worker *w)
{
    if (!w) return;
    uv_thread_join(&w->thread);
    hp__command *c = (hp__command *)hp__locked_queue_take_all(&w->commands);
    for (hp__command *next; c; c = next) {
        next = (hp__command *)c->item.next;
        if (c->type == HP__CMD_LISTEN) close(c->fd);
        free(c);
    }
    uv_loop_close(&w->loop);
    hp__http_context_close(&w->http);
    hp__locked_queue_close(&w->commands);
    free(w);
}
