/* The open connections of each client address across every worker of an engine, for
 * limits.max_connections_per_client: a bounded map from an address (4 or 16 bytes) to its
 * count, in fixed memory allocated once.
 *
 * Layout: HP__CLIENT_COUNT_SHARDS (64) shards, chosen by the top bits of hp__hash64 of the
 * address; each an open-addressing table with linear probing (deletion by backward shift, no
 * tombstones) under its own mutex, holding at most 3/4 of its slots. A slot is 24 bytes (the
 * address, its length, the count); an entry exists only while its count is above 0, so the
 * table holds the addresses with an open connection, no more.
 *
 * Full: a new address whose shard holds its bound is refused (as over its cap): the table
 * is sized for HP__CLIENT_COUNT_DEFAULT_MAX (65,536) distinct addresses with connections open
 * at once (2 MiB), more than the default per-worker max_connections lets in.
 *
 * Threading: enter and leave from any thread at once (one shard lock each); create and
 * destroy from one, with no other call running. */
#ifndef HP_CORE_CLIENT_COUNT_H
#define HP_CORE_CLIENT_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__CLIENT_COUNT_SHARDS 64
#define HP__CLIENT_ADDR_MAX 16
#define HP__CLIENT_COUNT_DEFAULT_MAX 65536

typedef struct hp__client_count hp__client_count;

/* A table for at least max_clients addresses (>= 1). */
hp__client_count *hp__client_count_create(size_t max_clients);
/* NULL: no-op. */
void hp__client_count_destroy(hp__client_count *table);

/* Counts one more connection of `addr` (len 1..HP__CLIENT_ADDR_MAX bytes) unless it has `cap`
 * (>= 1) already or its shard is full: false then, and nothing changed. */
bool hp__client_count_enter(hp__client_count *table, const void *addr, size_t len, uint32_t cap);
/* One connection of `addr`, entered before, closed; the entry goes at 0. */
void hp__client_count_leave(hp__client_count *table, const void *addr, size_t len);
/* The connections of `addr` counted now. */
uint32_t hp__client_count_of(hp__client_count *table, const void *addr, size_t len);

#endif
