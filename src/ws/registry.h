/* The registry of a WebSocket handler: its connections, their names and subscriptions, as one
 * consistent view for any thread.
 *
 * Each connection has an entry (embedded in the hub's member, ws/hub.h), added when it opens
 * and removed when it closes. One mutex guards every entry's shared fields and the tables
 * below; it is taken on open, close, join, subscribe and unsubscribe, once per publish (to
 * count the connections a topic reaches), and by a reader (the control thread's
 * GET /servers/{name}/connections), never per delivered message. Why a mutex rather than a
 * command posted to every worker: the admin API answers at once from one consistent view,
 * and a publisher on any thread can count its audience without a round trip; these
 * operations are rare next to messages.
 *
 * Counting a publish's audience exactly once per connection: a connection whose patterns
 * cannot match a common topic ("plain": `chat.a` and `presence`) is reached through at most
 * one of them, so per distinct pattern the registry keeps how many plain connections hold it
 * and adds up those that match; a connection with overlapping patterns ("tangled": `chat.*`
 * and `chat.**`, hp__topic_patterns_overlap) is counted on its own. A publish costs one pass
 * over the distinct patterns and the tangled connections, whatever the connection count.
 *
 * Names (`join`) are unique among the handler's connections; a connection's name is freed
 * when it closes. */
#ifndef HP_WS_REGISTRY_H
#define HP_WS_REGISTRY_H

#include "hostpool/request.h" /* HP_MAX_WORKERS */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HP__WS_MAX_SUBSCRIPTIONS 64

typedef struct hp__ws_entry {
    struct hp__ws_entry *prev, *next; /* the registry's list, oldest first */
    uint64_t id;
    unsigned worker;    /* the index of the worker the connection runs on */
    void *conn;         /* the connection (opaque here) */
    const char *client; /* its client address (borrowed: the connection's, outlives the entry) */
    uint64_t since_ms;  /* when it opened, Unix time in milliseconds */
    char *name;         /* its joined name, or NULL */
    char **patterns;    /* in subscription order; NULL until the first (an idle connection that
                         * subscribes to nothing keeps no array) */
    unsigned pattern_count, pattern_cap;
    bool tangled; /* two of its patterns overlap: counted alone, not in the pattern table */
} hp__ws_entry;

typedef struct hp__ws_pattern_count {
    char *pattern;
    size_t plain; /* plain entries holding it (> 0: an entry at 0 is removed) */
} hp__ws_pattern_count;

typedef struct hp__ws_registry {
    uv_mutex_t lock;
    hp__ws_entry *head, *tail;
    size_t count;
    hp__ws_pattern_count *patterns; /* distinct patterns of plain entries */
    size_t pattern_count, pattern_cap;
    hp__ws_entry **tangled;
    size_t tangled_count, tangled_cap;
    unsigned subscribed[HP_MAX_WORKERS]; /* per worker index: entries with at least one pattern */
} hp__ws_registry;

void hp__ws_registry_init(hp__ws_registry *r);
/* Every entry must have been closed. */
void hp__ws_registry_close(hp__ws_registry *r);

/* Adds `e` (the caller's memory, zeroed) for a connection. `client` is borrowed until
 * hp__ws_registry_remove. */
void hp__ws_registry_open(hp__ws_registry *r, hp__ws_entry *e, void *conn, uint64_t id,
                          unsigned worker, const char *client, uint64_t since_ms);
/* Removes `e`, its name and its patterns; frees what it holds (not `e` itself). */
void hp__ws_registry_remove(hp__ws_registry *r, hp__ws_entry *e);

/* `pattern` (valid) is copied. HP_EEXISTS when `e` holds it already, HP_ELIMIT past
 * HP__WS_MAX_SUBSCRIPTIONS. */
int hp__ws_registry_subscribe(hp__ws_registry *r, hp__ws_entry *e, const char *pattern);
/* HP_ENOTFOUND when `e` does not hold it. */
int hp__ws_registry_unsubscribe(hp__ws_registry *r, hp__ws_entry *e, const char *pattern);

/* Gives `e` the name (copied; its previous one is freed). HP_EEXISTS when another entry has
 * it (nothing changes). Joining again under one's own name is 0. */
int hp__ws_registry_join(hp__ws_registry *r, hp__ws_entry *e, const char *name);

/* How many entries a publish on `topic` reaches, each once; `*workers` gets a bit per worker
 * index with at least one subscribed entry. */
size_t hp__ws_registry_reach(hp__ws_registry *r, const char *topic, uint64_t *workers);

/* Calls fn(e, data) for every entry, oldest first, under the lock: `e` and its connection
 * stay open during the call (a connection closes through hp__ws_registry_remove). `fn` must
 * not call the registry. */
void hp__ws_registry_each(hp__ws_registry *r, void (*fn)(const hp__ws_entry *e, void *data),
                          void *data);

/* The worker index and connection of the entry `id` (false when none is open). A connection
 * read this way may be used only on its own worker (where it cannot close meanwhile). */
bool hp__ws_registry_find(hp__ws_registry *r, uint64_t id, unsigned *worker, void **conn);

#endif
