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
    unsigned workers;             /* 0: the number of CPUs; at most HP_MAX_WORKERS */
    const struct hp_hooks *hooks; /* hostpool/hooks.h: called for every request; copied; NULL:
                                   * none */
} hp_engine_options;

int hp_engine_create(uv_loop_t *control_loop, const hp_engine_options *options, hp_engine **out);
unsigned hp_engine_worker_count(const hp_engine *engine);

/* Starts accepting for `server` on every worker. Each listen address is bound here (in the
 * calling thread, so errors are immediate), unless a running server of this engine has the
 * same address: the two then share its sockets and requests are routed by Host (server.h,
 * `hosts`). Errors: HP_EADDR for an unparsable or repeated address; UV_EADDRINUSE when the
 * port is taken (by any other process, even one that binds with SO_REUSEPORT), or when the address
 * already has a default server or a server claiming one of the same host names; another UV_E* code
 * otherwise. `errbuf` then names the address and the reason. Nothing has changed on error. The
 * server is borrowed until it is stopped (its callback ran) or the engine's shutdown completed. */
int hp_engine_start_server(hp_engine *engine, hp_server *server, char *errbuf, size_t errbuf_len);

/* The port `server` is bound to at its listen address `i` (the one chosen for port 0), from
 * its start until its stop completed (its callback sees 0); 0 when it is not started on this
 * engine or `i` is out of range. The server itself holds no engine state. */
int hp_engine_bound_port(const hp_engine *engine, const hp_server *server, size_t i);

/* Stops one server without touching the others: takes it off its addresses (closing the
 * sockets no other server shares), lets its requests in flight finish (its idle connections
 * close at once), aborts what is left after `drain_timeout_ms`, then calls `cb` on the
 * control loop. The server is the caller's again after the callback (it may be started again
 * or destroyed). */
typedef void (*hp_engine_server_cb)(hp_engine *engine, hp_server *server, void *data);
int hp_engine_stop_server(hp_engine *engine, hp_server *server, uint64_t drain_timeout_ms,
                          hp_engine_server_cb cb, void *data);

/* Replaces a running server by another, which takes the old one's place on every address they
 * both have, without closing a socket: new requests there go to `replacement` at once. The
 * replacement's other addresses are started as by hp_engine_start_server(); the old one's
 * other addresses are left. The old server's requests in flight drain as in
 * hp_engine_stop_server(), then `cb` gets it. Errors are those of hp_engine_start_server();
 * on error nothing has changed and the old server runs on. */
int hp_engine_replace_server(hp_engine *engine, hp_server *old, hp_server *replacement,
                             uint64_t drain_timeout_ms, hp_engine_server_cb cb, void *data,
                             char *errbuf, size_t errbuf_len);

/* Stops accepting, closes idle keep-alive connections at once, lets requests in flight
 * finish, closes what is still open after `drain_timeout_ms`, stops the workers, then calls
 * `cb` on the control loop. Calling it again while draining is a no-op. */
typedef void (*hp_engine_stopped_cb)(hp_engine *engine, void *data);
void hp_engine_shutdown(hp_engine *engine, uint64_t drain_timeout_ms, hp_engine_stopped_cb cb,
                        void *data);

/* Frees the engine; only after the shutdown callback ran. */
void hp_engine_destroy(hp_engine *engine);

#endif
