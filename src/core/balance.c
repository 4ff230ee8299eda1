/* The bookkeeping every balancer kind shares; see balance.h and balance_kind.h. */
#include "core/balance_kind.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdlib.h>

static bool targets_valid(hp__balance_kind kind, const hp__balance_target *targets, uint32_t n)
{
    if (n == 0 || n > HP__BALANCE_MAX_TARGETS) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (targets[i].weight == 0 || targets[i].weight > HP__BALANCE_MAX_WEIGHT) return false;
        if (kind == HP__BALANCE_HASH && !targets[i].id) return false;
    }
    return true;
}

int hp__balance_create(hp__balance_kind kind, const hp__balance_target *targets, uint32_t n,
                       hp__balance **out)
{
    *out = NULL;
    if (!targets_valid(kind, targets, n)) return HP_EINVAL;
    switch (kind) {
    case HP__BALANCE_ROUND_ROBIN:
        *out = hp__balance_rr_create(targets, n);
        return 0;
    case HP__BALANCE_LEAST_CONN:
        *out = hp__balance_lc_create(targets, n);
        return 0;
    case HP__BALANCE_HASH:
        *out = hp__balance_hash_create(targets, n);
        return 0;
    }
    return HP_EINVAL;
}

void hp__balance_destroy(hp__balance *b)
{
    if (b) b->ops->destroy(b);
}

void hp__balance_init(hp__balance *b, hp__balance_kind kind, const hp__balance_ops *ops,
                      const hp__balance_target *targets, uint32_t n)
{
    b->ops = ops;
    b->kind = kind;
    b->n = n;
    b->n_in = n;
    b->slots = hp__calloc(n, sizeof *b->slots);
    for (uint32_t i = 0; i < n; i++) b->slots[i].weight = targets[i].weight;
}

void hp__balance_close(hp__balance *b)
{
    free(b->slots);
    b->slots = NULL;
}

uint32_t hp__balance_pick(hp__balance *b, const void *key, size_t key_len)
{
    if (b->n_in == 0) return HP__BALANCE_NONE;
    uint32_t target = b->ops->pick(b, key, key_len);
    b->slots[target].in_flight++;
    if (b->ops->picked) b->ops->picked(b, target);
    return target;
}

void hp__balance_release(hp__balance *b, uint32_t target)
{
    if (target >= b->n || b->slots[target].in_flight == 0) return;
    b->slots[target].in_flight--;
    if (b->ops->released) b->ops->released(b, target);
}

void hp__balance_set_out(hp__balance *b, uint32_t target, unsigned reason, bool out)
{
    if (target >= b->n) return;
    hp__balance_slot *slot = &b->slots[target];
    bool was_in = slot->out == 0;
    slot->out = (uint8_t)(out ? slot->out | reason : slot->out & ~reason);
    bool is_in = slot->out == 0;
    if (was_in == is_in) return;
    b->n_in = is_in ? b->n_in + 1 : b->n_in - 1;
    b->ops->in_changed(b, target, is_in);
}

bool hp__balance_is_out(const hp__balance *b, uint32_t target)
{
    return target < b->n && b->slots[target].out != 0;
}

uint32_t hp__balance_count_in(const hp__balance *b)
{
    return b->n_in;
}

uint32_t hp__balance_in_flight(const hp__balance *b, uint32_t target)
{
    return target < b->n ? b->slots[target].in_flight : 0;
}

hp__balance_kind hp__balance_kind_of(const hp__balance *b)
{
    return b->kind;
}

const char *hp__balance_kind_name(hp__balance_kind kind)
{
    switch (kind) {
    case HP__BALANCE_ROUND_ROBIN:
        return "round_robin";
    case HP__BALANCE_LEAST_CONN:
        return "least_conn";
    case HP__BALANCE_HASH:
        return "hash";
    }
    return "?";
}
