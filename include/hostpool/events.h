/* Events: what the pool tells its subscribers (server.started, server.failed, ...).
 *
 * An event is published on the pool's control loop and delivered synchronously, on that
 * thread, to every subscriber whose pattern matches its topic, in subscription order.
 *
 * Topics are dot-separated segments ("server.started"). Patterns: `*` matches exactly one
 * segment; `**` matches one or more segments and may only be the last segment; `**` alone
 * matches every topic; any other segment matches itself. So `server.*` matches
 * `server.started` but neither `server.health.changed` nor `server`; `server.**` matches the
 * first two. Empty segments, `**` before the end and `*` inside a segment ("ser*") make a
 * pattern invalid; subscribing with one fails with HP_EINVAL.
 *
 * No libuv here: this header is shared by the pool's public API and the bus in src/core. */
#ifndef HOSTPOOL_EVENTS_H
#define HOSTPOOL_EVENTS_H

#include <stdint.h>

typedef struct hp_event {
    const char *topic;    /* "server.started" ...; never NULL in a delivered event */
    const char *server;   /* the server's name; NULL for pool events */
    int port;             /* the first bound port, for server.started; else 0 */
    const char *message;  /* the error, for server.failed; why, for upstream.* and breaker.*
                           * ("health", "passive", "failures", "error_ratio", "trial"); else
                           * NULL */
    const char *upstream; /* the upstream's name, for upstream.* and breaker.*; else NULL */
    const char *target;   /* the target's address as written, with `upstream`; else NULL */
    /* process.* (hostpool/process.h); 0 elsewhere */
    int pid;                 /* process.started, .ready, .exited */
    int exit_code;           /* process.exited after a normal exit */
    int signal;              /* process.exited when a signal ended it (then exit_code is 0) */
    uint32_t attempt;        /* process.restarting: the restart's number within the window */
    uint64_t delay_ms;       /* process.restarting: the backoff before it */
    uint64_t boot_ms;        /* process.ready: from the start to ready */
    const char *switchboard; /* server.* of a server a switchboard made on demand, and
                              * server.idle_stopped; else NULL */
    uint64_t count;          /* journal.dropped: entries dropped since the last one */
    uint64_t connection;     /* ws.joined, ws.left: the WebSocket connection's id; else 0 */
    const char *name;        /* ws.joined, ws.left: the name it joined with; else NULL */
    uint64_t time_ms;        /* given by the publisher (the control loop's clock) */
    uint64_t seq;            /* assigned by the bus: 1, 2, 3 ... in publication order */
} hp_event;

/* Called for each matching event, in publication order; `event` and its strings are borrowed
 * for the duration of the call (copy what you keep). Return 0 for success; any other value
 * counts as a failed delivery, and delivery to the other subscribers goes on.
 *
 * A NULL `event` means the stream ended (the bus, or the pool, is closing): it is the last
 * call this subscriber gets, and its return value is ignored.
 *
 * From inside the callback one may publish (the event is queued and delivered after the
 * current one), subscribe (the new subscriber gets only later events) and unsubscribe
 * (oneself or others: they get nothing more). */
typedef int (*hp_event_cb)(const hp_event *event, void *data);

#endif
