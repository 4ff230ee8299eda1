/* The engine: worker threads and the listening sockets they share (include/hostpool/engine.h).
 *
 * Starting a server binds every listen address here, on the control thread, one socket per
 * worker (SO_REUSEPORT), then hands each worker its socket through the command queue. A
 * worker that ends tells the control loop through `worker_exited` (the one cross-thread
 * signal back); when the last one has, the shutdown callback runs on the control loop. */
#include "hostpool/engine.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "io/socket.h"
#include "io/worker.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hp_engine {
    uv_loop_t *loop;
    unsigned worker_count;
    hp__worker *workers[HP_MAX_WORKERS];
    uv_async_t worker_exited;
    atomic_uint exited;
    bool shutting_down;
    bool stopped;
    hp_engine_stopped_cb stopped_cb;
    void *stopped_data;
};

static void on_worker_exit(hp__worker *w, void *data)
{
    hp_engine *e = data;
    atomic_fetch_add(&e->exited, 1);
    uv_async_send(&e->worker_exited);
}

static void on_async_closed(uv_handle_t *h)
{
    hp_engine *e = h->data;
    if (e->stopped_cb) e->stopped_cb(e, e->stopped_data);
}

static void on_worker_exited(uv_async_t *a)
{
    hp_engine *e = a->data;
    if (atomic_load(&e->exited) < e->worker_count || e->stopped) return;
    e->stopped = true;
    for (unsigned i = 0; i < e->worker_count; i++) {
        hp__worker_destroy(e->workers[i]);
        e->workers[i] = NULL;
    }
    uv_close((uv_handle_t *)&e->worker_exited, on_async_closed);
}

int hp_engine_create(uv_loop_t *loop, const hp_engine_options *options, hp_engine **out)
{
    unsigned n =
        options && options->workers ? options->workers : (unsigned)uv_available_parallelism();
    if (n == 0 || n > HP_MAX_WORKERS) return HP_EINVAL;
    hp_engine *e = HP_NEW(hp_engine);
    e->loop = loop;
    e->worker_count = n;
    uv_async_init(loop, &e->worker_exited, on_worker_exited);
    e->worker_exited.data = e;
    for (unsigned i = 0; i < n; i++) {
        e->workers[i] = hp__worker_create(i, on_worker_exit, e);
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

void hp_engine_shutdown(hp_engine *e, uint64_t drain_timeout_ms, hp_engine_stopped_cb cb,
                        void *data)
{
    if (e->shutting_down) return;
    e->shutting_down = true;
    e->stopped_cb = cb;
    e->stopped_data = data;
    for (unsigned i = 0; i < e->worker_count; i++) {
        hp__command *cmd = HP_NEW(hp__command);
        cmd->type = HP__CMD_DRAIN;
        cmd->timeout_ms = drain_timeout_ms;
        hp__worker_post(e->workers[i], cmd);
    }
}

void hp_engine_destroy(hp_engine *e)
{
    if (!e) return;
    free(e);
}
