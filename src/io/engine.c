/* The engine: worker threads and the listening sockets they share (include/hostpool/engine.h).
 *
 * Starting a server binds every listen address here, on the control thread, one socket per
 * worker (SO_REUSEPORT), then hands each worker its socket through the command queue.
 * Stopping one server asks every worker to close that server's sockets and drain its
 * connections. Workers tell the control loop what they finished (a server stopped here, the
 * loop ended) through one reply queue plus `replies_ready`; a server's stop callback runs when
 * every worker replied, the shutdown callback when every worker exited. */
#include "hostpool/engine.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "io/socket.h"
#include "io/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One reply from a worker, queued for the control loop. */
typedef struct engine_reply {
    hp__queue_item item; /* first: replies travel through an hp__locked_queue */
    hp__reply_type type;
    void *token;
} engine_reply;

/* A hp_engine_stop_server() in progress: done when every worker replied. */
typedef struct server_stop {
    hp_engine *engine;
    hp_server *server;
    unsigned workers_left;
    hp_engine_server_cb cb;
    void *data;
} server_stop;

struct hp_engine {
    uv_loop_t *loop;
    unsigned worker_count;
    hp__worker *workers[HP_MAX_WORKERS];
    uv_async_t replies_ready;
    hp__locked_queue replies;
    unsigned exited;
    bool shutting_down;
    bool stopped;
    hp_engine_stopped_cb stopped_cb;
    void *stopped_data;
};

/* Worker threads: queue the reply and wake the control loop. */
static void on_worker_reply(hp__worker *w, hp__reply_type type, void *token, void *data)
{
    hp_engine *e = data;
    engine_reply *r = HP_NEW(engine_reply);
    r->type = type;
    r->token = token;
    hp__locked_queue_push(&e->replies, &r->item);
    uv_async_send(&e->replies_ready);
}

static void on_async_closed(uv_handle_t *h)
{
    hp_engine *e = h->data;
    if (e->stopped_cb) e->stopped_cb(e, e->stopped_data);
}

static void all_workers_exited(hp_engine *e)
{
    e->stopped = true;
    for (unsigned i = 0; i < e->worker_count; i++) {
        hp__worker_destroy(e->workers[i]);
        e->workers[i] = NULL;
    }
    uv_close((uv_handle_t *)&e->replies_ready, on_async_closed);
}

static void server_stop_reply(server_stop *st)
{
    if (--st->workers_left > 0) return;
    memset(st->server->bound_ports, 0, st->server->listen_count * sizeof *st->server->bound_ports);
    if (st->cb) st->cb(st->engine, st->server, st->data);
    free(st);
}

static void on_replies(uv_async_t *a)
{
    hp_engine *e = a->data;
    engine_reply *r = (engine_reply *)hp__locked_queue_take_all(&e->replies);
    while (r) {
        engine_reply *next = (engine_reply *)r->item.next;
        if (r->type == HP__REPLY_SERVER_STOPPED) {
            server_stop_reply(r->token);
        } else if (r->type == HP__REPLY_EXITED) {
            e->exited++;
        }
        free(r);
        r = next;
    }
    if (e->exited == e->worker_count && !e->stopped) all_workers_exited(e);
}

int hp_engine_create(uv_loop_t *loop, const hp_engine_options *options, hp_engine **out)
{
    unsigned n =
        options && options->workers ? options->workers : (unsigned)uv_available_parallelism();
    if (n == 0 || n > HP_MAX_WORKERS) return HP_EINVAL;
    hp_engine *e = HP_NEW(hp_engine);
    e->loop = loop;
    e->worker_count = n;
    hp__locked_queue_init(&e->replies);
    uv_async_init(loop, &e->replies_ready, on_replies);
    e->replies_ready.data = e;
    for (unsigned i = 0; i < n; i++) {
        e->workers[i] = hp__worker_create(i, on_worker_reply, e);
        int err = hp__worker_start(e->workers[i]);
        if (err) {
            /* Fatal for the process: threads are a basic resource. */
            fprintf(stderr, "hostpool: cannot start worker thread: %s\n", uv_strerror(err));
            abort();
        }
    }
    *out = e;
    return 0;
}

unsigned hp_engine_worker_count(const hp_engine *e)
{
    return e->worker_count;
}

static int bind_address(hp_engine *e, const char *text, int *fds, int *port, char *errbuf,
                        size_t errlen)
{
    struct sockaddr_storage addr;
    int err = hp__socket_parse_address(text, &addr);
    if (err) {
        if (errbuf) snprintf(errbuf, errlen, "listen %s: not an address (host:port)", text);
        return err;
    }
    err = hp__socket_listen_many(&addr, e->worker_count, fds, port);
    if (err && errbuf) snprintf(errbuf, errlen, "listen %s: %s", text, uv_strerror(err));
    return err;
}

int hp_engine_start_server(hp_engine *e, hp_server *server, char *errbuf, size_t errlen)
{
    if (e->shutting_down) return HP_ESTATE;
    size_t n = server->listen_count;
    int *fds = hp__calloc(n * e->worker_count, sizeof *fds);
    int err = 0;
    size_t bound = 0;
    for (; bound < n && !err; bound++)
        err = bind_address(e, server->listen[bound], fds + bound * e->worker_count,
                           &server->bound_ports[bound], errbuf, errlen);
    if (err) {
        for (size_t i = 0; i + 1 < bound; i++)
            for (unsigned w = 0; w < e->worker_count; w++) close(fds[i * e->worker_count + w]);
        memset(server->bound_ports, 0, n * sizeof *server->bound_ports);
        free(fds);
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        for (unsigned w = 0; w < e->worker_count; w++) {
            hp__command *cmd = HP_NEW(hp__command);
            cmd->type = HP__CMD_LISTEN;
            cmd->fd = fds[i * e->worker_count + w];
            cmd->server = server;
            hp__worker_post(e->workers[w], cmd);
        }
    }
    free(fds);
    return 0;
}

/* The same command to every worker. */
static void post_to_workers(hp_engine *e, hp__command_type type, const hp_server *server,
                            const hp_server *new_server, uint64_t timeout_ms, void *token)
{
    for (unsigned i = 0; i < e->worker_count; i++) {
        hp__command *cmd = HP_NEW(hp__command);
        cmd->type = type;
        cmd->server = server;
        cmd->new_server = new_server;
        cmd->timeout_ms = timeout_ms;
        cmd->token = token;
        hp__worker_post(e->workers[i], cmd);
    }
}

/* STOP_SERVER or RETARGET on every worker; `cb` once all of them drained `server`. */
static void drain_on_workers(hp_engine *e, hp__command_type type, hp_server *server,
                             hp_server *replacement, uint64_t drain_timeout_ms,
                             hp_engine_server_cb cb, void *data)
{
    server_stop *st = HP_NEW(server_stop);
    st->engine = e;
    st->server = server;
    st->workers_left = e->worker_count;
    st->cb = cb;
    st->data = data;
    post_to_workers(e, type, server, replacement, drain_timeout_ms, st);
}

int hp_engine_stop_server(hp_engine *e, hp_server *server, uint64_t drain_timeout_ms,
                          hp_engine_server_cb cb, void *data)
{
    if (e->shutting_down) return HP_ESTATE;
    drain_on_workers(e, HP__CMD_STOP_SERVER, server, NULL, drain_timeout_ms, cb, data);
    return 0;
}

int hp_engine_replace_server(hp_engine *e, hp_server *old, hp_server *replacement,
                             uint64_t drain_timeout_ms, hp_engine_server_cb cb, void *data)
{
    if (e->shutting_down) return HP_ESTATE;
    if (old->listen_count != replacement->listen_count) return HP_EINVAL;
    for (size_t i = 0; i < old->listen_count; i++)
        if (strcmp(old->listen[i], replacement->listen[i]) != 0) return HP_EINVAL;
    memcpy(replacement->bound_ports, old->bound_ports,
           old->listen_count * sizeof *old->bound_ports);
    drain_on_workers(e, HP__CMD_RETARGET, old, replacement, drain_timeout_ms, cb, data);
    return 0;
}

void hp_engine_shutdown(hp_engine *e, uint64_t drain_timeout_ms, hp_engine_stopped_cb cb,
                        void *data)
{
    if (e->shutting_down) return;
    e->shutting_down = true;
    e->stopped_cb = cb;
    e->stopped_data = data;
    post_to_workers(e, HP__CMD_DRAIN, NULL, NULL, drain_timeout_ms, NULL);
}

void hp_engine_destroy(hp_engine *e)
{
    if (!e) return;
    hp__locked_queue_close(&e->replies);
    free(e);
}
