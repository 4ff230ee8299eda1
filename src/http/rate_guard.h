/* A server's or a route's rate limit on the request path: the limit (hostpool/server.h
 * hp_rate_limit), its client table (core/rate_table.h, the default memory budget: 81,792
 * clients at 128 B each) and its constant RateLimit-Policy field.
 *
 * A guard is made with its server (hp_server_create) and destroyed with it, after no worker
 * uses it (the server's own lifetime rule); a replace or reload makes a new server and so a
 * new, empty table. The request path (hp__rate_guard_check) takes one shard lock of the
 * table and allocates nothing; a server without a limit has a NULL guard and pays one
 * pointer test (exchange.c).
 *
 * Threading: create and destroy on the control thread; check from any worker at once. */
#ifndef HP_HTTP_RATE_GUARD_H
#define HP_HTTP_RATE_GUARD_H

#include "core/rate_table.h"
#include "hostpool/server.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp__rate_guard hp__rate_guard;

/* Is `name` a header name (an RFC 9110 token)? */
bool hp__rate_guard_key_header_valid(const char *name);
/* HP_EINVAL when a field of `limit` is out of its range, its key_header is not a header name
 * or `policy` (the RateLimit-Policy name) cannot be written in the field (writes why into
 * errbuf); else 0. */
int hp__rate_guard_check_limit(const hp_rate_limit *limit, const char *policy, char *errbuf,
                               size_t len);
/* The guard of `limit` named `policy`, which passed the check together (never NULL). */
hp__rate_guard *hp__rate_guard_create(const hp_rate_limit *limit, const char *policy);
/* NULL: no-op. */
void hp__rate_guard_destroy(hp__rate_guard *guard);
/* The limit as created (key_header owned by the guard). */
const hp_rate_limit *hp__rate_guard_limit(const hp__rate_guard *guard);

/* Decides the request by its client key (the IP address's bytes, or the header's value) at
 * now_ms; false (and *decision says why) when it is refused. */
bool hp__rate_guard_admit(hp__rate_guard *guard, const hp_request *req, const void *ip,
                          size_t ip_len, uint64_t now_ms, hp__rate_decision *decision);

/* Answers a refused request: 429 (LIMITED, BLOCKED) or 503 (TABLE_FULL) with Retry-After,
 * RateLimit-Policy, RateLimit and {"error": "rate limited", "retry_after": N}. */
void hp__rate_guard_refuse(const hp__rate_guard *guard, hp_request *req,
                           const hp__rate_decision *decision);

#endif
