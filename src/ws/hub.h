/* The hub: publish/subscribe among the connections of one WebSocket handler, on every worker.
 *
 * Per worker (hp__ws_hub_worker, made by the handler's worker_start): the table of the
 * patterns its connections subscribed to, each with its subscriptions. Only that worker's
 * thread touches it, so delivering takes no lock. A publish on a worker delivers at once to
 * that worker's subscribers and adds the message to one outgoing batch per other worker that
 * has subscribers (the registry says which; the others are skipped). At the end of the loop
 * iteration (a uv_idle handle started by the first publish: the loop does not block before
 * it runs) each batch goes to its worker in one queue push and one uv_async wake, so a
 * worker that publishes 100 messages in one iteration sends each other worker one batch of
 * 100. A publish from a thread that is no worker of the hub (the control thread, a program's
 * thread) pushes a batch of one to each worker with subscribers. Queues are FIFO, so every
 * publisher's messages reach each connection in the order it published them.
 *
 * Bounds: at most HP__WS_HUB_QUEUE_MAX messages, and HP__WS_HUB_QUEUE_BYTES of their payloads,
 * wait in one worker's inbox; a batch that does not fit is dropped for that worker (never
 * blocking the publisher) and its messages counted (hp__ws_hub_dropped).
 *
 * Messages: the payload (the frame, built once) is shared by reference by every worker and
 * connection it goes to (ops->payload_ref/unref, any thread); the hub copies the topic once.
 *
 * Exactly once: each delivery on a worker takes a new stamp; a member reached through a
 * second matching pattern already carries the stamp and is skipped. A publish made while the
 * worker is delivering (a connection closed by back-pressure publishes its `left`) waits
 * until that delivery ends, in order. A member closed during a delivery is freed after it.
 *
 * The registry (ws/registry.h) counts each publish's audience under its lock (once per
 * publish, never per delivery) and lists the connections for the control thread.
 *
 * Threads: hp__ws_hub_create/destroy where the handler is made and destroyed; a worker's
 * functions (hp__ws_hub_worker_*, hp__ws_member_*) on that worker's thread only;
 * hp__ws_hub_publish from any thread (passing the caller's hub worker, or NULL off the
 * workers); hp__ws_hub_close_connection and the registry from any thread. */
#ifndef HP_WS_HUB_H
#define HP_WS_HUB_H

#include "ws/registry.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define HP__WS_HUB_QUEUE_MAX 65536                        /* messages waiting in one inbox */
#define HP__WS_HUB_QUEUE_BYTES ((size_t)64 * 1024 * 1024) /* and their payloads' bytes */

typedef struct hp__ws_hub hp__ws_hub;
typedef struct hp__ws_hub_worker hp__ws_hub_worker;
typedef struct hp__ws_member hp__ws_member;

typedef struct hp__ws_hub_ops {
    /* On the member's worker: queue `payload` to the connection `conn` (taking a reference of
     * its own if it keeps it). It may close the connection (back-pressure), which closes its
     * member from inside the call. */
    void (*deliver)(void *conn, void *payload);
    /* Any thread. */
    void (*payload_ref)(void *payload);
    /* Any thread: the bytes `payload` holds (what an inbox counts against its byte bound). */
    size_t (*payload_size)(void *payload);
    void (*payload_unref)(void *payload);
    /* On the connection's worker: close it with `code` (hp__ws_hub_close_connection). */
    void (*close)(void *conn, uint16_t code);
} hp__ws_hub_ops;

/* `ops` is borrowed (static). */
hp__ws_hub *hp__ws_hub_create(const hp__ws_hub_ops *ops);
/* After every worker stopped; NULL is a no-op. */
void hp__ws_hub_destroy(hp__ws_hub *hub);

hp__ws_registry *hp__ws_hub_registry(hp__ws_hub *hub);
/* Messages dropped because a worker's inbox was full. */
uint64_t hp__ws_hub_dropped(const hp__ws_hub *hub);

/* ---- a worker ----------------------------------------------------------------------------- */

/* The hub on the worker `index` running `loop` (opens two handles there). */
hp__ws_hub_worker *hp__ws_hub_worker_start(hp__ws_hub *hub, uv_loop_t *loop, unsigned index);
/* Leaves the hub (messages still queued to it are dropped) and closes its handles; freed by
 * their close callbacks, which do not touch the hub. Every member must be closed. */
void hp__ws_hub_worker_stop(hp__ws_hub_worker *hw);
/* The hub worker of `hub` on the calling thread's loop, or NULL. (`index` and `loop` of the
 * calling thread's worker context.) */
hp__ws_hub_worker *hp__ws_hub_worker_find(hp__ws_hub *hub, uv_loop_t *loop, unsigned index);

/* ---- a connection ------------------------------------------------------------------------- */

struct hp__ws_member {
    hp__ws_entry entry; /* in the registry (shared fields under its lock) */
    /* the worker's own */
    hp__ws_hub_worker *hw;
    struct hp__ws_sub **subs; /* NULL until it subscribes */
    unsigned sub_count, sub_cap;
    uint64_t stamp; /* the last delivery that reached it */
    bool closed;    /* closed during a delivery: freed after it */
    hp__ws_member *next_doomed;
};

/* A member for a connection that opened on `hw`'s worker (in the registry from now on). */
hp__ws_member *hp__ws_member_open(hp__ws_hub_worker *hw, void *conn, uint64_t id,
                                  const char *client, uint64_t since_ms);
/* Leaves the registry and every subscription; frees it. NULL is a no-op. */
void hp__ws_member_close(hp__ws_member *m);
/* `pattern` must be valid: HP_EINVAL otherwise; HP_EEXISTS, HP_ELIMIT as the registry says. */
int hp__ws_member_subscribe(hp__ws_member *m, const char *pattern);
int hp__ws_member_unsubscribe(hp__ws_member *m, const char *pattern);
/* hp__ws_registry_join for the member. */
int hp__ws_member_join(hp__ws_member *m, const char *name);

/* ---- publishing --------------------------------------------------------------------------- */

/* Sends `payload` (borrowed; referenced by what keeps it) to every member subscribed to a
 * pattern matching `topic`. `from` is the calling thread's hub worker, or NULL off the hub's
 * workers. Returns how many members were subscribed to it (the registry's count), or
 * HP_EINVAL for an invalid topic. */
int hp__ws_hub_publish(hp__ws_hub *hub, hp__ws_hub_worker *from, const char *topic, void *payload);

/* Asks the connection `id`'s worker to close it with `code`. HP_ENOTFOUND when no
 * connection `id` is open. */
int hp__ws_hub_close_connection(hp__ws_hub *hub, uint64_t id, uint16_t code);

#endif
