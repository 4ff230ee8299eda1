/* What the balancer kinds share (src/core/balance.c) and what each kind implements
 * (balance_rr.c, balance_lc.c, balance_hash.c). Not for the balancer's users: see balance.h.
 *
 * Each kind's create allocates one struct that starts with an hp__balance, fills the common
 * part with hp__balance_init(), and sets `ops`. balance.c does the bookkeeping every kind
 * needs (arguments, in-flight counts, out reasons, the count of targets in) and calls the
 * kind only for what differs:
 * - pick: called only when at least one target is in; returns a target that is in. The
 *   in-flight count of the result is incremented afterwards, then `picked` (if set) runs.
 * - released: after the target's in-flight count was decremented (optional).
 * - in_changed: a target went out (in == false) or came back, after its bits changed.
 * - destroy: frees what create allocated, the common part with hp__balance_close(). */
#ifndef HP_CORE_BALANCE_KIND_H
#define HP_CORE_BALANCE_KIND_H

#include "core/balance.h"

typedef struct hp__balance_ops {
    uint32_t (*pick)(hp__balance *b, const void *key, size_t key_len);
    void (*picked)(hp__balance *b, uint32_t target);
    void (*released)(hp__balance *b, uint32_t target);
    void (*in_changed)(hp__balance *b, uint32_t target, bool in);
    void (*destroy)(hp__balance *b);
} hp__balance_ops;

typedef struct hp__balance_slot {
    uint32_t weight;
    uint32_t in_flight;
    uint8_t out; /* HP__BALANCE_OUT_* bits */
} hp__balance_slot;

struct hp__balance {
    const hp__balance_ops *ops;
    hp__balance_kind kind;
    uint32_t n;
    uint32_t n_in; /* slots with out == 0 */
    hp__balance_slot *slots;
};

/* Allocates the slots (every target in) from validated targets. */
void hp__balance_init(hp__balance *b, hp__balance_kind kind, const hp__balance_ops *ops,
                      const hp__balance_target *targets, uint32_t n);
/* Frees the slots (not b itself). */
void hp__balance_close(hp__balance *b);

hp__balance *hp__balance_rr_create(const hp__balance_target *targets, uint32_t n);
hp__balance *hp__balance_lc_create(const hp__balance_target *targets, uint32_t n);
hp__balance *hp__balance_hash_create(const hp__balance_target *targets, uint32_t n);

#endif
