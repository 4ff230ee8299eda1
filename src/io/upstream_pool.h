/* A worker's pool of connections to upstreams (the reverse proxy's backends).
 *
 * One pool per proxy handler per worker (made by the handler's worker_start, on the worker's
 * loop): a fixed list of targets, each `host:port` or `unix:PATH` (the one address syntax of
 * socket.h), and for each target a stack of idle keep-alive connections.
 *
 * - hp__upstream_pool_take_idle() pops the most recently used idle connection of a target
 *   (LIFO: the warmest socket, and the others age out), or NULL.
 * - hp__upstream_pool_connect() opens a new one; `cb` says when it is connected (status 0) or
 *   why not (a UV_E* code, UV_ETIMEDOUT after the connect timeout). On failure the
 *   connection is already closed: drop it.
 * - A connection in use is its user's: it reads and writes the stream
 *   (hp__upstream_conn_stream; its `data` is the user's), then gives it back with
 *   hp__upstream_pool_release(): reusable (its response was read to the end, nothing more
 *   is owed) and the target has fewer than `keepalive` idle ones, it waits idle, else it is
 *   closed. An idle connection is read from: anything it receives (the upstream closed it,
 *   or sent bytes no request asked for) closes it, as does `idle_timeout_ms` without use.
 * - hp__upstream_pool_drain() closes the idle connections (the worker drains);
 *   hp__upstream_pool_destroy() closes every connection and frees the pool once the last
 *   close callback ran (worker_stop: nothing is in use then).
 *
 * Threading: everything on the worker's thread; no lock. Memory: a connection is allocated
 * when opened (not per request) and freed after its handle's close callback. */
#ifndef HP_IO_UPSTREAM_POOL_H
#define HP_IO_UPSTREAM_POOL_H

#include "hostpool/worker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct hp__upstream_pool hp__upstream_pool;

/* A target's connections, counted by every worker's pool (relaxed atomics). */
typedef struct hp__upstream_pool_figures {
    _Atomic uint32_t open;     /* connections open: connecting, idle or in use */
    _Atomic uint32_t idle;
    _Atomic uint32_t in_use;
    _Atomic uint32_t waiting;  /* requests queued for a connection */
    _Atomic uint64_t connects; /* connections opened, ever */
    _Atomic uint64_t reuses;   /* idle connections taken, ever */
} hp__upstream_pool_figures;
typedef struct hp__upstream_conn hp__upstream_conn;

typedef struct hp__upstream_pool_options {
    unsigned keepalive;          /* idle connections kept per target */
    uint64_t connect_timeout_ms; /* > 0 */
    uint64_t idle_timeout_ms;    /* an idle connection is closed after this; > 0 */
} hp__upstream_pool_options;

typedef void (*hp__upstream_connected_cb)(hp__upstream_conn *conn, int status, void *data);

/* `targets` (parsed by hp__socket_parse_address) are copied. */
hp__upstream_pool *hp__upstream_pool_create(hp_worker *worker,
                                            const struct sockaddr_storage *targets, size_t count,
                                            const hp__upstream_pool_options *options);
void hp__upstream_pool_drain(hp__upstream_pool *pool);
void hp__upstream_pool_destroy(hp__upstream_pool *pool);

hp__upstream_conn *hp__upstream_pool_take_idle(hp__upstream_pool *pool, size_t target);
/* `data` is given to `cb` and kept as the connection's user data. */
hp__upstream_conn *hp__upstream_pool_connect(hp__upstream_pool *pool, size_t target,
                                             hp__upstream_connected_cb cb, void *data);
/* Gives the connection back (reusable or not); its reads are stopped and its user forgotten:
 * no callback of the user's runs after this (a write queued before is cancelled, and its
 * callback runs with UV_ECANCELED: the user must wait for it before freeing the request). */
void hp__upstream_pool_release(hp__upstream_conn *conn, bool reusable);

/* The connection's stream, for uv_read_start and uv_write; its `data` is the user's. */
uv_stream_t *hp__upstream_conn_stream(hp__upstream_conn *conn);
/* Was it taken from the idle stack (it served a request before)? */
bool hp__upstream_conn_reused(const hp__upstream_conn *conn);

#endif
