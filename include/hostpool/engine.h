/* The engine: the worker loops that run servers.
 *
 * Threads: the engine is driven from one control loop (the caller's uv_loop_t, normally the
 * main thread); every function here must be called on that loop's thread. It starts
 * `workers` worker threads, each with its own libuv loop and, per listen address, its own
 * SO_REUSEPORT listening socket, so the kernel spreads connections and no lock is taken on
 * the request path.
 *
 * Lifecycle: create → start servers → shutdown (drain) → destroy after the shutdown callback.
 * If a function that takes a callback fails, the callback is never called. */
#ifndef HOSTPOOL_ENGINE_H
#define HOSTPOOL_ENGINE_H

#include "hostpool/server.h"

#include <uv.h>

typedef struct hp_engine hp_engine;

typedef struct hp_engine_options {
    unsigned workers; /* 0: the number of CPUs; at most HP_MAX_WORKERS */
} hp_engine_options;

int hp_engine_create(uv_loop_t *control_loop, const hp_engine_options *options, hp_engine **out);
unsigned hp_engine_worker_count(const hp_engine *engine);

/* Binds every listen address of `server` (in the calling thread, so errors are immediate:
 * HP_EADDR for an unparsable address, a UV_E* code such as UV_EADDRINUSE otherwise; `errbuf`
 * then names the address) and starts accepting on every worker. The server is borrowed
 * until the engine's shutdown completes. */
int hp_engine_start_server(hp_engine *engine, hp_server *server, char *errbuf, size_t errbuf_len);

/* Stops one server without touching the others: closes its listening sockets on every
 * worker, lets its requests in flight finish (its idle connections close at once), aborts
 * what is left after `drain_timeout_ms`, then calls `cb` on the control loop. The server is
 * the caller's again after the callback (it may be started again or destroyed). */
typedef void (*hp_engine_server_cb)(hp_engine *engine, hp_server *server, void *data);
int hp_engine_stop_server(hp_engine *engine, hp_server *server, uint64_t drain_timeout_ms,
                          hp_engine_server_cb cb, void *data);

/* Replaces a running server by another with the same listen addresses without closing a
 * socket: every worker gives the old server's listening sockets to `replacement` (new
 * connections are its from then on), and the old server's connections drain as in
 * hp_engine_stop_server(); `cb` gets the old server when they are gone. HP_EINVAL when the
 * listen addresses differ. */
int hp_engine_replace_server(hp_engine *engine, hp_server *old, hp_server *replacement,
                             uint64_t drain_timeout_ms, hp_engine_server_cb cb, void *data);

/* Stops accepting, closes idle keep-alive connections at once, lets requests in flight
 * finish, closes what is still open after `drain_timeout_ms`, stops the workers, then calls
 * `cb` on the control loop. Calling it again while draining is a no-op. */
typedef void (*hp_engine_stopped_cb)(hp_engine *engine, void *data);
void hp_engine_shutdown(hp_engine *engine, uint64_t drain_timeout_ms, hp_engine_stopped_cb cb,
                        void *data);

/* Frees the engine; only after the shutdown callback ran. */
void hp_engine_destroy(hp_engine *engine);

#endif
