/* A call from a worker to the control thread, and back.
 *
 * Handlers run on workers, but what they ask about (the pool, its servers, later the process
 * supervisor and upstream health) lives on the control thread, which alone may touch it. A call
 * carries the question there and the answer back:
 *
 *   worker   hp__call_control(call, on_control): queue the call, wake the control loop
 *   control  on_control(call) does the work, now or after its own callbacks, then
 *            hp__call_return(call, back) exactly once
 *   worker   back(call, true) runs on the worker the call came from; back(call, false) runs
 *            on the control thread instead when that worker ended meanwhile (shutdown)
 *
 * The call is the caller's memory (embed it in what travels: no allocation of its own). Calls
 * travel the engine's one queue to the control thread, with the workers' replies, so they run
 * in the order each worker sent them: every call a request of a server made has run before the
 * control thread hears that the server stopped on that worker (a handler is never destroyed
 * with a call of its still queued). One-way calls (on_control never returns) are fine. */
#ifndef HP_IO_CALL_H
#define HP_IO_CALL_H

#include "common/locked_queue.h"
#include "hostpool/engine.h"

#include <stdbool.h>

typedef struct hp__call hp__call;
typedef void (*hp__call_fn)(hp__call *call);
typedef void (*hp__call_back_fn)(hp__call *call, bool on_worker);

struct hp__call {
    hp__queue_item item; /* first: calls travel through an hp__locked_queue */
    hp__call_fn on_control;
    hp__call_back_fn back;
    unsigned worker;   /* the worker it came from */
    hp_engine *engine; /* set on the control thread, before on_control */
};

/* Worker thread (a worker of an engine): runs on_control(call) on the engine's control
 * thread. */
void hp__call_control(hp__call *call, hp__call_fn on_control);

/* Control thread, once per call: runs back(call, ...) on the call's worker as above. */
void hp__call_return(hp__call *call, hp__call_back_fn back);

#endif
