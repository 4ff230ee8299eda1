/* One HTTP/1.1 connection as a state machine with no I/O of its own ("sans-IO").
 *
 * The session is the HTTP/1.1 protocol of a connection (protocol.h): the transport
 * (src/io/conn.c over libuv, or the fuzz harness over memory) owns the socket and feeds the
 * session: it asks for a read buffer, reports bytes read, write completions and timer expiry.
 * The session parses requests with llhttp, enforces framing rules and limits, runs one
 * exchange (request → handler → response) at a time, writes responses in request order, and
 * tells the transport what to do through its vtable.
 *
 * Threading: a session belongs to one worker loop; everything runs on its thread.
 *
 * Phases:   IDLE ──bytes──▶ HEAD ──headers──▶ BODY ──complete──▶ HANDLER ──answer──▶ WRITE
 *            ▲                                                                     │
 *            └──────────────────── response written, keep-alive ◀─────────────────┘
 * Timers: IDLE uses idle_timeout (close silently); HEAD and BODY use header_timeout (408);
 * WRITE uses write_timeout (close); HANDLER has none (the handler owns its own timeouts).
 *
 * A handler that streams the body (request.h, request_body.c) is called at HEAD's end: the
 * session is then in HANDLER while the handler works, parsing nothing, and in BODY while a
 * pull waits for a piece; it keeps reading meanwhile until its buffer is full, so the client
 * going away is seen at once.
 *
 * Virtual hosts: a request is routed when its headers are complete, by its Host, through the
 * listener's current table (vhosts.h); no server claims it: 421 and close. Before that the
 * head server's limits apply (idle and header timeouts, head sizes); from then on the routed
 * server's (body size, write timeout, access log). Each request of a keep-alive connection is
 * routed anew, so one connection may carry requests for several servers.
 *
 * Draining: a connection idle between keep-alive requests closes at once; a fresh one (no
 * request yet) is given its first request, answered with Connection: close, within the
 * header timeout: a client that just connected may be sending it already.
 *
 * Upgrade: a handler answers 101 (hp_request_upgrade, upgraded.h) to a request that asked for
 * it. When the 101 head is written the exchange ends as any other, the session finishes
 * (phase CLOSED, without closing the connection) and hands the connection, with the bytes
 * read after the request, to the upgraded byte stream: HTTP parsing stops there.
 *
 * Closing: once the session calls transport->close(), it never calls the transport again and
 * the transport must not call the session again; the transport frees the memory. */
#ifndef HP_HTTP_SESSION_H
#define HP_HTTP_SESSION_H

#include "http/context.h"
#include "http/protocol.h"
#include "http/stats.h"
#include "http/vhosts.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct hp__session hp__session;
typedef struct hp__exchange hp__exchange;

typedef enum {
    HP__PHASE_IDLE,
    HP__PHASE_HEAD,
    HP__PHASE_BODY,
    HP__PHASE_HANDLER,
    HP__PHASE_WRITE,
    HP__PHASE_CLOSED, /* closed, or handed to another protocol: the session is finished */
} hp__phase;

struct hp__session {
    hp__protocol protocol; /* first: HTTP/1.1 is the protocol a connection starts with */
    llhttp_t parser;
    hp__http_context *ctx;
    /* The listener's slot for its current virtual hosts: read at each request (the table may
     * be swapped between requests); the server a request runs on is its exchange's. */
    hp__vhosts *const *vhosts;
    hp__conn_gauges *gauges; /* the listener's: open and idle connections (stats.h) */
    hp__exchange *x;         /* the exchange being parsed or answered; NULL when idle */
    char *rbuf;              /* the current message starts at rbuf[0]; NULL when idle */
    uint32_t rcap;           /* capacity of rbuf */
    uint32_t rparsed;        /* bytes of rbuf consumed by the parser */
    uint32_t rend;           /* bytes of rbuf received */
    uint8_t phase;           /* hp__phase */
    bool reading;            /* transport reading state, as last set */
    bool in_process;         /* process() is on the stack */
    /* The flags read once per request or less share a byte, so that a connection stays as
     * small as it was before it had a protocol vtable (conn.c). */
    bool draining : 1;          /* answer what is in flight, then close */
    bool peer_eof : 1;          /* the client closed its sending side */
    bool stop_parsing : 1;      /* an error was answered: parse nothing more */
    bool served : 1;            /* at least one exchange finished: no longer a fresh one */
    bool fresh_drain_timer : 1; /* draining a fresh connection: its header timer is set */
    bool peer_known : 1;        /* peer_addr holds the client's address (for the access log): */
    bool peer_ip6 : 1;          /* an IPv6 one (16 bytes), else IPv4 (its first 4 bytes) */
    uint8_t peer_addr[16];
};

/* The sans-IO part of a connection: its transport and the session every connection starts
 * with, side by side, so that a connection is one allocation and the session reaches its
 * transport without a pointer (an idle connection stays small). conn.c and the memory
 * transport embed it. After an upgrade the session is finished and `transport.protocol` is
 * another protocol's state. */
typedef struct hp__connection {
    hp__transport transport;
    hp__session http1;
} hp__connection;

/* Starts HTTP/1.1 on `c`, whose transport.vt the caller set: c->transport.protocol becomes
 * the session. `gauges` (borrowed, outlives the connection) counts this connection as open,
 * and as idle while no request is in progress. */
void hp__session_init(hp__connection *c, hp__http_context *ctx, hp__vhosts *const *vhosts,
                      hp__conn_gauges *gauges);
/* The session's transport. */
static inline hp__transport *hp__session_transport(hp__session *s)
{
    return &((hp__connection *)((char *)s - offsetof(hp__connection, http1)))->transport;
}
/* The server of the exchange in flight, or NULL (idle, or not routed yet). */
const hp_server *hp__session_server(const hp__session *s);
/* hp__exchange_reroute for a request of an HTTP/1 session, through its listener's table: a
 * handler (a switchboard's) hands the request to the server `host` reaches on the same
 * address. */
bool hp__request_reroute(hp_request *req, hp_str host);
/* The limits before a request is routed: those of the address's head server (vhosts.h). */
const hp_limits *hp__session_head_limits(const hp__session *s);
/* Immediate stop: the exchange in flight (if any) ends with ok = false. The protocol's abort:
 * the others (read, write done, timeout, drain: session.h's phases) are reached through
 * transport.protocol, as the transport calls them. */
void hp__session_abort(hp__session *s);

#endif
