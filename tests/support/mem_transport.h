/* A memory transport: drives a real connection's protocols (src/http/protocol.h: the HTTP/1
 * session of src/http/session.h, then the upgraded byte stream after a 101) without sockets,
 * for the session unit tests and the fuzz_connection target.
 *
 * The test plays the client and the loop: it feeds bytes (split where it likes) through
 * mem_transport_feed(), completes queued writes, fires the timer and sends EOF, each to the
 * protocol on the connection at the time. The protocol's calls come back here and are
 * recorded:
 *
 *   write     appended to `out` at once (returns 1), or, while `hold_writes` is set or an
 *             earlier write is still queued, kept as a queued write (returns 0) whose bytes
 *             are copied to `out` only when the test completes it, so bytes the session frees
 *             or reuses too early show up (ASan, or wrong output). `write_error` makes it fail.
 *   sendfile  pread()s from the fd into `out` (at most `sendfile_max` bytes per call), or
 *             returns 0 (would block) while `sendfile_blocks` is set.
 *   set_timer records the last timeout asked for; mem_transport_fire_timer() fires it.
 *   set_reading records the state.
 *   shutdown  records the half-close (`shut`); a write after it, or a second one, is a
 *             violation.
 *   close     records that the session finished.
 *
 * Contract checks: every call the session makes after it closed is counted in
 * `violations`, as is a sendfile while a write is queued (its bytes would overtake the
 * queued ones); the helpers never call the session after it closed. Memory is freed only by
 * mem_transport_destroy(), which the test calls outside any session call, so the session may
 * still touch itself on its way out of the call that closed it. */
#ifndef HP_TEST_MEM_TRANSPORT_H
#define HP_TEST_MEM_TRANSPORT_H

#include "http/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_TRANSPORT_MAX_IOV 8

typedef struct mem_write {
    struct iovec iov[MEM_TRANSPORT_MAX_IOV];
    unsigned n;
} mem_write;

typedef struct mem_transport {
    hp__connection conn;    /* the transport and the HTTP/1 session it starts with */
    hp__vhosts *vhosts;     /* the listener's slot the session reads */
    hp__conn_gauges gauges; /* the listener's connection gauges */
    bool owns_vhosts;
    /* What the client received; NUL-terminated once anything arrived. */
    char *out;
    size_t out_len, out_cap;
    /* Knobs the test sets. */
    bool hold_writes;     /* queue every write (a slow reader) */
    int write_error;      /* < 0: write fails with this */
    bool sendfile_blocks; /* sendfile returns 0 (the socket is full) */
    size_t sendfile_max;  /* bytes per sendfile call, 0: no limit */
    /* Queued writes, oldest first. */
    mem_write *queued;
    unsigned queued_count, queued_cap;
    /* What the session asked for. */
    uint64_t timer_ms; /* the last set_timer; 0: none */
    unsigned timer_calls;
    bool reading;
    bool shut; /* the sending side was shut down (a half-close) */
    bool closed;
    bool lingered; /* closed with linger (an error answer) */
    unsigned write_calls, sendfile_calls, close_calls;
    unsigned violations; /* contract violations, see above */
} mem_transport;

/* A transport with its session initialised on `ctx` and `server` (both borrowed), as on a
 * listener that serves that one server. */
mem_transport *mem_transport_create(hp__http_context *ctx, const hp_server *server);
/* The same on a listener routing by `vhosts` (borrowed; the test may swap m->vhosts). */
mem_transport *mem_transport_create_vhosts(hp__http_context *ctx, hp__vhosts *vhosts);
/* Aborts the connection's protocol if it is still open, then frees everything. NULL is
 * harmless. */
void mem_transport_destroy(mem_transport *m);

/* Feeds bytes as the socket would: as many reads as needed, each into the buffer the session
 * offers. Returns how many bytes the session took (fewer when it stopped reading or closed). */
size_t mem_transport_feed(mem_transport *m, const void *data, size_t len);
size_t mem_transport_feed_str(mem_transport *m, const char *s);
/* The client closed its sending side (or, with `error`, the read failed). */
void mem_transport_eof(mem_transport *m);
void mem_transport_read_error(mem_transport *m);
/* Completes the oldest queued write with `status` (0 or a negative error): its bytes reach
 * `out` when status is 0. Returns false when nothing was queued or the session is closed. */
bool mem_transport_complete_write(mem_transport *m, int status);
/* Completes queued writes until none is left (a fast reader again); returns how many. */
unsigned mem_transport_flush(mem_transport *m);
/* Fires the timer the session asked for. Returns false when none is set or it is closed. */
bool mem_transport_fire_timer(mem_transport *m);
void mem_transport_drain(mem_transport *m);
/* The worker aborts the connection (a drain's deadline): the protocol on it stops now. */
void mem_transport_abort(mem_transport *m);

/* Forgets the output received so far. */
void mem_transport_clear_output(mem_transport *m);
/* Counts the occurrences of `needle` in the output. */
unsigned mem_transport_count(const mem_transport *m, const char *needle);

#endif
