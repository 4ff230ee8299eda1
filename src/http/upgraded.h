/* The protocol of an upgraded connection: the byte stream a handler took over with a 101
 * (include/hostpool/upgrade.h), as a protocol of the connection (protocol.h).
 *
 * The session starts it when the 101 head is written: it takes the session's read buffer,
 * with the bytes read after the upgrade request, and the connection's counts (open gauge,
 * connections_open), and becomes transport.protocol. From then on the transport calls it;
 * it calls the handler's hp_upgrade_protocol. Sans-IO as the session: the memory transport
 * drives it in tests and the fuzz target. */
#ifndef HP_HTTP_UPGRADED_H
#define HP_HTTP_UPGRADED_H

#include "hostpool/upgrade.h"
#include "http/session.h"

/* Hands the connection of `s` to `protocol` for `server` (which the connection then uses until
 * it closes): takes the bytes of s's read buffer after s->rparsed, finishes the session
 * (phase CLOSED, without closing the connection) and sets the transport's protocol. Call it
 * with no write of the session queued and no exchange in flight; then hp__upgraded_open. */
hp_upgraded *hp__upgraded_create(hp__session *s, const hp_server *server,
                                 const hp_upgrade_protocol *protocol, void *data);
/* Calls on_open, delivers the bytes handed over, and tells the protocol of a drain that
 * came first (`draining`). */
void hp__upgraded_open(hp_upgraded *u, bool draining);

#endif
