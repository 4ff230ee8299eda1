/* Virtual hosts: the servers one listening address serves, and which one a request reaches.
 *
 * Routing (as nginx's server_name): the server claiming the exact host name, then the one
 * whose "*.suffix" wildcard has the longest matching suffix, then the address's default
 * server (the one with no host names); NULL when nothing matches and there is no default
 * (the session answers 421 Misdirected Request). The Host is compared without its port and a
 * trailing dot, case-insensitively.
 *
 * `head` is the server whose limits apply before a request's Host is known (reading a request
 * head, an idle keep-alive connection, max_connections): the default server, else the first
 * server that started on the address. Its access_log setting covers requests rejected before
 * routing.
 *
 * Lifetime: a table is a snapshot (io/snapshot.h), built on the control thread whenever the
 * set of servers on an address changes, then published to every worker's listener for that
 * address, and immutable from then on. It starts with one reference per worker; a worker drops
 * its reference when it swaps in a newer table or frees the listener, and the last one frees
 * the table. The servers are borrowed. */
#ifndef HP_HTTP_VHOSTS_H
#define HP_HTTP_VHOSTS_H

#include "http/server.h"
#include "io/snapshot.h"

#include <stdbool.h>

typedef struct hp__vhost_name {
    const char *pattern; /* the server's lowercase pattern, borrowed */
    size_t len;
    const hp_server *server;
} hp__vhost_name;

typedef struct hp__vhosts {
    hp__snapshot snapshot; /* first: published as a snapshot */
    const hp_server *head;
    const hp_server *fallback; /* the default server, or NULL */
    const hp_server **servers; /* in start order */
    size_t server_count;
    hp__vhost_name *exact; /* sorted by pattern, for binary search */
    size_t exact_count;
    hp__vhost_name *wildcards; /* longest suffix first */
    size_t wildcard_count;
} hp__vhosts;

/* A table for `servers` (count >= 1, in start order) holding `refs` references. The caller has
 * checked them with hp__vhosts_conflict(). */
hp__vhosts *hp__vhosts_create(const hp_server *const *servers, size_t count, unsigned refs);
/* The head server of `servers` (count >= 1, in start order): the default, else the first. */
const hp_server *hp__vhosts_head_of(const hp_server *const *servers, size_t count);
/* Drops one reference (hp__snapshot_release); the last frees the table. NULL is a no-op. Any
 * thread. */
void hp__vhosts_release(hp__vhosts *vhosts);

/* The server for a request with this Host value (as sent: may have a port), or NULL. */
const hp_server *hp__vhosts_route(const hp__vhosts *vhosts, hp_str host);
bool hp__vhosts_has(const hp__vhosts *vhosts, const hp_server *server);

/* Can `candidate` join `servers` on one address? 0, or UV_EADDRINUSE with a message naming
 * the server already there: a second default server, or a host name claimed twice. */
int hp__vhosts_conflict(const hp_server *const *servers, size_t count, const hp_server *candidate,
                        char *errbuf, size_t errbuf_len);

#endif
