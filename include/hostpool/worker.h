/* The worker context: what a handler reaches of the worker loop a request runs on.
 *
 * A worker is one thread with one libuv loop (include/hostpool/engine.h). A handler that keeps
 * state per worker (a cache, a pool of upstream connections, subscriptions) declares the
 * per-worker hooks of its vtable (hostpool/handler.h: worker_start, worker_drain,
 * worker_stop): the engine calls worker_start on each worker before the first request that
 * can reach the handler there, keeps what it returns as the handler's data on that worker
 * (hp_worker_data), calls worker_drain when the worker or a server using the handler drains
 * there, and worker_stop once no server of that worker uses the handler any more, or before
 * the worker's loop ends. So a handler may open libuv handles on hp_worker_loop() (timers,
 * outbound sockets): its worker_stop closes them, and the worker's loop ends only once they
 * are closed.
 *
 * Threading: everything here is called on the worker's own thread (from on_request, from a
 * hook, or from a callback of that loop) and takes no lock. A worker and its data are
 * borrowed: a worker outlives every request and hook call it is given to. A worker thread
 * blocks SIGPIPE: a write there to a socket or pipe whose peer is gone fails with EPIPE, and
 * a program that keeps SIGPIPE's default action is not killed by it. */
#ifndef HOSTPOOL_WORKER_H
#define HOSTPOOL_WORKER_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct hp_worker hp_worker;
struct hp_handler;
struct uv_loop_s; /* libuv's uv_loop_t: <uv.h> is left to the files that use it */

/* The worker `req` runs on (the calling thread's: a request is only touched on its worker);
 * NULL only where no engine runs the request (a test driving a session over memory without a
 * worker context). */
hp_worker *hp_request_worker(const hp_request *req);

/* The worker's index, 0 to the engine's worker count - 1 (the request's `worker`). */
unsigned hp_worker_index(const hp_worker *worker);

/* The worker's libuv loop, for handles a handler opens there (closed by its worker_stop). */
struct uv_loop_s *hp_worker_loop(hp_worker *worker);

/* The worker's clock: the loop's time in milliseconds (uv_now), updated once per loop
 * iteration; the clock of its timers. */
uint64_t hp_worker_now(const hp_worker *worker);

/* What `handler`'s worker_start returned on this worker; NULL when it has none here (it
 * declares no worker hooks, or no server of this worker uses it). O(1), no lock. */
void *hp_worker_data(const hp_worker *worker, const struct hp_handler *handler);

/* ---- timers ------------------------------------------------------------------------------ */

/* A one-shot timer on the worker's clock. The caller owns the struct (embedded in its own
 * state: starting a timer allocates nothing) and keeps it valid while it is pending; all the
 * worker's timers share one libuv timer. A handler stops its timers in its worker_stop: the
 * timers still pending when the worker's loop ends are dropped without running. */
typedef struct hp_timer hp_timer;
typedef void (*hp_timer_cb)(hp_timer *timer);

struct hp_timer {
    void *data; /* the caller's */
    /* private */
    hp_timer_cb cb;
    hp_worker *worker;
    uint64_t id; /* 0: not pending */
};

/* Calls cb(timer) on the worker's loop `delay_ms` from now (hp_worker_now). A pending timer is
 * stopped first. `timer->data` is left as it is. */
void hp_timer_start(hp_worker *worker, hp_timer *timer, uint64_t delay_ms, hp_timer_cb cb);

/* The timer will not run (no-op when it is not pending). */
void hp_timer_stop(hp_timer *timer);

bool hp_timer_pending(const hp_timer *timer);

#endif
