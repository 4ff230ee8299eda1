/* The ways between the control thread and the workers, each with one implementation:
 *   - a call from the control thread to one worker (hp__engine_call_worker), which is also the
 *     way back of a call a worker made to the control thread (io/call.h);
 *   - the publication of an immutable, reference-counted snapshot to every worker
 *     (hp__engine_publish, io/snapshot.h): virtual-hosts tables today, upstream sets later.
 * Everything the engine posts to its workers goes through one function (post_all in
 * engine.c); everything they send back through one queue. */
#ifndef HP_IO_ENGINE_CALL_H
#define HP_IO_ENGINE_CALL_H

#include "hostpool/engine.h"
#include "io/snapshot.h"
#include "io/worker.h"

/* Runs fn(arg, true) on worker `worker`'s thread, after every command posted to it before.
 * When that worker has ended (the engine shut down), fn(arg, false) runs instead, on the
 * control thread, now or when the worker is destroyed; either way fn runs exactly once.
 * Control thread only. */
void hp__engine_call_worker(hp_engine *engine, unsigned worker, hp__worker_call_fn fn, void *arg);

/* Publishes `snapshot`, made with one reference per worker (hp_engine_worker_count), to
 * `slots[w]` on each worker w: each installs it in order with the commands posted before
 * (io/snapshot.h). Control thread only. */
void hp__engine_publish(hp_engine *engine, hp__snapshot_slot *const *slots, hp__snapshot *snapshot);

/* Gives every worker's context the pool's registry of named upstreams (hp__worker_upstreams),
 * which is thread-safe (upstream/upstreams.h) and must outlive the workers. Control thread,
 * before the first server starts: a worker reads the pointer only for requests of servers
 * published after it, and the command queue's mutex orders the write before those reads. */
struct hp__upstreams;
void hp__engine_set_upstreams(hp_engine *engine, struct hp__upstreams *upstreams);

#endif
