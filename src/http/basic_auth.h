/* A route's `basic_auth` (hostpool/server.h hp_basic_auth; RFC 7617): the gate in front of the
 * route's handler.
 *
 * The exchange calls the gate instead of the route's handler (hp__route.gate). The gate is
 * called at the request's head (it streams, so an unauthenticated client's body is never
 * read), checks `Authorization: Basic ...`, and then calls the route's handler as the exchange
 * would have (at once if it streams, else once the whole body is read), or answers 401 with
 * `WWW-Authenticate: Basic realm="...", charset="UTF-8"`.
 *
 * Verification is slow on purpose (yescrypt: milliseconds) and must not stall a worker loop,
 * so it runs on the libuv threadpool (uv_queue_work); the request waits, and the worker
 * serves others meanwhile. A credential verified once is kept in a per-worker cache (32
 * entries, the whole header value, compared in constant time), so a client that sends it
 * again is let through at once, with no allocation and no threadpool round trip: the steady
 * state of a browser session. A miss allocates its job (its 32 KiB crypt scratch space): it
 * costs a password hash anyway. At most 64 verifications of a route wait at once across the
 * workers; beyond, 503 with Retry-After: 1 (a flood of wrong passwords cannot queue the
 * threadpool without bound). An unknown user is verified against the users file's dummy
 * hash (core/users_file.h), made with the first user's method and cost.
 *
 * Lifetime: made with its server (hp_server_create reads the users file) and destroyed with
 * it. A verification whose client left (the exchange ended while it was on the threadpool)
 * touches neither the gate nor the request when it returns: it holds its own reference to the
 * users and their pending count.
 *
 * Threading: create and destroy on the control thread; the gate on any worker, each worker
 * making and touching only its own cache; the hash on a threadpool thread. */
#ifndef HP_HTTP_BASIC_AUTH_H
#define HP_HTTP_BASIC_AUTH_H

#include "hostpool/server.h"

#include <stddef.h>

typedef struct hp__basic_auth hp__basic_auth;

/* The longest realm: printable ASCII without '"' or '\'. */
#define HP__BASIC_AUTH_REALM_MAX 200

/* Why `realm` cannot be a realm, or NULL when it can. Static. */
const char *hp__basic_auth_realm_problem(const char *realm);

/* The gate of `config` before `inner` (borrowed: the route owns it), or NULL with why in
 * errbuf (the users file cannot be read or a line of it is bad: "FILE:LINE: ..."). */
hp__basic_auth *hp__basic_auth_create(const hp_basic_auth *config, hp_handler *inner, char *errbuf,
                                      size_t len);
/* NULL: no-op. */
void hp__basic_auth_destroy(hp__basic_auth *auth);
/* The handler the exchange calls in place of the route's. */
hp_handler *hp__basic_auth_gate(hp__basic_auth *auth);
/* The settings as given (for a copy of the server). */
const hp_basic_auth *hp__basic_auth_config(const hp__basic_auth *auth);

#endif
