/* The handlers started on one worker: the per-worker side of the handler hooks
 * (include/hostpool/handler.h: worker_start, worker_drain, worker_stop).
 *
 * When start runs: when a server is published to the worker (the first table of one of its
 * listeners that names it), not at a handler's first request. So the request path pays
 * nothing: no "started yet?" test per request, and a handler's data exists before any request
 * can reach it. A server without hooked handlers (hp_server.worker_hooks false: respond,
 * redirect, file servers without hooks...) is not even recorded.
 *
 * Sharing: a handler may serve several servers of one worker (a pool's default handler is
 * borrowed by every route-less server). Each handler has one record per worker counting the
 * servers here that use it (a server naming it twice counts twice): the first starts it, the
 * last to leave stops it. Records are found by the handler's address in a small
 * open-addressing table (Fibonacci hashing, linear probing, at most half full), so
 * hp_worker_data costs one multiply and, nearly always, one probe.
 *
 * A server leaves a worker when no connection there uses it any more (its STOP_SERVER is
 * done there), before the worker replies: the control thread may free the server and its
 * handlers once every worker replied, so every stop has run by then. At the end of the
 * worker's loop, the handlers still started are stopped.
 *
 * Threading: the worker's thread only. */
#ifndef HP_IO_WORKER_HANDLERS_H
#define HP_IO_WORKER_HANDLERS_H

#include "hostpool/handler.h"
#include "http/server.h"

#include <stddef.h>

/* One entry of a table keyed by address: a server (users only) or a handler. */
typedef struct hp__worker_record {
    const void *key; /* NULL: free */
    void *data;      /* a handler's worker_start result */
    unsigned users;  /* servers here using the handler; 1 for a server */
} hp__worker_record;

typedef struct hp__worker_table {
    hp__worker_record *slots;
    size_t count;
    unsigned bits; /* the table has 1 << bits slots; 0 before the first insert */
} hp__worker_table;

typedef struct hp__worker_handlers {
    hp__worker_table servers;  /* servers published here that have hooked handlers */
    hp__worker_table handlers; /* the started handlers */
} hp__worker_handlers;

/* The records live in the worker context (io/worker_context.h). Zeroed memory is an empty
 * set, too. */
void hp__worker_handlers_init(hp__worker_handlers *wh);

/* `server` is in a table just published on `worker`: the first time, its handlers that are
 * not started here yet are started. */
void hp__worker_handlers_add_server(hp_worker *worker, const hp_server *server);
/* `server` drains on `worker`: its handlers hear it. */
void hp__worker_handlers_drain_server(hp_worker *worker, const hp_server *server);
/* No connection of `worker` uses `server` any more: the handlers it was the last user of are
 * stopped. A server not recorded here is ignored. */
void hp__worker_handlers_remove_server(hp_worker *worker, const hp_server *server);

/* The worker drains: every started handler hears it. */
void hp__worker_handlers_drain_all(hp_worker *worker);
/* The worker's loop ends: every started handler is stopped and the tables freed. */
void hp__worker_handlers_close(hp_worker *worker);

/* What `handler`'s worker_start returned here, or NULL. */
void *hp__worker_handlers_data(const hp__worker_handlers *wh, const hp_handler *handler);

#endif
