/* The states of one rate limit's keys (src/core/rate_limit.h), shared by every worker: a
 * bounded map from key bytes (a client address, a header's value) to a GCRA state, in fixed
 * memory allocated once.
 *
 * Keys. At most HP__RATE_KEY_MAX (64) bytes are kept as they are. A longer key is kept as its
 * first 56 bytes followed by the 8 bytes of hp__hash64 (src/core/hash64.h) of the whole key,
 * marked long (so it never equals a 64-byte key): two long keys share a state only when they
 * agree on their first 56 bytes and on a 64-bit hash, which is not cryptographic: whoever
 * can read a long key (an API key) can make another one that collides with it, but could
 * then send the key itself.
 *
 * Layout. HP__RATE_TABLE_SHARDS (64) shards, chosen by the top 6 bits of a 64-bit hash of
 * the key's kept form and length (FNV-1a then fmix64, src/core/hash64.h); each is an
 * open-addressing table with linear probing (deletion by backward shift, no tombstones) under its
 * own mutex, its slots in one array allocated at create. A slot is HP__RATE_ENTRY_BYTES (96): the
 * hash (8), the state (16), the length (1), the key bytes (64), padding (7). A shard holds at most
 * 3/4 of its slots, so probes stay short: HP__RATE_BYTES_PER_KEY is 128 (nginx's limit_req also
 * uses 128 B a key). The memory budget covers everything: 64 shards of 128 B (a lock and the
 * counts, one apart from the next in cache lines) and a header of 40 B, the rest in slots. With the
 * default 10 MiB: 1,705 slots a shard, 1,278 keys a shard, 81,792 keys, 10,483,432 bytes.
 *
 * Forgetting. A key that is idle (rate_limit.h: its bucket full and not blocked) holds
 * nothing a fresh key does not, so forgetting it changes no decision. Idle keys stay where
 * they are until their room is needed: when a new key finds its shard at its bound, the
 * shard is swept (every idle key removed) and notes when its first live key will turn idle,
 * so it is not swept again before then.
 *
 * Full. When a shard is still at its bound after the sweep, every slot holds a key seen
 * within its limit's period, and a new key is refused (verdict HP__RATE_TABLE_FULL, the
 * server answers 503 as nginx's "limit_req zone full" does) with retry_after_ms the earliest
 * time one of the shard's keys may turn idle (one used since may stay longer); nothing is
 * stored for it. Keys already in the
 * table are decided as always. The other choice, evicting a live key, would let that key
 * (or a client owning many keys) through sooner than its limit says; refusing keeps every
 * promise made to keys already seen and turns the bound into an overload signal: a table
 * sized as above is full only when some 80,000 clients were active within one period.
 *
 * Cost of a check: one hash of the key, one uncontended lock in the common case (64 shards),
 * a probe of a few slots, the GCRA arithmetic; no allocation. A sweep (only at the bound)
 * reads every slot of one shard once and either frees a slot or finds when to try again;
 * until then a full shard refuses new keys at no cost. A check's now_ms may lag another
 * thread's by a little (each worker's cached loop time): GCRA takes max(TAT, now), so an
 * earlier now only makes the rate stricter (a block
 * set from it ends as many ms sooner).
 *
 * Threading: hp__rate_table_check and hp__rate_table_stored may be called from any thread at
 * once; create and destroy from one, with no check running. */
#ifndef HP_CORE_RATE_TABLE_H
#define HP_CORE_RATE_TABLE_H

#include "core/rate_limit.h"

#include <stddef.h>
#include <stdint.h>

#define HP__RATE_KEY_MAX 64
#define HP__RATE_TABLE_SHARDS 64
#define HP__RATE_ENTRY_BYTES 96
#define HP__RATE_BYTES_PER_KEY 128 /* a slot over the 3/4 bound */
#define HP__RATE_TABLE_DEFAULT_MEMORY ((size_t)10 << 20)
/* 4 slots (3 keys) a shard, and the shards and header. */
#define HP__RATE_TABLE_MIN_MEMORY                                                                  \
    ((size_t)HP__RATE_TABLE_SHARDS * (4 * HP__RATE_ENTRY_BYTES + 128) + 64)

typedef struct hp__rate_table hp__rate_table;

/* A table for one limit (the config must pass hp__rate_config_check and is copied) taking
 * at most memory_bytes (>= HP__RATE_TABLE_MIN_MEMORY), or NULL when either is wrong. */
hp__rate_table *hp__rate_table_create(const hp__rate_config *config, size_t memory_bytes);
/* NULL: no-op. */
void hp__rate_table_destroy(hp__rate_table *table);

/* The most keys it holds: 3/4 of the slots of each shard, summed. */
size_t hp__rate_table_max_keys(const hp__rate_table *table);
/* The bytes allocated for it: the slots, the shards and the header. */
size_t hp__rate_table_memory(const hp__rate_table *table);
/* The keys stored now, idle ones not yet swept included (each shard locked in turn). */
size_t hp__rate_table_stored(hp__rate_table *table);

/* Decides a request of `cost` (1..hp__rate_capacity) by key `key` (len bytes, any bytes) at
 * now_ms, as hp__rate_decide does with the key's state, or refuses it with
 * HP__RATE_TABLE_FULL (above). now_ms comes from one clock for the whole table. */
void hp__rate_table_check(hp__rate_table *table, const void *key, size_t len, uint64_t now_ms,
                          uint32_t cost, hp__rate_decision *decision);

#endif
