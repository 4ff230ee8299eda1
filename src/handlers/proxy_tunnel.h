/* The reverse proxy's tunnel: after an upstream answered 101 to a request that asked for an
 * upgrade (a WebSocket handshake, an h2c or any other protocol), the client's connection and
 * the upstream connection are joined and bytes flow both ways, unread, until both ends are
 * done (docs/PROXY.md, "WebSocket and other upgrades").
 *
 * The proxy (proxy.c) forwards a request as an upgrade when hp__proxy_tunnel_wanted() says
 * so (Upgrade kept, "Connection: upgrade"), parses the answer with HP__UPSTREAM_UPGRADE_ASKED,
 * and at a 101 adds the response's fields and calls hp__proxy_tunnel_start(), which gives the
 * client the 101 through hp_request_upgrade and owns the upstream connection from then on.
 *
 * Threading: the request's worker, as the proxy. */
#ifndef HP_HANDLERS_PROXY_TUNNEL_H
#define HP_HANDLERS_PROXY_TUNNEL_H

#include "hostpool/request.h"
#include "http/upstream_response.h"
#include "io/upstream_pool.h"

#include <stdbool.h>
#include <stdint.h>

/* Is `req` forwarded as an upgrade: a GET without a body that asked for one
 * (hp_request_upgrade_asked)? Others go without Upgrade, and a 101 to them is a 502. */
bool hp__proxy_tunnel_wanted(const hp_request *req);

/* Answers `req` with the 101 `head` (its Upgrade protocol, the fields the caller added with
 * hp_response_header) and tunnels between the client and `conn` once it is written.
 * Preconditions: `req` was wanted (above), is not answered, and `head` is a 101 parsed with
 * HP__UPSTREAM_UPGRADE_ASKED; `conn` is in use (its reads are stopped here).
 *
 * `conn` is the tunnel's from now on: it is closed (never pooled again) when the tunnel ends,
 * or when the client's connection is lost before the 101 is written. `early` (copied) are the
 * bytes the upstream sent after its head: the client gets them first. A tunnel with no byte
 * either way for `idle_timeout_ms` is closed. */
void hp__proxy_tunnel_start(hp_request *req, hp__upstream_conn *conn,
                            const hp__upstream_response *head, hp_str early,
                            uint64_t idle_timeout_ms);

#endif
