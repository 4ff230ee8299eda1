/* A worker's pool of connections to upstreams (the reverse proxy's backends).
 *
 * One pool per proxy handler per worker (made by the handler's worker_start, on the worker's
 * loop): a fixed list of targets, each `host:port` or `unix:PATH` (the one address syntax of
 * socket.h), and for each target a stack of idle keep-alive connections and a FIFO queue of
 * requests waiting for a connection.
 *
 * Getting a connection for one request: hp__upstream_pool_acquire().
 * - An idle connection of the target is taken at once, the most recently used first (LIFO:
 *   the warmest socket, and the others age out).
 * - Else, while the target has fewer than `max_connections` open in this pool (connecting,
 *   idle or in use; 0: no limit), a new one is opened; its callback says when it is
 *   connected (status 0) or why not (a UV_E* code, UV_ETIMEDOUT after the connect timeout).
 * - Else the request waits in the target's queue, first come first served: a connection
 *   released reusable goes straight to the oldest waiter (it never waits idle while someone
 *   waits, so LIFO does not apply), and a connection that closes frees a slot in which a new
 *   one is opened for the oldest waiter. A waiter not served within `acquire_timeout_ms` is
 *   answered HP__UPSTREAM_EACQUIRE.
 * A connection serves at most `max_requests` requests (0: no limit; each acquire that gets
 * it counts one); at the release after the last, it is closed instead of kept.
 *
 * - A connection in use is its user's: it writes the stream (hp__upstream_conn_stream; its
 *   `data` is the user's) and reads it through hp__upstream_conn_read (the pool's one reader
 *   hands the bytes on: a connection keeps reading from its first user to its close, so
 *   passing it between requests costs libuv no epoll_ctl), then gives it back with
 *   hp__upstream_pool_release(): reusable (its response was read to the end, nothing more
 *   is owed), it goes to the oldest waiter, or waits idle if the target has fewer than
 *   `keepalive` idle ones, else it is closed. An idle connection is read from: anything it
 *   receives (the upstream closed it, or sent bytes no request asked for) closes it, as does
 *   `idle_timeout_ms` without use.
 * - hp__upstream_pool_drain() closes the idle connections (the worker or a server using the
 *   handler drains); connections in use and queued requests go on: those requests are in
 *   flight, the drain waits for them, and each wait ends within `acquire_timeout_ms`.
 *   hp__upstream_pool_destroy() answers every acquire still pending with UV_ECANCELED,
 *   closes every connection and frees the pool once the last close callback ran
 *   (worker_stop: nothing is in use then).
 *
 * Callbacks never run inside the call that caused them (acquire, release, cancel), but on a
 * later turn of the loop; only destroy answers the pending acquires from within itself.
 *
 * Figures: per target, the pool adds its connections and waiters to the caller's
 * hp__upstream_pool_figures (shared by every worker's pool of one upstream, relaxed atomics):
 * each counter of a state follows the connections entering and leaving it, so open, idle,
 * in_use and waiting return to 0 once every pool has been destroyed.
 *
 * Threading: everything on the worker's thread; no lock (the figures are atomics). Memory: a
 * connection is allocated when opened (not per request) and freed after its handle's close
 * callback; a waiter is the caller's memory (hp__upstream_wait), so queuing allocates nothing. */
#ifndef HP_IO_UPSTREAM_POOL_H
#define HP_IO_UPSTREAM_POOL_H

#include "hostpool/worker.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct hp__upstream_pool hp__upstream_pool;

typedef struct hp__upstream_conn hp__upstream_conn;

/* One target's figures, shared by the pools of every worker (the caller owns them). */
typedef struct hp__upstream_pool_figures {
    _Atomic uint32_t open; /* connections open: connecting, idle or in use */
    _Atomic uint32_t idle;
    _Atomic uint32_t in_use;
    _Atomic uint32_t waiting;  /* requests queued for a connection */
    _Atomic uint64_t connects; /* connections opened, ever (those that failed to connect too) */
    _Atomic uint64_t reuses;   /* connections given to a request after serving one before
                                * (taken idle or handed over from a release), ever */
} hp__upstream_pool_figures;

typedef struct hp__upstream_pool_options {
    unsigned keepalive;          /* idle connections kept per target */
    uint64_t connect_timeout_ms; /* > 0 */
    uint64_t idle_timeout_ms;    /* an idle connection is closed after this; > 0 */
    /* [count], one per target, borrowed: valid until hp__upstream_pool_destroy returns; or
     * NULL: none kept. */
    hp__upstream_pool_figures *figures;
    unsigned max_connections;    /* per target in this pool; 0: no limit */
    unsigned max_requests;       /* requests per connection, then it is closed; 0: no limit */
    uint64_t acquire_timeout_ms; /* a queued request waits at most this; > 0 */
} hp__upstream_pool_options;

/* `conn` is NULL when status is HP__UPSTREAM_EACQUIRE or UV_ECANCELED from a wait; on any
 * other failure it is the connection that failed, already closed: drop it. */
typedef void (*hp__upstream_connected_cb)(hp__upstream_conn *conn, int status, void *data);

/* A queued request gave up waiting after acquire_timeout_ms. */
#define HP__UPSTREAM_EACQUIRE (-200000) /* not a UV error code */

/* `targets` (parsed by hp__socket_parse_address) and `options` are copied. */
hp__upstream_pool *hp__upstream_pool_create(hp_worker *worker,
                                            const struct sockaddr_storage *targets, size_t count,
                                            const hp__upstream_pool_options *options);
void hp__upstream_pool_drain(hp__upstream_pool *pool);
/* NULL is a no-op. The callbacks it runs (UV_ECANCELED) must not call the pool, except
 * hp__upstream_pool_release. */
void hp__upstream_pool_destroy(hp__upstream_pool *pool);

/* ---- acquiring a connection for one request ------------------------------------------------ */

/* A request's place in the pool while it has no connection: the caller's memory (in its
 * per-request state, reused from request to request), zeroed before its first use, valid
 * until its callback ran or it was cancelled. The fields are the pool's. */
typedef struct hp__upstream_wait hp__upstream_wait;
struct hp__upstream_wait {
    /* private */
    hp__upstream_wait *prev, *next; /* the target's queue, oldest first */
    hp__upstream_connected_cb cb;
    void *data;
    hp__upstream_pool *pool;
    size_t target;
    hp__upstream_conn *conn; /* opened for it, or handed over to it */
    hp_timer timer;          /* the acquire timeout; then the handover, on the next turn */
    int phase;               /* none, queued, connecting, handed over (upstream_pool.c) */
};

typedef enum {
    HP__UPSTREAM_GOT_IDLE,   /* *out is an idle connection, now in use; cb is never called */
    HP__UPSTREAM_CONNECTING, /* *out is a new connection being opened: cb(conn, 0 or a UV
                                error, data) when connected or failed */
    HP__UPSTREAM_QUEUED,     /* *out is NULL: cb(conn, 0, data) with a connection as soon as
                                one is released reusable to it, or cb(conn, 0 or UV error, data)
                                for a new one opened in a freed slot, or cb(NULL,
                                HP__UPSTREAM_EACQUIRE, data) after acquire_timeout_ms */
} hp__upstream_acquire_result;

/* Gets a connection to `target` for one request (see the top of this file): an idle one at
 * once, a new one under max_connections, else a place in the target's queue. `data` is given
 * to `cb` and is the connection's user data (the stream's `data`) once it is the caller's.
 * Until cb runs, hp__upstream_pool_cancel(wait) gives up in every case (for CONNECTING,
 * hp__upstream_pool_release(*out, false) does too). */
hp__upstream_acquire_result hp__upstream_pool_acquire(hp__upstream_pool *pool, size_t target,
                                                      hp__upstream_wait *wait,
                                                      hp__upstream_connected_cb cb, void *data,
                                                      hp__upstream_conn **out);

/* The request gives up (its client left): no callback runs after this. A connection being
 * opened for it is closed (its slot goes to the next waiter); one handed over to it but not yet
 * given goes to the next waiter or idle. No-op when the wait is pending nothing (never used,
 * or its callback ran). */
void hp__upstream_pool_cancel(hp__upstream_wait *wait);

/* Would an acquire for `target` wait in the queue now (no idle connection, max_connections
 * open)? The proxy checks its max_pending before queuing. */
bool hp__upstream_pool_would_queue(const hp__upstream_pool *pool, size_t target);

/* ---- a fresh connection, for the proxy's retry of a stale pooled one ------------------------ */

/* Opens a new connection whatever max_connections says (it counts toward the limit); `data` is
 * given to `cb` and kept as the connection's user data. hp__upstream_pool_release(conn, false)
 * before cb gives it up; destroy closes it without calling cb. */
hp__upstream_conn *hp__upstream_pool_connect(hp__upstream_pool *pool, size_t target,
                                             hp__upstream_connected_cb cb, void *data);

/* ---- a connection in use ------------------------------------------------------------------- */

/* Gives the connection back (reusable or not); its reads are stopped and its user forgotten:
 * no callback of the user's runs after this (a write queued before is cancelled, and its
 * callback runs with UV_ECANCELED: the user must wait for it before freeing the request). */
void hp__upstream_pool_release(hp__upstream_conn *conn, bool reusable);

/* The connection's stream, for uv_write; its `data` is the user's. Not for uv_read_start or
 * uv_read_stop: the pool reads it. */
uv_stream_t *hp__upstream_conn_stream(hp__upstream_conn *conn);
/* The user's reads: `alloc` and `read` are called as libuv's (the stream's `data` is the
 * user's) until the release; reading starts if it was stopped. After a read with nread < 0
 * reading is stopped (call again to read more). */
void hp__upstream_conn_read(hp__upstream_conn *conn, uv_alloc_cb alloc, uv_read_cb read);
/* Stops reading (back-pressure) until the next hp__upstream_conn_read. */
void hp__upstream_conn_read_stop(hp__upstream_conn *conn);
/* Did it serve a request before this one (taken idle or handed over)? */
bool hp__upstream_conn_reused(const hp__upstream_conn *conn);

#endif
