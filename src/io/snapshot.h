/* Snapshots: immutable, reference-counted values the control thread publishes to every worker
 * (a listener's virtual-hosts table today; upstream sets and limits later).
 *
 * The control thread builds a value, embeds an hp__snapshot as its first member, and makes it
 * with one reference per worker it goes to. Publishing (hp__engine_publish, engine_call.h)
 * posts it to one slot on each worker: a slot is a place on that worker that holds the current
 * value (a listener's table). On the worker's thread the slot's `install` puts the new value in
 * place and hands back the one it replaces, whose reference is then dropped; the last
 * reference, dropped on whichever thread, frees the value. The value is never written after it
 * is built, so workers read it with no lock; the count is atomic but touched only when a value
 * is published or retired, never per request.
 *
 * Readers on a worker see the slot's value change only between two events of their loop (a
 * publication runs as one command), so a request routed with one table finishes with it as
 * long as it holds what it needs (the servers outlive every table naming them). */
#ifndef HP_IO_SNAPSHOT_H
#define HP_IO_SNAPSHOT_H

#include <stdatomic.h>

typedef struct hp__snapshot hp__snapshot;
struct hp__snapshot {
    atomic_uint refs;
    void (*free)(hp__snapshot *snapshot); /* the last release calls it */
};

/* A new value's header, holding `refs` references (one per worker it will be published to). */
void hp__snapshot_init(hp__snapshot *snapshot, unsigned refs, void (*free_fn)(hp__snapshot *));
/* Drops one reference; the last frees the value. NULL is a no-op. Any thread. */
void hp__snapshot_release(hp__snapshot *snapshot);

/* Where a published value lands on one worker. `install` runs on that worker's thread: it
 * puts `snapshot` in place (taking its reference) and returns the value it replaces (NULL:
 * none), whose reference the publication drops. */
typedef struct hp__snapshot_slot hp__snapshot_slot;
struct hp__snapshot_slot {
    hp__snapshot *(*install)(hp__snapshot_slot *slot, hp__snapshot *snapshot);
};

#endif
