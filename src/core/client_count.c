/* See client_count.h. */
#include "core/client_count.h"

#include "common/alloc.h"
#include "core/hash64.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint32_t count; /* 0: empty */
    uint8_t len;
    uint8_t addr[HP__CLIENT_ADDR_MAX];
} slot;

typedef struct shard {
    pthread_mutex_t lock;
    size_t used, max_used;
    slot *slots;
} shard;

struct hp__client_count {
    size_t slots_per_shard;
    shard shards[HP__CLIENT_COUNT_SHARDS];
};

hp__client_count *hp__client_count_create(size_t max_clients)
{
    hp__client_count *t = HP_NEW(hp__client_count);
    size_t per_shard = (max_clients + HP__CLIENT_COUNT_SHARDS - 1) / HP__CLIENT_COUNT_SHARDS;
    t->slots_per_shard = per_shard + per_shard / 3 + 1; /* at most 3/4 used */
    for (size_t i = 0; i < HP__CLIENT_COUNT_SHARDS; i++) {
        shard *s = &t->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->max_used = per_shard;
        s->slots = hp__calloc(t->slots_per_shard, sizeof *s->slots);
    }
    return t;
}

void hp__client_count_destroy(hp__client_count *t)
{
    if (!t) return;
    for (size_t i = 0; i < HP__CLIENT_COUNT_SHARDS; i++) {
        pthread_mutex_destroy(&t->shards[i].lock);
        free(t->shards[i].slots);
    }
    free(t);
}

/* The shard of the address (top 6 bits) and its first slot there. */
static shard *locate(hp__client_count *t, const void *addr, size_t len, size_t *home)
{
    uint64_t h = hp__hash64(addr, len);
    *home = (size_t)(h % t->slots_per_shard);
    return &t->shards[h >> 58];
}

/* The slot holding the address, or the empty slot where it would go. */
static size_t probe(const hp__client_count *t, const shard *s, size_t i, const void *addr,
                    size_t len)
{
    while (s->slots[i].count &&
           !(s->slots[i].len == len && memcmp(s->slots[i].addr, addr, len) == 0))
        i = (i + 1) % t->slots_per_shard;
    return i;
}

bool hp__client_count_enter(hp__client_count *t, const void *addr, size_t len, uint32_t cap)
{
    assert(len >= 1 && len <= HP__CLIENT_ADDR_MAX && cap >= 1);
    size_t home;
    shard *s = locate(t, addr, len, &home);
    pthread_mutex_lock(&s->lock);
    slot *e = &s->slots[probe(t, s, home, addr, len)];
    bool admitted = e->count ? e->count < cap : s->used < s->max_used;
    if (admitted && !e->count) {
        s->used++;
        e->len = (uint8_t)len;
        memcpy(e->addr, addr, len);
    }
    if (admitted) e->count++;
    pthread_mutex_unlock(&s->lock);
    return admitted;
}

/* Empties slot i and shifts back the entries after it that probed past it. */
static void remove_at(const hp__client_count *t, shard *s, size_t i)
{
    size_t n = t->slots_per_shard;
    for (size_t j = (i + 1) % n; s->slots[j].count; j = (j + 1) % n) {
        size_t want = (size_t)(hp__hash64(s->slots[j].addr, s->slots[j].len) % n);
        /* j may move to i when its home is not within (i, j], cyclically. */
        bool stays = i <= j ? (want > i && want <= j) : (want > i || want <= j);
        if (stays) continue;
        s->slots[i] = s->slots[j];
        i = j;
    }
    s->slots[i].count = 0;
    s->used--;
}

void hp__client_count_leave(hp__client_count *t, const void *addr, size_t len)
{
    size_t home;
    shard *s = locate(t, addr, len, &home);
    pthread_mutex_lock(&s->lock);
    size_t i = probe(t, s, home, addr, len);
    assert(s->slots[i].count > 0);
    if (--s->slots[i].count == 0) remove_at(t, s, i);
    pthread_mutex_unlock(&s->lock);
}

uint32_t hp__client_count_of(hp__client_count *t, const void *addr, size_t len)
{
    size_t home;
    shard *s = locate(t, addr, len, &home);
    pthread_mutex_lock(&s->lock);
    uint32_t n = s->slots[probe(t, s, home, addr, len)].count;
    pthread_mutex_unlock(&s->lock);
    return n;
}
