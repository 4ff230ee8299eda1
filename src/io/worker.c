#include "io/worker.h"

#include "http/hooks.h"
#include "http/server_journal.h"

#include "common/alloc.h"
#include "common/log.h"
#include "io/accept.h"
#include "io/call.h"
#include "io/log_writer.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct hp__server_drain hp__server_drain;

struct hp__worker {
    unsigned index;
    uv_loop_t loop;
    hp_worker context; /* what its handlers reach (hostpool/worker.h) */
    uv_thread_t thread;
    uv_async_t wakeup;
    hp__locked_queue commands;
    hp__http_context http;
    hp__log_writer log_writer; /* its lines to access log files */
    hp__listener *listeners;   /* open */
    hp__listener *retired;     /* closed, with connections still open */
    hp__server_drain *server_drains;
    hp__link conns; /* circular list head */
    size_t conn_count;
    bool draining;
    uv_timer_t drain_timer;
    hp__acceptor acceptor;
    hp__worker_reply_cb on_reply;
    void *on_reply_data;
};

/* A STOP_SERVER in progress on this worker: done when no connection here uses `server` any
 * more (hp__conn_uses_server); at the deadline the connections still using it are aborted.
 * While drains are pending the worker hears of every exchange that ends; an event that concerns
 * a drain's server makes it count again (a walk of the worker's connections), so the cost is
 * paid only by the connections of the server that stops. */
struct hp__server_drain {
    hp__worker *worker;
    const hp_server *server;
    void *token;
    uv_timer_t deadline;
    hp__server_drain *next;
};

uv_loop_t *hp__worker_loop(hp__worker *w)
{
    return &w->loop;
}

hp_worker *hp__worker_context(hp__worker *w)
{
    return &w->context;
}

hp__http_context *hp__worker_http(hp__worker *w)
{
    return &w->http;
}

hp__acceptor *hp__worker_acceptor(hp__worker *w)
{
    return &w->acceptor;
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
static void server_drains_check(hp__worker *w, const hp_server *server, const hp__vhosts *gone);

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

/* A retired listener is freed with its last connection. */
static void listener_release(hp__worker *w, hp__listener *l)
{
    if (!l->retired || !l->closed || l->conn_count > 0) return;
    list_remove(&w->retired, l);
    hp__vhosts_release(l->vhosts);
    free(l);
}

void hp__worker_conn_closed(hp__worker *w, hp__conn *c, hp__listener *listener)
{
    hp__link *l = (hp__link *)c;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    w->conn_count--;
    listener->conn_count--;
    hp__acceptor_conn_closed(&w->acceptor);
    if (w->server_drains && listener->retired) server_drains_check(w, NULL, listener->vhosts);
    if (listener->retired) {
        listener_release(w, listener);
    } else {
        hp__listener_resume(listener);
    }
    if (w->draining) maybe_exit(w);
}

/* ---- listeners ---------------------------------------------------------------------------- */

/* A listener outlives its handle while connections it accepted still point to it. */
static void on_listener_closed(uv_handle_t *h)
{
    hp__listener *l = h->data;
    l->closed = true;
    listener_release(l->worker, l);
}

static void listener_stop_accepting(hp__listener *l)
{
    if (!l->closing) hp__listener_close(l, on_listener_closed);
}

/* The control thread is done with `l`: it stops accepting and is freed once its connections
 * are gone; they drain (idle ones close at once), since no server takes new requests here. */
static void listener_retire(hp__worker *w, hp__listener *l)
{
    list_remove(&w->listeners, l);
    list_insert(&w->retired, l);
    l->retired = true;
    listener_stop_accepting(l);
    for (hp__link *k = w->conns.next, *next; k != &w->conns; k = next) {
        next = k->next;
        if (hp__conn_listener((hp__conn *)k) == l) hp__conn_drain((hp__conn *)k);
    }
    listener_release(w, l); /* one that never got a handle */
}

/* The servers of a table published here: the hooked handlers of those new here start, and the
 * first with a journal adds the journal's observer. */
static void servers_published(hp__worker *w, const hp__vhosts *vhosts)
{
    for (size_t i = 0; i < vhosts->server_count; i++) {
        hp__worker_handlers_add_server(&w->context, vhosts->servers[i]);
        hp__server_journal_published(&w->http, vhosts->servers[i]);
    }
}

/* A virtual-hosts table published to the listener (`routing`): the servers new here start their
 * handlers before the table can route a request to them. */
static hp__snapshot *install_vhosts(hp__snapshot_slot *slot, hp__snapshot *snapshot)
{
    hp__listener *l = (hp__listener *)((char *)slot - offsetof(hp__listener, routing));
    hp__vhosts *old = l->vhosts;
    l->vhosts = (hp__vhosts *)snapshot;
    servers_published(l->worker, l->vhosts);
    hp__listener_resume(l); /* its head server, whose limits apply, may have changed */
    return old ? &old->snapshot : NULL;
}

/* The socket is bound and listening (socket.c); `vhosts` is the listener's first table. */
static void listener_open(hp__worker *w, hp__listener *l, int fd, hp__snapshot *vhosts)
{
    l->worker = w;
    l->routing.install = install_vhosts;
    install_vhosts(&l->routing, vhosts);
    list_insert(&w->listeners, l);
    int r = hp__listener_start(l, fd);
    if (r != 0) {
        hp__error("worker %u: cannot accept for %s: %s", w->index, l->vhosts->head->name,
                  uv_strerror(r));
        l->closing = l->closed = true; /* no handle; listed until the control thread retires it */
    }
}

/* The control thread is done with `l`; it hears when its socket closed. */
static void listener_close(hp__worker *w, hp__listener *l, void *token)
{
    listener_retire(w, l);
    w->on_reply(w, HP__REPLY_LISTENER_CLOSED, token, w->on_reply_data);
}

/* ---- stopping one server ------------------------------------------------------------------ */

static void on_server_drain_closed(uv_handle_t *h)
{
    free(h->data); /* the hp__server_drain */
}

static bool server_in_use(hp__worker *w, const hp_server *server)
{
    for (hp__link *l = w->conns.next; l != &w->conns; l = l->next)
        if (hp__conn_uses_server((hp__conn *)l, server)) return true;
    return false;
}

static void on_exchange_ended(hp__http_context *ctx, const hp_server *server);

/* Nothing here uses `server` any more: the handlers it was the last user of stop, then the
 * control thread hears it (and may free the server and its handlers). */
static void server_stopped(hp__worker *w, const hp_server *server, void *token)
{
    hp__worker_handlers_remove_server(&w->context, server);
    w->on_reply(w, HP__REPLY_SERVER_STOPPED, token, w->on_reply_data);
}

static void server_drain_done(hp__worker *w, hp__server_drain *d)
{
    hp__server_drain **pp = &w->server_drains;
    while (*pp != d) pp = &(*pp)->next;
    *pp = d->next;
    if (!w->server_drains) w->http.exchange_ended = NULL;
    server_stopped(w, d->server, d->token);
    uv_close((uv_handle_t *)&d->deadline, on_server_drain_closed);
}

/* Something that may have held a draining server let go: an exchange of `server` ended, or a
 * connection of a retired listener routing by `gone` closed. */
static void server_drains_check(hp__worker *w, const hp_server *server, const hp__vhosts *gone)
{
    for (hp__server_drain *d = w->server_drains, *next; d; d = next) {
        next = d->next;
        bool concerned = d->server == server || (gone && hp__vhosts_has(gone, d->server));
        if (concerned && !server_in_use(w, d->server)) server_drain_done(w, d);
    }
}

static void on_exchange_ended(hp__http_context *ctx, const hp_server *server)
{
    hp__worker *w = (hp__worker *)((char *)ctx - offsetof(hp__worker, http));
    server_drains_check(w, server, NULL);
}

static void on_server_drain_deadline(uv_timer_t *t)
{
    hp__server_drain *d = t->data;
    hp__worker *w = d->worker;
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        if (hp__conn_uses_server((hp__conn *)l, d->server)) hp__conn_abort((hp__conn *)l);
    }
}

/* Waits until no connection here uses `server` (its listeners were already retired or
 * republished without it, so it gets no new request), then replies. Connections that belong
 * to it alone (upgraded ones) are asked to drain; HTTP/1 ones finish their exchange. */
static void stop_server(hp__worker *w, const hp_server *server, uint64_t timeout_ms, void *token)
{
    hp__worker_handlers_drain_server(&w->context, server);
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        hp__conn_server_stopping((hp__conn *)l, server);
    }
    if (!server_in_use(w, server)) {
        server_stopped(w, server, token);
        return;
    }
    hp__server_drain *d = HP_NEW(hp__server_drain);
    d->worker = w;
    d->server = server;
    d->token = token;
    uv_timer_init(&w->loop, &d->deadline);
    d->deadline.data = d;
    d->next = w->server_drains;
    w->server_drains = d;
    w->http.exchange_ended = on_exchange_ended;
    uv_timer_start(&d->deadline, on_server_drain_deadline, timeout_ms, 0);
}

/* ---- drain and exit ----------------------------------------------------------------------- */

/* The last connection is gone: the handlers stop first (closing what they opened on the loop,
 * their timers still usable), then the worker's own handles close, and the loop ends once
 * every handle is closed. */
static void maybe_exit(hp__worker *w)
{
    if (w->conn_count > 0) return;
    if (!uv_is_closing((uv_handle_t *)&w->drain_timer)) {
        hp__worker_context_close(&w->context);
        hp__log_writer_stop(&w->log_writer);
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_close((uv_handle_t *)&w->wakeup, NULL);
        hp__acceptor_close(&w->acceptor);
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
    while (w->listeners) listener_retire(w, w->listeners);
    for (hp__link *l = w->conns.next, *next; l != &w->conns; l = next) {
        next = l->next;
        hp__conn_drain((hp__conn *)l);
    }
    hp__worker_handlers_drain_all(&w->context);
    uv_timer_start(&w->drain_timer, on_drain_deadline, timeout_ms, 0);
    maybe_exit(w);
}

/* ---- commands ----------------------------------------------------------------------------- */

void hp__worker_post(hp__worker *w, hp__command *cmd)
{
    hp__locked_queue_push(&w->commands, &cmd->item);
    uv_async_send(&w->wakeup);
}

void hp__worker_send_call(hp__call *call)
{
    hp_worker *context = hp__worker_context_current();
    hp__worker *w = (hp__worker *)((char *)context - offsetof(hp__worker, context));
    call->worker = w->index;
    w->on_reply(w, HP__REPLY_CALL, call, w->on_reply_data);
}

/* Frees what a command owns when it is not carried out (the worker drains or ended). */
static void command_discard(hp__command *cmd)
{
    if (cmd->type == HP__CMD_CALL) cmd->call(cmd->call_arg, false);
    if (cmd->type == HP__CMD_LISTEN) {
        close(cmd->fd);
        free(cmd->listener);
    }
    hp__snapshot_release(cmd->snapshot);
}

static void run_command(hp__worker *w, hp__command *cmd)
{
    switch (cmd->type) {
    case HP__CMD_LISTEN:
        if (w->draining) {
            command_discard(cmd);
        } else {
            listener_open(w, cmd->listener, cmd->fd, cmd->snapshot);
        }
        break;
    case HP__CMD_PUBLISH:
        hp__snapshot_release(cmd->slot->install(cmd->slot, cmd->snapshot));
        break;
    case HP__CMD_CLOSE_LISTENER:
        listener_close(w, cmd->listener, cmd->token);
        break;
    case HP__CMD_STOP_SERVER:
        stop_server(w, cmd->server, cmd->timeout_ms, cmd->token);
        break;
    case HP__CMD_DRAIN:
        drain(w, cmd->timeout_ms);
        break;
    case HP__CMD_CALL:
        cmd->call(cmd->call_arg, true);
        break;
    }
}

static void on_wakeup(uv_async_t *a)
{
    hp__worker *w = a->data;
    hp__command *cmd = (hp__command *)hp__locked_queue_take_all(&w->commands);
    while (cmd) {
        hp__command *next = (hp__command *)cmd->item.next;
        run_command(w, cmd);
        free(cmd);
        cmd = next;
    }
}

/* ---- thread ------------------------------------------------------------------------------- */

hp__worker *hp__worker_create(unsigned index, hp__worker_reply_cb on_reply, void *data,
                              const hp_hooks *hooks)
{
    hp__worker *w = HP_NEW(hp__worker);
    w->index = index;
    w->on_reply = on_reply;
    w->on_reply_data = data;
    w->conns.next = w->conns.prev = &w->conns;
    uv_loop_init(&w->loop);
    hp__worker_context_init(&w->context, &w->loop, index);
    hp__locked_queue_init(&w->commands);
    uv_async_init(&w->loop, &w->wakeup, on_wakeup);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    hp__acceptor_init(&w->acceptor, &w->loop, index, &w->listeners);
    hp__http_context_init(&w->http, index);
    hp__log_writer_init(&w->log_writer, &w->loop);
    w->http.log_writer = &w->log_writer;
    if (hooks) hp__http_hooks_install(&w->http, hooks);
    return w;
}

/* A worker writes to sockets whose peers may be gone: SIGPIPE is blocked on its thread, so such
 * a write fails with EPIPE instead of killing a program that embeds the library and kept
 * SIGPIPE's default action (the daemon ignores it anyway). The signal, directed at the thread
 * that wrote, stays pending there: the thread never unblocks it, and a fork's child starts with
 * none pending. */
static void block_sigpipe(void)
{
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
}

static void worker_main(void *arg)
{
    hp__worker *w = arg;
    block_sigpipe();
    hp__worker_context_enter(&w->context);
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
        command_discard(c);
        free(c);
    }
    uv_loop_close(&w->loop);
    hp__acceptor_free(&w->acceptor);
    hp__http_context_close(&w->http);
    hp__log_writer_close(&w->log_writer);
    hp__locked_queue_close(&w->commands);
    free(w);
}
