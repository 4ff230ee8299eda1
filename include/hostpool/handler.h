/* Handlers: what answers a request on a route.
 *
 * A handler is a small object with a vtable, `self` first (as in h2o). One handler object
 * serves all worker loops at once, so on_request must only read shared state; state that
 * changes per request is kept per worker, made and closed by the vtable's worker hooks and
 * found with hp_worker_data(hp_request_worker(req), self) (hostpool/worker.h), touched only
 * by that worker's thread.
 *
 * Ownership: a handler is created by its constructor (hp_respond_handler_create ...) and owned
 * by whoever holds it (a server's route). hp_handler_destroy() calls the vtable's destroy;
 * destroy(NULL) is a no-op. It is destroyed only after every worker stopped using it. */
#ifndef HOSTPOOL_HANDLER_H
#define HOSTPOOL_HANDLER_H

#include "hostpool/request.h"
#include "hostpool/worker.h"

typedef struct hp_handler hp_handler;
struct hp_pool;

typedef struct hp_handler_vtable {
    const char *name; /* "respond", "file", ... */
    void (*on_request)(hp_handler *self, hp_request *req);
    void (*destroy)(hp_handler *self);
    /* A new handler with the same settings and none of the state (NULL when it cannot be
     * made); NULL for a handler that cannot be cloned. */
    hp_handler *(*clone)(const hp_handler *self);
    /* Optional (NULL: nothing to do). Called on the pool's control thread when a server whose
     * route holds this handler joins a pool (hp_pool_add, hp_pool_replace, a merge), before the
     * server can get a request: for handlers that answer from the pool's state (metrics,
     * health). Called again if the handler is handed to another pool; `pool` is borrowed and
     * outlives the server. */
    void (*bind)(hp_handler *self, struct hp_pool *pool);
    /* Per-worker hooks, all optional (NULL: none; a handler with none costs the worker
     * nothing). Each runs on the worker's thread (hostpool/worker.h):
     * - worker_start: before the first request that can reach the handler on `worker` (when a
     *   server using it is published there); returns the handler's data on that worker
     *   (hp_worker_data), which may be NULL.
     * - worker_drain: the worker drains (shutdown), or a server using the handler drains
     *   there: close what is idle (pooled connections), keep serving what is in flight.
     * - worker_stop: no server of `worker` uses the handler any more, or the worker's loop is
     *   about to end: release `data` and close what the handler opened on that loop (its
     *   close callbacks may run later, but must not touch the handler, which may be
     *   destroyed as soon as worker_stop returned).
     * Every worker_start is paired with exactly one worker_stop on the same worker, before
     * the handler is destroyed. A handler shared by several servers (a pool's default
     * handler) is started once per worker, when the first of them is published there, and
     * stopped when the last leaves. */
    void *(*worker_start)(hp_handler *self, hp_worker *worker);
    void (*worker_drain)(hp_handler *self, hp_worker *worker, void *data);
    void (*worker_stop)(hp_handler *self, hp_worker *worker, void *data);
} hp_handler_vtable;

struct hp_handler {
    const hp_handler_vtable *vt;
    /* false (what a zeroed handler has): on_request is called once the whole body arrived
     * (req->body). true: it is called as soon as the request's head is complete, and the
     * handler pulls the body itself (hp_request_body_pull, request.h). Per handler, not per
     * kind, so one kind may stream or buffer as configured (a proxy); a clone sets it as its
     * original has it. */
    bool stream_request_body;
};

void hp_handler_destroy(hp_handler *handler);

/* An independent handler with the same settings (what a pool's clone and merge give the servers
 * they copy: two pools must not share a handler's per-worker state), or NULL when `handler`
 * cannot be cloned or its resources are gone (a file handler's folder is kept open, so it
 * clones even if the folder was renamed). */
hp_handler *hp_handler_clone(const hp_handler *handler);

/* A C callback as a handler, for programs that embed the library. `data` is borrowed. */
typedef void (*hp_request_cb)(hp_request *req, void *data);
hp_handler *hp_callback_handler_create(hp_request_cb cb, void *data);

/* respond: a fixed answer. Header names and values are "name", "value" pairs, `header_count`
 * of them; everything is copied and prebuilt once. */
hp_handler *hp_respond_handler_create(int status, const char *body, size_t body_len,
                                      const char *const *headers, size_t header_count);

/* file: serves the files under `root` (see src/handlers/file.c for the rules). Returns NULL
 * and sets *err (HP_ENOTFOUND, HP_EINVAL) when the root is not a directory we can open. */
typedef struct hp_file_options {
    const char *root; /* the folder served (required) */
    /* Serve NAME.br or NAME.gz, when one is beside NAME and the request's Accept-Encoding takes
     * it, instead of NAME (nginx's gzip_static; docs/HTTP.md "Precompressed files"). */
    bool precompressed;
    const char *index; /* index file of a folder, default "index.html" */
    bool browse;       /* a folder without an index is listed (HTML, or JSON for Accept:
                        * application/json); false (the default): 403 */
} hp_file_options;
hp_handler *hp_file_handler_create(const hp_file_options *options, int *err);

/* redirect: answers `status` (301, 302, 303, 307 or 308) with Location = `location` followed
 * by the request's path and query when `keep_path` is true. */
hp_handler *hp_redirect_handler_create(int status, const char *location, bool keep_path);

/* proxy: forwards every request to one of `to` (round robin, per worker) over per-worker
 * keep-alive connections, streaming both bodies with back-pressure (docs/PROXY.md). */
typedef enum hp_proxy_host {
    HP_PROXY_HOST_KEEP,     /* the client's Host (the default) */
    HP_PROXY_HOST_UPSTREAM, /* the target's address ("127.0.0.1:9001"; "localhost" for unix:) */
    HP_PROXY_HOST_NAME,     /* `host_name` */
} hp_proxy_host;

typedef struct hp_proxy_options {
    const char *const *to; /* targets: host:port or unix:PATH (required, 1 to 64) */
    size_t to_count;
    hp_proxy_host host;
    const char *host_name;          /* for HP_PROXY_HOST_NAME: a valid Host value */
    uint64_t max_body_bytes;        /* a cap of its own on request bodies; 0: none (the server's
                                     * limit applies either way) */
    unsigned keepalive;             /* idle connections kept per target, per worker (32) */
    uint64_t connect_timeout_ms;    /* (5 s) then 504 */
    uint64_t first_byte_timeout_ms; /* from the request sent to the response head (60 s): 504 */
    uint64_t idle_timeout_ms;       /* between reads of a response body (60 s), and how long an idle
                                     * connection is kept */
} hp_proxy_options;

#define HP_PROXY_MAX_TARGETS 64

/* Fills `o` with the defaults above and no target. */
void hp_proxy_options_init(hp_proxy_options *o);

/* Returns NULL and a reason in `err` when an option is invalid (a target that is not an
 * address, a Host name that is not one, a timeout of 0). Everything is copied. */
hp_handler *hp_proxy_handler_create(const hp_proxy_options *o, char *err, size_t err_len);

#endif
