/* See rate_table.h for the key form, the layout, forgetting and the full table.
 *
 * Invariants of a shard, under its lock: `used` slots have a non-zero hash and hold distinct
 * keys; every key lies on the probe run from its home slot with no empty slot before it
 * (linear probing, kept by the backward-shift deletion); used <= max_used; no key turns idle
 * before `sweep_after` (ms): a sweep sets it to the first time a key left turns idle, a key
 * stored since lowers it to its own (a key's idle time only moves later as it is used). So a
 * full shard with now < sweep_after has nothing to sweep, and each sweep either frees a slot
 * or moves sweep_after past now. */
#include "core/rate_table.h"

#include "common/alloc.h"
#include "core/hash64.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_KEY_PREFIX (HP__RATE_KEY_MAX - 8) /* a long key's bytes kept before its hash */
#define LONG_KEY_LENGTH (HP__RATE_KEY_MAX + 1)  /* the length a long key is marked with */

typedef struct entry {
    uint64_t hash; /* 0: an empty slot */
    hp__rate_state state;
    uint8_t len; /* <= HP__RATE_KEY_MAX, or LONG_KEY_LENGTH */
    uint8_t key[HP__RATE_KEY_MAX];
} entry;

_Static_assert(sizeof(entry) == HP__RATE_ENTRY_BYTES, "a slot's size is documented");

/* Padded to 128 bytes: its fields take 72, so at any 8-byte alignment of the array two
 * shards' fields never share a 64-byte cache line. */
typedef union shard {
    struct {
        pthread_mutex_t lock;
        uint32_t slots, used, max_used;
        uint64_t sweep_after; /* ms: no key turns idle before, so sweeping earlier is vain */
        entry *entries;
    };
    char pad[128];
} shard;

_Static_assert(sizeof(shard) == 128, "a shard's fields fit in its 128 bytes");

struct hp__rate_table {
    hp__rate_config config;
    size_t memory;
    entry *entries; /* every shard's slots, one allocation */
    shard shards[HP__RATE_TABLE_SHARDS];
};

_Static_assert(sizeof(hp__rate_table) <= HP__RATE_TABLE_SHARDS * sizeof(shard) + 64,
               "HP__RATE_TABLE_MIN_MEMORY leaves 4 slots a shard");

/* The stored form of a key. */
typedef struct key_form {
    uint64_t hash;
    uint8_t len;
    uint8_t bytes[HP__RATE_KEY_MAX];
} key_form;

static void key_form_of(key_form *form, const void *key, size_t len)
{
    size_t kept = len;
    if (len > HP__RATE_KEY_MAX) {
        uint64_t digest = hp__hash64(key, len);
        memcpy(form->bytes, key, SHORT_KEY_PREFIX);
        memcpy(form->bytes + SHORT_KEY_PREFIX, &digest, sizeof digest);
        form->len = LONG_KEY_LENGTH;
        kept = HP__RATE_KEY_MAX;
    } else {
        if (len) memcpy(form->bytes, key, len);
        form->len = (uint8_t)len;
    }
    form->hash = hp__hash64_mix(hp__fnv1a64(form->bytes, kept) ^ form->len);
    if (form->hash == 0) form->hash = 1;
}

static size_t stored_bytes(uint8_t len)
{
    return len == LONG_KEY_LENGTH ? HP__RATE_KEY_MAX : len;
}

static bool same_key(const entry *e, const key_form *form)
{
    return e->hash == form->hash && e->len == form->len &&
           memcmp(e->key, form->bytes, stored_bytes(form->len)) == 0;
}

static shard *shard_of(hp__rate_table *table, uint64_t hash)
{
    return &table->shards[hash >> 58];
}

static uint32_t home_of(const shard *s, uint64_t hash)
{
    return (uint32_t)(((hash & 0xffffffffu) * s->slots) >> 32);
}

static uint32_t next_slot(const shard *s, uint32_t i)
{
    return i + 1 == s->slots ? 0 : i + 1;
}

hp__rate_table *hp__rate_table_create(const hp__rate_config *config, size_t memory_bytes)
{
    if (hp__rate_config_check(config) || memory_bytes < HP__RATE_TABLE_MIN_MEMORY) return NULL;
    size_t slots = (memory_bytes - sizeof(hp__rate_table)) / HP__RATE_TABLE_SHARDS / sizeof(entry);
    if (slots > UINT32_MAX) slots = UINT32_MAX;
    hp__rate_table *table = HP_NEW(hp__rate_table);
    table->config = *config;
    table->entries = hp__calloc(slots * HP__RATE_TABLE_SHARDS, sizeof(entry));
    table->memory = sizeof *table + slots * HP__RATE_TABLE_SHARDS * sizeof(entry);
    for (size_t i = 0; i < HP__RATE_TABLE_SHARDS; i++) {
        shard *s = &table->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->slots = (uint32_t)slots;
        s->max_used = (uint32_t)(slots * 3 / 4);
        s->entries = table->entries + i * slots;
    }
    return table;
}

void hp__rate_table_destroy(hp__rate_table *table)
{
    if (!table) return;
    for (size_t i = 0; i < HP__RATE_TABLE_SHARDS; i++)
        pthread_mutex_destroy(&table->shards[i].lock);
    free(table->entries);
    free(table);
}

size_t hp__rate_table_max_keys(const hp__rate_table *table)
{
    return (size_t)table->shards[0].max_used * HP__RATE_TABLE_SHARDS;
}

size_t hp__rate_table_memory(const hp__rate_table *table)
{
    return table->memory;
}

size_t hp__rate_table_stored(hp__rate_table *table)
{
    size_t stored = 0;
    for (size_t i = 0; i < HP__RATE_TABLE_SHARDS; i++) {
        shard *s = &table->shards[i];
        pthread_mutex_lock(&s->lock);
        stored += s->used;
        pthread_mutex_unlock(&s->lock);
    }
    return stored;
}

/* The slot holding the key, or the empty slot that ends its probe run. */
static entry *find(shard *s, const key_form *form)
{
    for (uint32_t i = home_of(s, form->hash);; i = next_slot(s, i)) {
        entry *e = &s->entries[i];
        if (e->hash == 0 || same_key(e, form)) return e;
    }
}

/* Empties slot `hole` and moves back the keys of its run that may fill it (Knuth's
 * algorithm R), so every key stays reachable from its home. */
static void remove_at(shard *s, uint32_t hole)
{
    for (uint32_t j = next_slot(s, hole);; j = next_slot(s, j)) {
        entry *e = &s->entries[j];
        if (e->hash == 0) break;
        uint32_t home = home_of(s, e->hash);
        /* The key at j may move to the hole unless its home lies cyclically in (hole, j]. */
        bool home_between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (home_between) continue;
        s->entries[hole] = *e;
        hole = j;
    }
    s->entries[hole] = (entry){0};
    s->used--;
}

/* Removes every idle key and notes when the first live one turns idle. A removal moves keys
 * only into the slot being looked at or later ones, so each key is looked at, perhaps twice. */
static void sweep(shard *s, uint64_t now_ms, const hp__rate_config *config)
{
    uint64_t first_idle = UINT64_MAX;
    for (uint32_t i = 0; i < s->slots;) {
        entry *e = &s->entries[i];
        if (e->hash == 0) {
            i++;
            continue;
        }
        uint64_t idle_at = hp__rate_state_idle_at(&e->state, config);
        if (idle_at <= now_ms) {
            remove_at(s, i);
            continue;
        }
        if (idle_at < first_idle) first_idle = idle_at;
        i++;
    }
    s->sweep_after = first_idle;
}

/* The slot for a key not in the shard, or NULL when the shard is full of live keys. */
static entry *room_for(shard *s, const key_form *form, entry *empty, uint64_t now_ms,
                       const hp__rate_config *config)
{
    if (s->used < s->max_used) return empty;
    if (now_ms < s->sweep_after) return NULL;
    sweep(s, now_ms, config);
    if (s->used == s->max_used) return NULL;
    return find(s, form);
}

static void store(shard *s, entry *e, const key_form *form)
{
    *e = (entry){.hash = form->hash, .len = form->len};
    memcpy(e->key, form->bytes, stored_bytes(form->len));
    s->used++;
}

void hp__rate_table_check(hp__rate_table *table, const void *key, size_t len, uint64_t now_ms,
                          uint32_t cost, hp__rate_decision *decision)
{
    key_form form;
    key_form_of(&form, key, len);
    shard *s = shard_of(table, form.hash);
    pthread_mutex_lock(&s->lock);
    entry *e = find(s, &form);
    if (e->hash == 0) {
        e = room_for(s, &form, e, now_ms, &table->config);
        if (!e) {
            *decision = (hp__rate_decision){
                .verdict = HP__RATE_TABLE_FULL,
                .retry_after_ms = s->sweep_after - now_ms,
            };
            pthread_mutex_unlock(&s->lock);
            return;
        }
        store(s, e, &form);
        hp__rate_decide(&e->state, now_ms, &table->config, cost, decision);
        uint64_t idle_at = hp__rate_state_idle_at(&e->state, &table->config);
        if (idle_at < s->sweep_after) s->sweep_after = idle_at;
    } else {
        hp__rate_decide(&e->state, now_ms, &table->config, cost, decision);
    }
    pthread_mutex_unlock(&s->lock);
}
