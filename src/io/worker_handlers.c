#include "io/worker_handlers.h"

#include "io/worker_context.h"

#include "common/alloc.h"

#include <stdlib.h>

/* ---- a table keyed by address --------------------------------------------------------------- */

static size_t slot_of(const hp__worker_table *t, const void *key)
{
    return (size_t)(((uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15u) >> (64 - t->bits));
}

static hp__worker_record *table_find(const hp__worker_table *t, const void *key)
{
    if (t->count == 0) return NULL;
    size_t mask = ((size_t)1 << t->bits) - 1;
    for (size_t i = slot_of(t, key);; i = (i + 1) & mask) {
        if (t->slots[i].key == key) return &t->slots[i];
        if (!t->slots[i].key) return NULL;
    }
}

static hp__worker_record *table_insert(hp__worker_table *t, const void *key);

/* Doubles the table (8 slots at first), so it stays at most half full. */
static void table_grow(hp__worker_table *t)
{
    hp__worker_table old = *t;
    t->bits = old.bits ? old.bits + 1 : 3;
    t->slots = hp__calloc((size_t)1 << t->bits, sizeof *t->slots);
    t->count = 0;
    for (size_t i = 0; old.bits && i < (size_t)1 << old.bits; i++)
        if (old.slots[i].key) *table_insert(t, old.slots[i].key) = old.slots[i];
    free(old.slots);
}

/* A new record for `key` (not in the table), zeroed but for the key. */
static hp__worker_record *table_insert(hp__worker_table *t, const void *key)
{
    if (2 * (t->count + 1) > ((size_t)1 << t->bits)) table_grow(t);
    size_t mask = ((size_t)1 << t->bits) - 1;
    size_t i = slot_of(t, key);
    while (t->slots[i].key) i = (i + 1) & mask;
    t->slots[i] = (hp__worker_record){.key = key};
    t->count++;
    return &t->slots[i];
}

/* Removes `r` and moves back the records after it that probed past its slot (linear probing
 * needs no tombstones then). */
static void table_remove(hp__worker_table *t, hp__worker_record *r)
{
    size_t mask = ((size_t)1 << t->bits) - 1;
    size_t hole = (size_t)(r - t->slots);
    t->slots[hole].key = NULL;
    t->count--;
    for (size_t i = (hole + 1) & mask; t->slots[i].key; i = (i + 1) & mask) {
        size_t home = slot_of(t, t->slots[i].key);
        /* `i` may fill the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays) continue;
        t->slots[hole] = t->slots[i];
        t->slots[i].key = NULL;
        hole = i;
    }
}

static void table_close(hp__worker_table *t)
{
    free(t->slots);
    *t = (hp__worker_table){0};
}

/* ---- handlers ------------------------------------------------------------------------------- */

static void acquire(hp__worker_handlers *wh, hp_worker *w, hp_handler *h)
{
    hp__worker_record *r = table_find(&wh->handlers, h);
    if (r) {
        r->users++;
        return;
    }
    void *data = h->vt->worker_start ? h->vt->worker_start(h, w) : NULL;
    r = table_insert(&wh->handlers, h); /* after start: it may not reach back for its data */
    r->data = data;
    r->users = 1;
}

static void stop(hp_worker *w, hp_handler *h, void *data)
{
    if (h->vt->worker_stop) h->vt->worker_stop(h, w, data);
}

static void release(hp__worker_handlers *wh, hp_worker *w, hp_handler *h)
{
    hp__worker_record *r = table_find(&wh->handlers, h);
    if (--r->users > 0) return;
    void *data = r->data;
    table_remove(&wh->handlers, r);
    stop(w, h, data);
}

static void drain(hp__worker_handlers *wh, hp_worker *w, hp_handler *h)
{
    hp__worker_record *r = table_find(&wh->handlers, h);
    if (h->vt->worker_drain) h->vt->worker_drain(h, w, r->data);
}

typedef void (*handler_fn)(hp__worker_handlers *wh, hp_worker *w, hp_handler *h);

/* fn for each hooked handler of `server`, routes first, then its default. */
static void each_handler(hp__worker_handlers *wh, hp_worker *w, const hp_server *server,
                         handler_fn fn)
{
    for (size_t i = 0; i < server->route_count; i++)
        if (hp__handler_hooked(server->routes[i].handler)) fn(wh, w, server->routes[i].handler);
    if (hp__handler_hooked(server->fallback)) fn(wh, w, server->fallback);
}

void hp__worker_handlers_init(hp__worker_handlers *wh)
{
    *wh = (hp__worker_handlers){0};
}

void hp__worker_handlers_add_server(hp_worker *w, const hp_server *server)
{
    hp__worker_handlers *wh = &w->handlers;
    if (!server->worker_hooks || table_find(&wh->servers, server)) return;
    table_insert(&wh->servers, server)->users = 1;
    each_handler(wh, w, server, acquire);
}

void hp__worker_handlers_drain_server(hp_worker *w, const hp_server *server)
{
    hp__worker_handlers *wh = &w->handlers;
    if (table_find(&wh->servers, server)) each_handler(wh, w, server, drain);
}

void hp__worker_handlers_remove_server(hp_worker *w, const hp_server *server)
{
    hp__worker_handlers *wh = &w->handlers;
    hp__worker_record *r = table_find(&wh->servers, server);
    if (!r) return;
    table_remove(&wh->servers, r);
    each_handler(wh, w, server, release);
}

void hp__worker_handlers_drain_all(hp_worker *w)
{
    hp__worker_handlers *wh = &w->handlers;
    for (size_t i = 0; wh->handlers.bits && i < (size_t)1 << wh->handlers.bits; i++) {
        hp__worker_record *r = &wh->handlers.slots[i];
        hp_handler *h = (hp_handler *)r->key;
        if (h && h->vt->worker_drain) h->vt->worker_drain(h, w, r->data);
    }
}

void hp__worker_handlers_close(hp_worker *w)
{
    hp__worker_handlers *wh = &w->handlers;
    for (size_t i = 0; wh->handlers.bits && i < (size_t)1 << wh->handlers.bits; i++) {
        hp__worker_record *r = &wh->handlers.slots[i];
        if (r->key) stop(w, (hp_handler *)r->key, r->data);
    }
    table_close(&wh->handlers);
    table_close(&wh->servers);
}

void *hp__worker_handlers_data(const hp__worker_handlers *wh, const hp_handler *handler)
{
    hp__worker_record *r = table_find(&wh->handlers, handler);
    return r ? r->data : NULL;
}
