/* The worker context: the public hp_worker (include/hostpool/worker.h), what a handler reaches
 * of the loop its request runs on: the loop, its index, its clock, its timers (a core scheduler
 * driven by one libuv timer, io/uv_sched.h) and the handlers' per-worker data
 * (io/worker_handlers.h).
 *
 * A worker thread (io/worker.h) embeds one and enters it when its thread starts; a sans-IO
 * driver (a test that runs sessions over memory on its own loop) may make one too. The calling
 * thread's context is kept in a thread-local variable, which is how a request finds its worker
 * without a field in the request (a request is only touched on its worker's thread).
 *
 * Threading: the thread that entered it, only. */
#ifndef HP_IO_WORKER_CONTEXT_H
#define HP_IO_WORKER_CONTEXT_H

#include "hostpool/worker.h"
#include "io/uv_sched.h"
#include "io/worker_handlers.h"

struct hp__upstreams;

struct hp_worker {
    unsigned index;
    uv_loop_t *loop;
    hp__uv_sched timers;
    hp__worker_handlers handlers;
    struct hp__upstreams *upstreams; /* the pool's named upstreams; NULL without a pool */
};

void hp__worker_context_init(hp_worker *worker, uv_loop_t *loop, unsigned index);
/* `worker` is the calling thread's context from now on (hp_request_worker). */
void hp__worker_context_enter(hp_worker *worker);
/* The calling thread's context, or NULL. */
hp_worker *hp__worker_context_current(void);
/* The registry of named upstreams a proxy handler resolves names in (upstream/upstreams.h):
 * the pool's, given to its engine's workers (hp__engine_set_upstreams); NULL for an engine
 * without a pool and for a context of a test's own. */
struct hp__upstreams *hp__worker_upstreams(hp_worker *worker);
/* The loop is about to end: the started handlers stop (closing what they opened on the
 * loop), the timers are dropped and their libuv timer closes; run the loop once more to
 * finish the closes. The thread has no context any more. */
void hp__worker_context_close(hp_worker *worker);

#endif
