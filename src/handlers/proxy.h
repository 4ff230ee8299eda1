/* The proxy handler from a running upstream (src/upstream/upstream.h), for the config's proxy
 * kind and for tests that watch the upstream's state. */
#ifndef HP_HANDLERS_PROXY_H
#define HP_HANDLERS_PROXY_H

#include "hostpool/handler.h"
#include "upstream/upstream.h"

/* A proxy to `upstream` (a route's own targets; a reference is taken), or, when it is NULL, to
 * the upstream named `upstream_name`, found in the pool's registry at request time. Strings
 * are copied. */
hp_handler *hp__proxy_handler_create_with(hp__upstream *upstream, const char *upstream_name,
                                          hp_proxy_host host, const char *host_name,
                                          uint64_t max_body_bytes);

/* What the proxy's on_request does, with its per-worker state given: `worker_data` is what its
 * vtable's worker_start returned on the request's worker. For a handler that holds a proxy
 * inside it (handlers/process_gate.c) and runs the proxy's worker hooks as its own, so the
 * proxy's state is recorded under the outer handler. */
void hp__proxy_handle(hp_handler *proxy, void *worker_data, hp_request *req);

#endif
