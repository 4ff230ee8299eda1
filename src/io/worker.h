/* A worker: one thread, one libuv loop, its own listening sockets and connections.
 *
 * Share-nothing: a worker's loop, connections, counters and freelists are touched only by its
 * own thread. The control loop talks to it only through hp__worker_post() (a mutex-protected
 * queue plus uv_async_send), never on the request path.
 *
 * A worker holds the context a handler reaches from a request (io/worker_context.h: its loop,
 * clock, timers and the handlers' per-worker data), entered when its thread starts. It starts
 * the hooked handlers of each server published to it, and stops them when the server is done
 * there or the loop ends (io/worker_handlers.h).
 *
 * Drain: on HP__CMD_DRAIN the worker closes its listeners, asks every session and every
 * started handler to drain (idle ones close at once), starts the deadline timer, and when its
 * last connection is gone it stops its handlers (which close what they opened on the loop)
 * and closes its remaining handles, so its loop, and thread, end. */
#ifndef HP_IO_WORKER_H
#define HP_IO_WORKER_H

#include "common/locked_queue.h"
#include "http/context.h"
#include "http/session.h"
#include "http/vhosts.h"
#include "io/snapshot.h"
#include "io/worker_context.h"

#include <stdbool.h>
#include <uv.h>

typedef struct hp__worker hp__worker;
typedef struct hp__conn hp__conn;

/* An intrusive list link; a connection's first member, so the worker can walk them. */
typedef struct hp__link {
    struct hp__link *prev, *next;
} hp__link;

typedef struct hp__listener hp__listener;

typedef enum {
    HP__CMD_LISTEN,         /* accept on `fd` (bound and listening) through `listener`, routing
                             * by `snapshot` (its first virtual-hosts table) */
    HP__CMD_PUBLISH,        /* install `snapshot` in `slot` (io/snapshot.h) */
    HP__CMD_CLOSE_LISTENER, /* `listener` stops accepting (it keeps its last table until its
                             * connections are gone), closes its socket and replies
                             * HP__REPLY_LISTENER_CLOSED with `token` */
    HP__CMD_STOP_SERVER,    /* drain `server`'s requests here (deadline `timeout_ms`), then reply
                             * HP__REPLY_SERVER_STOPPED with `token` */
    HP__CMD_DRAIN,          /* stop accepting, drain, exit when empty or after `timeout_ms` */
    HP__CMD_CALL,           /* call(call_arg, true) on the worker; (.., false) if it never runs */
} hp__command_type;

/* A function carried to a worker: `on_worker` is true when it runs on the worker's thread,
 * false when the worker ended first (it then runs on the control thread, to free `arg`). */
typedef void (*hp__worker_call_fn)(void *arg, bool on_worker);

/* A command owns one reference to `snapshot` and, for LISTEN, the fd. */
typedef struct hp__command {
    hp__queue_item item; /* first: commands travel through an hp__locked_queue */
    hp__command_type type;
    int fd;
    hp__listener *listener;
    hp__snapshot *snapshot;
    hp__snapshot_slot *slot;
    const hp_server *server;
    uint64_t timeout_ms;
    void *token;
    hp__worker_call_fn call;
    void *call_arg;
} hp__command;

typedef enum {
    HP__REPLY_SERVER_STOPPED,  /* the server of a STOP_SERVER has no connection left here */
    HP__REPLY_LISTENER_CLOSED, /* the listener of a CLOSE_LISTENER closed its socket */
    HP__REPLY_CALL,            /* `token` is an hp__call to run on the control thread */
    HP__REPLY_EXITED,          /* the loop ended; the thread is about to exit (last reply) */
} hp__reply_type;

/* Called on the worker's thread to tell the control thread something (it must only queue). */
typedef void (*hp__worker_reply_cb)(hp__worker *w, hp__reply_type type, void *token, void *data);

hp__worker *hp__worker_create(unsigned index, hp__worker_reply_cb on_reply, void *data,
                              const struct hp_hooks *hooks);
int hp__worker_start(hp__worker *w);
/* Any thread: queues `cmd` (owned by the worker from now on) and wakes the worker. */
void hp__worker_post(hp__worker *w, hp__command *cmd);
/* On a worker's thread: sends `call` to the control thread as a reply (io/call.h). */
struct hp__call;
void hp__worker_send_call(struct hp__call *call);
/* The context its handlers reach (io/worker_context.h). */
hp_worker *hp__worker_context(hp__worker *w);
/* Control thread, after the worker exited: joins the thread and frees everything. */
void hp__worker_destroy(hp__worker *w);

/* An accepted socket: TCP, or a unix socket (a pipe, to libuv). */
typedef union hp__stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} hp__stream_handle;

/* One listening socket of one worker. The control thread allocates it (zeroed), sets `local`
 * and `reserved`, and uses its address only to name it in later commands; the worker
 * initialises, runs and frees it. It is freed once the control thread retired it
 * (CLOSE_LISTENER or DRAIN), its handle closed and its last connection is gone, so commands
 * naming it always find it alive. accept.c polls it; it is polled unless paused, starved or
 * closing. */
struct hp__listener {
    uv_poll_t poll;            /* readable: connections wait to be accepted */
    hp__snapshot_slot routing; /* where its virtual-hosts tables are published */
    int fd;        /* the listening socket, the worker's own (its dup of a unix socket) */
    bool local;    /* a unix socket */
    bool reserved; /* may use the worker's reserve descriptor (engine_reserve.h) */
    hp__worker *worker;
    hp__vhosts *vhosts; /* one reference; sessions read it through this slot */
    uint32_t conn_count;
    hp__conn_gauges gauges;    /* written by the worker, read by the control thread (stats.h) */
    bool paused;               /* at max_connections: not polled until a connection closes */
    bool starved;              /* accept failed for want of descriptors or memory: polled again
                                * by the worker's retry timer */
    bool closing;              /* not accepting: its handle is closing or closed */
    bool closed;               /* handle closed */
    bool retired;              /* the control thread is done with it */
    hp__listener *next, *prev; /* in the worker's open or retired list */
};

/* conn.c: a connection on the accepted socket `fd` (adopted, closed on failure). */
int hp__conn_open(hp__listener *listener, int fd);
/* Does `c` hold `server`: an exchange of it in flight, or a retired listener that routes to
 * it (the connection may still carry its first request there)? */
bool hp__conn_uses_server(const hp__conn *c, const hp_server *server);
hp__listener *hp__conn_listener(const hp__conn *c);
void hp__conn_drain(hp__conn *c);
/* `server` stops here: a connection that belongs to it alone (upgraded) drains (protocol.h). */
void hp__conn_server_stopping(hp__conn *c, const hp_server *server);
void hp__conn_abort(hp__conn *c);

/* worker.c services for conn.c and accept.c */
typedef struct hp__acceptor hp__acceptor;
hp__acceptor *hp__worker_acceptor(hp__worker *w);
uv_loop_t *hp__worker_loop(hp__worker *w);
hp__http_context *hp__worker_http(hp__worker *w);
void hp__worker_conn_opened(hp__worker *w, hp__conn *c);
void hp__worker_conn_closed(hp__worker *w, hp__conn *c, hp__listener *listener);

#endif
