/* A pool's request hooks (include/hostpool/hooks.h) on a worker's HTTP context: the start
 * hook called by the session once a request is routed, the end hook an end observer
 * (context.h) that hears only of requests that were routed, so every start has one end. */
#ifndef HP_HTTP_HOOKS_H
#define HP_HTTP_HOOKS_H

#include "hostpool/hooks.h"
#include "http/context.h"

struct hp__exchange;

/* Before the worker runs: `hooks` (borrowed: the engine's copy) apply to `ctx`. */
void hp__http_hooks_install(hp__http_context *ctx, const hp_hooks *hooks);

/* The request of `x` was routed to a server: its id is assigned, then the start hook runs. */
void hp__http_hooks_start(hp__http_context *ctx, struct hp__exchange *x);

#endif
