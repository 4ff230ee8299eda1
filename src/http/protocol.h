/* A connection apart from its protocol: the two small vtables between them.
 *
 * The transport (src/io/conn.c over libuv; tests/support/mem_transport.c over memory) owns the
 * socket, one timer, reads, writes and the lingering close. The protocol on the connection
 * (HTTP/1.1, the session of src/http/session.h, at first; after a 101, the byte stream of
 * src/http/upgraded.c that carries a handler's own protocol) owns the bytes. Neither does the
 * other's job, so every protocol is sans-IO: the fuzz target and the unit tests drive the very
 * code the worker runs, over memory.
 *
 * The transport calls the protocol it holds in `protocol`: for a read buffer, with the bytes
 * read, when a queued write completed, when the timer fired, to drain (a graceful stop: finish
 * what is in flight) or abort (stop now). A protocol calls its transport through `vt`. Handing
 * the connection to another protocol is setting `protocol`, which a protocol does only when it
 * has no write queued, so every completion reaches the protocol that wrote.
 *
 * Threading: a connection and its protocols belong to one worker loop.
 *
 * Closing: once a protocol called vt->close, it never calls its transport again and the
 * transport never calls it again; the transport frees its own memory, the protocol its own. */
#ifndef HP_HTTP_PROTOCOL_H
#define HP_HTTP_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct hp_server;
typedef struct hp__transport hp__transport;
typedef struct hp__protocol hp__protocol;

typedef struct hp__transport_vtable {
    /* Writes every byte of iov[0..n). Returns 1 when all was written at once, 0 when the
     * rest is queued (completion comes through the protocol's on_write_done), or a negative
     * error. The iov array may be modified; the bytes must stay valid until completion. */
    int (*write)(hp__transport *t, struct iovec *iov, unsigned n);
    /* Sends up to `len` bytes of `fd` from `offset` straight to the socket: returns bytes
     * sent (> 0), 0 when the socket would block, or a negative error. */
    ssize_t (*sendfile)(hp__transport *t, int fd, uint64_t offset, size_t len);
    /* Starts or stops reading from the socket. */
    void (*set_reading)(hp__transport *t, bool reading);
    /* Calls the protocol's on_timeout after `ms` milliseconds (0: no timer needed). A later
     * call replaces the earlier deadline. */
    void (*set_timer)(hp__transport *t, uint64_t ms);
    /* Half-closes: shuts the sending side down once the queued writes are written (the peer
     * reads the end of the stream); reading goes on. No write follows it. */
    void (*shutdown)(hp__transport *t);
    /* Closes the connection; the protocol is finished. With `linger`, every write has
     * completed and the answer was an error: the transport half-closes and discards input
     * for a while, so the client reads the answer rather than a reset. */
    void (*close)(hp__transport *t, bool linger);
} hp__transport_vtable;

struct hp__transport {
    const hp__transport_vtable *vt;
    hp__protocol *protocol; /* the protocol on the connection now */
};

/* HP__READ_EOF: the peer closed its sending side; any other negative nread is an error. */
#define HP__READ_EOF (-4095)

typedef struct hp__protocol_vtable {
    /* Where the transport should read into next. *len is 0 when the protocol cannot take
     * bytes now (it has then stopped reading). */
    void (*read_buffer)(hp__protocol *p, char **base, size_t *len);
    /* `nread` bytes were read into that buffer, or HP__READ_EOF, or an error. */
    void (*on_read)(hp__protocol *p, ssize_t nread);
    /* A write that returned 0 completed (status 0) or failed (< 0). */
    void (*on_write_done)(hp__protocol *p, int status);
    void (*on_timeout)(hp__protocol *p);
    /* Graceful stop: finish what is in flight, then close. */
    void (*drain)(hp__protocol *p);
    /* Immediate stop: close now; whoever waits for the connection hears it failed. */
    void (*abort)(hp__protocol *p);
    /* Does the connection still hold `server` (a request of it in flight; for an upgraded
     * connection, the server whose handler took it over)? */
    bool (*uses_server)(const hp__protocol *p, const struct hp_server *server);
    /* `server` stops on this worker (hp_engine_stop_server: its requests drain). A connection
     * that belongs to that server alone, an upgraded one, drains as for a worker's drain, so
     * it closes now rather than at the stop's deadline. NULL where no connection belongs to
     * one server: an HTTP/1 exchange in flight finishes and the next request is routed by the
     * address's new table. */
    void (*server_stopping)(hp__protocol *p, const struct hp_server *server);
} hp__protocol_vtable;

/* The first member of every protocol's state. */
struct hp__protocol {
    const hp__protocol_vtable *vt;
};

#endif
