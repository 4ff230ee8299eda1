/* Upgrade: a handler answers 101 Switching Protocols and takes the connection over with a
 * protocol of its own (WebSocket, a test's echo), the bytes the client already sent included.
 *
 * Which requests: one that asked (RFC 9110 §7.8): HTTP/1.1 with an Upgrade field and
 * "upgrade" in Connection. A handler that does not want to switch answers as usual and the
 * connection stays HTTP/1.1. A request body, if any, is read whole before the switch (as
 * any body within max_body_bytes): the new protocol's bytes are those after the request.
 *
 * The switch: hp_request_upgrade() writes the 101 head (with Connection: Upgrade, the Upgrade
 * token given and the headers added with hp_response_header). When it is written, the
 * exchange ends as any other (the done callback with ok = true, the access log and metrics
 * count a 101) and the connection is the protocol's: on_open first, then on_read with the
 * bytes read after the request, and so on. HTTP parsing stops there for good.
 *
 * Threading: everything runs on the request's worker loop; call these functions only there.
 *
 * Lifetime: `hp_upgraded` is valid from on_open until on_close, which is called exactly once
 * (if on_open was) whatever ends the connection: hp_upgraded_close(), the client going away,
 * an error, or the engine aborting it (a worker's drain deadline, its server stopped). The
 * callbacks may be called from inside the calls below (on_read inside
 * hp_upgraded_read_start, on_close inside a write that failed), as hp_respond_stream calls
 * proceed(). The connection belongs to the server whose handler upgraded it: a stop or a
 * replace of that server drains it at once (on_drain) and waits for it to close, up to the
 * drain deadline, then aborts it. */
#ifndef HOSTPOOL_UPGRADE_H
#define HOSTPOOL_UPGRADE_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct hp_upgraded hp_upgraded;

/* The protocol that takes the connection over. Every callback receives the `data` given to
 * hp_request_upgrade. on_read, on_close and on_open are required; the others may be NULL. */
typedef struct hp_upgrade_protocol {
    /* The 101 head is written: the connection is the protocol's. Reading is on. */
    void (*on_open)(hp_upgraded *u, void *data);
    /* `len` (> 0) bytes arrived; borrowed for the call (copy what must be kept). */
    void (*on_read)(hp_upgraded *u, void *data, const char *bytes, size_t len);
    /* The client closed its sending side; no more reads. NULL: close the connection. */
    void (*on_eof)(hp_upgraded *u, void *data);
    /* A write that returned 0 (queued) completed. */
    void (*on_write_done)(hp_upgraded *u, void *data);
    /* The timer set with hp_upgraded_set_timer expired. NULL: close the connection. */
    void (*on_timeout)(hp_upgraded *u, void *data);
    /* The worker drains (a shutdown), or the server stops or is replaced: finish soon and
     * close. NULL: close when the writes queued are done. */
    void (*on_drain)(hp_upgraded *u, void *data);
    /* The connection is closed: release `data`; `u` must not be used after. `status` is 0
     * after hp_upgraded_close, else why it ended (a negative errno: -ECONNRESET, -EPIPE,
     * -ECONNABORTED when the engine aborted it, -ETIMEDOUT). */
    void (*on_close)(hp_upgraded *u, void *data, int status);
    /* The upgrade did not happen: the connection was lost before the 101 was written. Called
     * instead of on_open (after the done callback said ok = false), and no other callback
     * follows: release `data`. NULL: nothing to release. */
    void (*on_cancel)(void *data);
} hp_upgrade_protocol;

/* Answers `req` with 101 Switching Protocols, "Upgrade: <token>", and hands the connection to
 * `protocol` (borrowed: it must outlive the connection) with `data`. Returns 0, or HP_EINVAL
 * (nothing is sent; answer the request as usual) when the request did not ask for an
 * upgrade, was already answered, its body is still being streamed, or `token` is empty or
 * not a token. If the connection is lost before the 101 is written, the done callback says
 * ok = false and of `protocol` only on_cancel is called. */
int hp_request_upgrade(hp_request *req, const char *token, const hp_upgrade_protocol *protocol,
                       void *data);

/* Did `req` ask for an upgrade: HTTP/1.1 with an Upgrade field and "upgrade" among the
 * Connection tokens (RFC 9110 §7.8)? The requests hp_request_upgrade takes, once their body
 * is read and while they are not answered; for a handler that forwards the request (the
 * reverse proxy asks its upstream to upgrade exactly then). */
bool hp_request_upgrade_asked(const hp_request *req);

/* Writes `len` bytes. Returns 1 when all were written at once, 0 when some are queued (the
 * bytes are borrowed until on_write_done; later writes queue behind them, in order), or a
 * negative errno when the connection failed: on_close has then been called (-EPIPE after
 * hp_upgraded_shutdown, which closes nothing). */
int hp_upgraded_write(hp_upgraded *u, const void *bytes, size_t len);
/* The same for the `n` (1 to 1024) pieces of `iov`, in one system call where the socket takes
 * them. The array itself is the caller's again when the call returns, changed. */
int hp_upgraded_writev(hp_upgraded *u, struct iovec *iov, unsigned n);
/* Stops reading (back-pressure) or starts again; the bytes already received are delivered
 * (on_read) before hp_upgraded_read_start returns. */
void hp_upgraded_read_stop(hp_upgraded *u);
void hp_upgraded_read_start(hp_upgraded *u);
/* on_timeout after `ms` milliseconds; 0 cancels. A later call replaces the deadline. */
void hp_upgraded_set_timer(hp_upgraded *u, uint64_t ms);
/* Half-closes: the client reads the end of the stream (a TCP FIN) once the queued writes are
 * written, while reading goes on (a tunnel passes on its other side's end this way). No write
 * may follow: hp_upgraded_write returns -EPIPE then, and closes nothing. */
void hp_upgraded_shutdown(hp_upgraded *u);
/* Closes the connection once the queued writes are done; then on_close(status 0). */
void hp_upgraded_close(hp_upgraded *u);
/* Closes the connection now, the queued writes dropped (a client that stopped reading);
 * on_close(-ECONNABORTED) is called before it returns. */
void hp_upgraded_abort(hp_upgraded *u);

#endif
