/* One HTTP/1.1 connection as a state machine with no I/O of its own ("sans-IO").
 *
 * The transport (src/io/conn.c over libuv, or the fuzz harness over memory) owns the socket
 * and feeds the session: it asks for a read buffer, reports bytes read, write completions and
 * timer expiry. The session parses requests with llhttp, enforces framing rules and limits,
 * runs one exchange (request → handler → response) at a time, writes responses in request
 * order, and tells the transport what to do through the hp__transport vtable.
 *
 * Threading: a session belongs to one worker loop; everything runs on its thread.
 *
 * Phases:   IDLE ──bytes──▶ HEAD ──headers──▶ BODY ──complete──▶ HANDLER ──answer──▶ WRITE
 *            ▲                                                                     │
 *            └──────────────────── response written, keep-alive ◀─────────────────┘
 * Timers: IDLE uses idle_timeout (close silently); HEAD and BODY use header_timeout (408);
 * WRITE uses write_timeout (close); HANDLER has none (the handler owns its own timeouts).
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
 * Closing: once the session calls transport->close(), it never calls the transport again and
 * the transport must not call the session again; the transport frees the memory. */
#ifndef HP_HTTP_SESSION_H
#define HP_HTTP_SESSION_H

#include "http/context.h"
#include "http/stats.h"
#include "http/vhosts.h"

#include <llhttp.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct hp__session hp__session;
typedef struct hp__exchange hp__exchange;

typedef struct hp__transport {
    /* Writes every byte of iov[0..n). Returns 1 when all was written at once, 0 when the
     * rest is queued (completion comes through hp__session_on_write_done), or a negative
     * error. The iov array may be modified; the bytes must stay valid until completion. */
    int (*write)(hp__session *s, struct iovec *iov, unsigned n);
    /* Sends up to `len` bytes of `fd` from `offset` straight to the socket: returns bytes
     * sent (> 0), 0 when the socket would block, or a negative error. */
    ssize_t (*sendfile)(hp__session *s, int fd, uint64_t offset, size_t len);
    /* Starts or stops reading from the socket. */
    void (*set_reading)(hp__session *s, bool reading);
    /* Calls hp__session_on_timeout after `ms` milliseconds (0: no timer needed). A later
     * call replaces the earlier deadline. */
    void (*set_timer)(hp__session *s, uint64_t ms);
    /* Closes the connection; the session is finished. When s->linger is set, every write
     * has completed and the answer was an error: the transport should half-close and
     * discard input for a while, so the client reads the answer rather than a reset. */
    void (*close)(hp__session *s);
} hp__transport;

typedef enum {
    HP__PHASE_IDLE,
    HP__PHASE_HEAD,
    HP__PHASE_BODY,
    HP__PHASE_HANDLER,
    HP__PHASE_WRITE,
} hp__phase;

struct hp__session {
    llhttp_t parser;
    const hp__transport *transport;
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
    bool draining;           /* answer what is in flight, then close */
    bool peer_eof;           /* the client closed its sending side */
    bool closed;
    bool stop_parsing;      /* an error was answered: parse nothing more */
    bool linger;            /* see hp__transport.close */
    bool served;            /* at least one exchange finished: no longer a fresh connection */
    bool fresh_drain_timer; /* draining a fresh connection: its header timer is set */
    uint8_t peer_family;    /* AF_INET or AF_INET6, 0 unknown; for the access log */
    uint8_t peer_addr[16];
};

/* `gauges` (borrowed, outlives the session) counts this connection as open, and as idle while
 * no request is in progress. */
void hp__session_init(hp__session *s, const hp__transport *transport, hp__http_context *ctx,
                      hp__vhosts *const *vhosts, hp__conn_gauges *gauges);
/* The server of the exchange in flight, or NULL (idle, or not routed yet). */
const hp_server *hp__session_server(const hp__session *s);
/* The limits before a request is routed: those of the address's head server (vhosts.h). */
const hp_limits *hp__session_head_limits(const hp__session *s);
/* Where the transport should read into next. *len is 0 when the session cannot take bytes now
 * (it has then stopped reading). */
void hp__session_read_buffer(hp__session *s, char **base, size_t *len);
/* `nread` bytes were read into the buffer; HP__SESSION_EOF is the end of the stream, any
 * other negative value an error. */
#define HP__SESSION_EOF (-4095)
void hp__session_on_read(hp__session *s, ssize_t nread);
void hp__session_on_write_done(hp__session *s, int status);
void hp__session_on_timeout(hp__session *s);
/* Graceful stop: closes at once when idle, else after the exchange in flight. */
void hp__session_drain(hp__session *s);
/* Immediate stop: the exchange in flight (if any) ends with ok = false. */
void hp__session_abort(hp__session *s);

#endif
