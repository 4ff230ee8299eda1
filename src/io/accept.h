/* Accepting connections on a worker's listeners: the socket polled with uv_poll_t, accept4()
 * called here, rather than uv_listen().
 *
 * Why: libuv's accept loop (uv__server_io, libuv 1.44) hands an accept error to the connection
 * callback and tries again at once, returning only when accept() would block. Out of file
 * descriptors (EMFILE, ENFILE) accept() fails again at once, for ever: the worker spins at
 * 100 % CPU in that loop and serves nothing else, not even the connections it has. libuv's own
 * remedy, a spare descriptor per loop that it closes to accept and drop what waits, is lost for
 * good as soon as another thread takes the freed slot, which several workers do. Polling the
 * socket ourselves lets a worker stop asking.
 *
 * A listener (worker.h) is polled unless it is paused (max_connections reached: polled again
 * when one of its connections closes), starved (accept failed for want of descriptors or
 * memory: polled again by the worker's retry timer, RETRY_MS later) or closing. Connections
 * that arrive meanwhile wait in the kernel's backlog, as nginx leaves them. The worker says on
 * the log once when an episode of starvation begins and once when it ends (a retry finds no
 * listener starved since the one before).
 *
 * Reserve (engine_reserve.h): a worker with a reserved listener keeps one descriptor open (of
 * /dev/null). When the reserved listener is refused for want of descriptors, it closes that
 * one, accepts, and opens it again as soon as a descriptor is free: when a connection of this
 * worker closed, or at a retry. Best effort across threads: another worker's accept may take
 * the slot in between; then the reserved listener waits like the others.
 *
 * A wake-up accepts at most ACCEPT_BATCH connections: epoll is level-triggered here, so the
 * rest wake the loop again, after the other handles had their turn. Worker thread only. */
#ifndef HP_IO_ACCEPT_H
#define HP_IO_ACCEPT_H

#include "io/worker.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct hp__acceptor {
    hp__listener **open; /* the worker's open listeners, walked by a retry */
    uv_timer_t retry;
    int reserve_fd;     /* -1: lent, or not wanted */
    bool wants_reserve; /* a reserved listener started on this worker */
    bool starving;      /* in an episode: an accept failed for want of descriptors */
    uint64_t since;     /* when it began (uv_now) */
    unsigned worker;    /* the worker's index, for the log */
};

void hp__acceptor_init(hp__acceptor *a, uv_loop_t *loop, unsigned worker, hp__listener **open);
/* The worker's loop is ending: closes the retry timer. */
void hp__acceptor_close(hp__acceptor *a);
/* After the loop ended: closes the reserve descriptor. */
void hp__acceptor_free(hp__acceptor *a);
/* A connection of this worker closed: a descriptor is free for the reserve. */
void hp__acceptor_conn_closed(hp__acceptor *a);

/* Polls the listening socket `fd` (the listener's from now on) for `l`, whose worker, vhosts
 * and flags are set. On failure returns a UV_E* code, and `fd` is closed; `l` has no handle. */
int hp__listener_start(hp__listener *l, int fd);
/* Polls `l` again if it was paused and is below max_connections now (a connection closed, or a
 * new table with another head server). */
void hp__listener_resume(hp__listener *l);
/* Stops accepting for good: closes the socket now and the handle (`cb` when closed). */
void hp__listener_close(hp__listener *l, uv_close_cb cb);

#endif
