#include "ws/registry.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

void hp__ws_registry_init(hp__ws_registry *r)
{
    memset(r, 0, sizeof *r);
    uv_mutex_init(&r->lock);
}

void hp__ws_registry_close(hp__ws_registry *r)
{
    free(r->patterns);
    free(r->tangled);
    uv_mutex_destroy(&r->lock);
}

/* ---- the table of plain patterns and the tangled list (under the lock) ---------------- */

static void count_pattern(hp__ws_registry *r, const char *pattern, int delta)
{
    for (size_t i = 0; i < r->pattern_count; i++) {
        hp__ws_pattern_count *c = &r->patterns[i];
        if (strcmp(c->pattern, pattern) != 0) continue;
        c->plain += (size_t)delta;
        if (c->plain == 0) {
            free(c->pattern);
            *c = r->patterns[--r->pattern_count];
        }
        return;
    }
    if (r->pattern_count == r->pattern_cap) {
        r->pattern_cap = r->pattern_cap ? 2 * r->pattern_cap : 8;
        r->patterns = hp__realloc(r->patterns, r->pattern_cap * sizeof *r->patterns);
    }
    r->patterns[r->pattern_count++] = (hp__ws_pattern_count){hp__strdup(pattern), 1};
}

static void count_entry(hp__ws_registry *r, hp__ws_entry *e, int delta)
{
    if (!e->tangled) {
        for (unsigned i = 0; i < e->pattern_count; i++) count_pattern(r, e->patterns[i], delta);
        return;
    }
    if (delta > 0) {
        if (r->tangled_count == r->tangled_cap) {
            r->tangled_cap = r->tangled_cap ? 2 * r->tangled_cap : 8;
            r->tangled = hp__realloc(r->tangled, r->tangled_cap * sizeof *r->tangled);
        }
        r->tangled[r->tangled_count++] = e;
        return;
    }
    for (size_t i = 0; i < r->tangled_count; i++)
        if (r->tangled[i] == e) {
            r->tangled[i] = r->tangled[--r->tangled_count];
            return;
        }
}

static bool any_overlap(const hp__ws_entry *e)
{
    for (unsigned i = 0; i < e->pattern_count; i++)
        for (unsigned j = i + 1; j < e->pattern_count; j++)
            if (hp__topic_patterns_overlap(e->patterns[i], e->patterns[j])) return true;
    return false;
}

/* Puts `e` back in the counts (it was taken out before its patterns changed), as plain or
 * tangled, and keeps its worker's count of subscribed entries. */
static void recount(hp__ws_registry *r, hp__ws_entry *e, bool had_patterns)
{
    e->tangled = any_overlap(e);
    count_entry(r, e, +1);
    bool has = e->pattern_count > 0;
    if (has && !had_patterns) r->subscribed[e->worker]++;
    if (!has && had_patterns) r->subscribed[e->worker]--;
}

/* ---- entries ---------------------------------------------------------------------------- */

void hp__ws_registry_open(hp__ws_registry *r, hp__ws_entry *e, void *conn, uint64_t id,
                          unsigned worker, const char *client, uint64_t since_ms)
{
    e->id = id;
    e->worker = worker;
    e->conn = conn;
    e->client = client ? client : "";
    e->since_ms = since_ms;
    uv_mutex_lock(&r->lock);
    e->next = NULL;
    e->prev = r->tail;
    if (r->tail)
        r->tail->next = e;
    else
        r->head = e;
    r->tail = e;
    r->count++;
    uv_mutex_unlock(&r->lock);
}

void hp__ws_registry_remove(hp__ws_registry *r, hp__ws_entry *e)
{
    uv_mutex_lock(&r->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        r->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        r->tail = e->prev;
    r->count--;
    count_entry(r, e, -1);
    if (e->pattern_count) r->subscribed[e->worker]--;
    uv_mutex_unlock(&r->lock);
    for (unsigned i = 0; i < e->pattern_count; i++) free(e->patterns[i]);
    free(e->patterns);
    e->patterns = NULL;
    e->pattern_count = e->pattern_cap = 0;
    free(e->name);
    e->name = NULL;
    e->client = NULL;
}

static int find_pattern(const hp__ws_entry *e, const char *pattern)
{
    for (unsigned i = 0; i < e->pattern_count; i++)
        if (strcmp(e->patterns[i], pattern) == 0) return (int)i;
    return -1;
}

int hp__ws_registry_subscribe(hp__ws_registry *r, hp__ws_entry *e, const char *pattern)
{
    if (find_pattern(e, pattern) >= 0) return HP_EEXISTS; /* only e's worker writes them */
    if (e->pattern_count == HP__WS_MAX_SUBSCRIPTIONS) return HP_ELIMIT;
    char *copy = hp__strdup(pattern);
    uv_mutex_lock(&r->lock);
    if (e->pattern_count == e->pattern_cap) { /* readers hold the lock: the array may move */
        e->pattern_cap = e->pattern_cap ? 2 * e->pattern_cap : 4;
        e->patterns = hp__realloc(e->patterns, e->pattern_cap * sizeof *e->patterns);
    }
    bool had = e->pattern_count > 0;
    count_entry(r, e, -1);
    e->patterns[e->pattern_count++] = copy;
    recount(r, e, had);
    uv_mutex_unlock(&r->lock);
    return 0;
}

int hp__ws_registry_unsubscribe(hp__ws_registry *r, hp__ws_entry *e, const char *pattern)
{
    int i = find_pattern(e, pattern);
    if (i < 0) return HP_ENOTFOUND;
    char *gone = e->patterns[i];
    uv_mutex_lock(&r->lock);
    count_entry(r, e, -1);
    /* Keep the order of subscription (what GET connections shows). */
    memmove(&e->patterns[i], &e->patterns[i + 1],
            (e->pattern_count - (unsigned)i - 1) * sizeof e->patterns[0]);
    e->pattern_count--;
    recount(r, e, true);
    uv_mutex_unlock(&r->lock);
    free(gone);
    return 0;
}

int hp__ws_registry_join(hp__ws_registry *r, hp__ws_entry *e, const char *name)
{
    int rc = 0;
    char *copy = hp__strdup(name), *old = NULL;
    uv_mutex_lock(&r->lock);
    for (hp__ws_entry *o = r->head; o && rc == 0; o = o->next)
        if (o != e && o->name && strcmp(o->name, name) == 0) rc = HP_EEXISTS;
    if (rc == 0) {
        old = e->name;
        e->name = copy;
        copy = NULL;
    }
    uv_mutex_unlock(&r->lock);
    free(copy);
    free(old);
    return rc;
}

size_t hp__ws_registry_reach(hp__ws_registry *r, const char *topic, uint64_t *workers)
{
    size_t n = 0;
    uint64_t mask = 0;
    uv_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->pattern_count; i++)
        if (hp__topic_match(r->patterns[i].pattern, topic)) n += r->patterns[i].plain;
    for (size_t i = 0; i < r->tangled_count; i++) {
        const hp__ws_entry *e = r->tangled[i];
        for (unsigned p = 0; p < e->pattern_count; p++)
            if (hp__topic_match(e->patterns[p], topic)) {
                n++;
                break;
            }
    }
    for (unsigned w = 0; w < HP_MAX_WORKERS; w++)
        if (r->subscribed[w]) mask |= UINT64_C(1) << w;
    uv_mutex_unlock(&r->lock);
    if (workers) *workers = mask;
    return n;
}

void hp__ws_registry_each(hp__ws_registry *r, void (*fn)(const hp__ws_entry *e, void *data),
                          void *data)
{
    uv_mutex_lock(&r->lock);
    for (hp__ws_entry *e = r->head; e; e = e->next) fn(e, data);
    uv_mutex_unlock(&r->lock);
}

bool hp__ws_registry_find(hp__ws_registry *r, uint64_t id, unsigned *worker, void **conn)
{
    bool found = false;
    uv_mutex_lock(&r->lock);
    for (hp__ws_entry *e = r->head; e && !found; e = e->next)
        if (e->id == id) {
            *worker = e->worker;
            *conn = e->conn;
            found = true;
        }
    uv_mutex_unlock(&r->lock);
    return found;
}
