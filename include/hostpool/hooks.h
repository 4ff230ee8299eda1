/* Hooks: a program that embeds the library hears of every request a pool's servers answer.
 *
 * request_start is called once a request's head was read and routed to a server (its Host,
 * path and method known, its request id assigned), before its handler has it; request_end
 * once it ended, answered or not, with what it cost. Both run on the worker thread that
 * answers the request, so several run at once on different workers: a hook must be
 * thread-safe and must not block (it delays every request of its worker). Requests refused
 * before routing (a malformed head: 400, 421, ...) reach neither. Every started request ends
 * exactly once, with the same `req`.
 *
 * Zero cost when unset: a pool without hooks (hp_pool_options.hooks NULL) takes no branch on
 * them beyond one test of a pointer per request. Server state changes are events (events.h). */
#ifndef HOSTPOOL_HOOKS_H
#define HOSTPOOL_HOOKS_H

#include "hostpool/request.h"

#include <stdint.h>

typedef struct hp_request_end {
    const char *server;   /* the server that answered it: borrowed for the call */
    int status;           /* the response's status; 0 when none was sent */
    uint64_t duration_us; /* from its first byte to its end */
    uint64_t bytes_in;    /* request bytes read, head and body */
    uint64_t bytes_out;   /* response bytes written */
    /* NULL when answered in full; else why not: "aborted" (the response was cut: the handler
     * or a proxy gave up after its head), "connection lost" (no response could be sent). */
    const char *error;
} hp_request_end;

typedef struct hp_hooks {
    void (*request_start)(const hp_request *req, void *data); /* may be NULL */
    void (*request_end)(const hp_request *req, const hp_request_end *end, void *data); /* or NULL */
    void *data; /* both hooks' */
} hp_hooks;

#endif
