/* Balancers: which target of an upstream gets the next request.
 *
 * A balancer is made over a fixed set of targets, indices 0..n-1, each with a weight
 * (1..HP__BALANCE_MAX_WEIGHT) and an id (its address, "127.0.0.1:9001" or "unix:/run/a.sock";
 * only the hash kind reads it). Three kinds, one file each:
 *
 * - ROUND_ROBIN (balance_rr.c): nginx's smooth weighted round robin. Weights 5,1,1 give
 *   a a b a c a a, then again.
 * - LEAST_CONN (balance_lc.c): the target with the fewest requests in flight per unit of
 *   weight; ties go to the one whose weighted turn is first, so idle targets are used in
 *   weighted rotation rather than always the first.
 * - HASH (balance_hash.c): consistent hashing of a key (the client address bytes or a header
 *   value) on a ring of virtual nodes, HP__BALANCE_HASH_NODES per unit of weight; a key goes
 *   to the first node clockwise, so a target that leaves moves only its own keys.
 *
 * Out: a target may be taken out for several reasons at once (a bit each: active health,
 * passive health, breaker); it is out while any reason holds, and a pick never returns a
 * target that is out. hp__balance_set_out() costs nothing when the target's in/out does not
 * change; a change costs O(log n) (least_conn), O(ring) (hash: the ring of the targets in is
 * refiltered) or marks the round robin schedule for a rebuild at the next pick. Those happen
 * on health transitions, not per request.
 *
 * Requests in flight: a pick counts one request on its target; the caller gives it back with
 * hp__balance_release() exactly once when the request is over (whatever its outcome, also for
 * a target that went out meanwhile). Every kind keeps the count; least_conn decides with it.
 *
 * Cost per request (pick + release): round robin O(1) (one read of a precomputed schedule);
 * least_conn O(log n) (a heap); hash O(key length + log ring) (one hash, one binary search).
 * None allocates: everything is sized at creation.
 *
 * "No target available" is HP__BALANCE_NONE (every target is out).
 *
 * Threading: a balancer belongs to one thread (each worker keeps its own): no locks, no
 * atomics. */
#ifndef HP_CORE_BALANCE_H
#define HP_CORE_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__BALANCE_NONE UINT32_MAX
#define HP__BALANCE_MAX_WEIGHT 100
#define HP__BALANCE_MAX_TARGETS 256
/* Virtual nodes on the hash ring per unit of weight. */
#define HP__BALANCE_HASH_NODES 64

typedef enum {
    HP__BALANCE_ROUND_ROBIN,
    HP__BALANCE_LEAST_CONN,
    HP__BALANCE_HASH,
} hp__balance_kind;

/* Why a target is out; any combination. */
enum {
    HP__BALANCE_OUT_HEALTH = 1u << 0,  /* active checks say KO */
    HP__BALANCE_OUT_PASSIVE = 1u << 1, /* max_fails within fail_timeout (passive.h) */
    HP__BALANCE_OUT_BREAKER = 1u << 2, /* the breaker admits nothing (breaker.h) */
};

typedef struct hp__balance_target {
    const char *id;  /* the target's address; NUL-terminated, copied; required for HASH */
    uint32_t weight; /* 1..HP__BALANCE_MAX_WEIGHT */
} hp__balance_target;

typedef struct hp__balance hp__balance;

/* A balancer over targets[0..n-1], every target in. HP_EINVAL (and *out NULL) when n is 0 or
 * over HP__BALANCE_MAX_TARGETS, a weight is out of range, or a HASH target has no id. The
 * caller owns the balancer (hp__balance_destroy); `targets` is not kept. */
int hp__balance_create(hp__balance_kind kind, const hp__balance_target *targets, uint32_t n,
                       hp__balance **out);
/* NULL: nothing. */
void hp__balance_destroy(hp__balance *b);

/* The target for the next request, counted in flight, or HP__BALANCE_NONE when every target
 * is out. `key` (key_len bytes, may be empty) is read by HASH only; the others ignore it. */
uint32_t hp__balance_pick(hp__balance *b, const void *key, size_t key_len);
/* The request picked on `target` is over. */
void hp__balance_release(hp__balance *b, uint32_t target);

/* Sets (out) or clears one reason bit for `target`. */
void hp__balance_set_out(hp__balance *b, uint32_t target, unsigned reason, bool out);
bool hp__balance_is_out(const hp__balance *b, uint32_t target);
/* Targets not out. */
uint32_t hp__balance_count_in(const hp__balance *b);
/* Requests in flight on `target` (picked, not released). */
uint32_t hp__balance_in_flight(const hp__balance *b, uint32_t target);

hp__balance_kind hp__balance_kind_of(const hp__balance *b);
/* "round_robin", "least_conn", "hash": the config's words (static strings). */
const char *hp__balance_kind_name(hp__balance_kind kind);

#endif
