/* Carrying work from the control thread to one worker's thread, for what must answer a
 * request there after the control thread did its part (the admin API). */
#ifndef HP_IO_ENGINE_CALL_H
#define HP_IO_ENGINE_CALL_H

#include "hostpool/engine.h"
#include "io/worker.h"

/* Runs fn(arg, true) on worker `worker`'s thread, after every command posted to it before.
 * When that worker has ended (the engine shut down), fn(arg, false) runs instead, on the
 * control thread, now or when the worker is destroyed; either way fn runs exactly once.
 * Control thread only. */
void hp__engine_call_worker(hp_engine *engine, unsigned worker, hp__worker_call_fn fn, void *arg);

#endif
