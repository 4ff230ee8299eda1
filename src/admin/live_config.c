#include "admin/live_config.h"

#include "common/alloc.h"
#include "config/config_basic_auth.h"
#include "hostpool/errors.h"
#include "pool/pool_internal.h"
#include "upstream/upstreams.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many callers may wait for the queued file reload (SIGHUP is one, however often sent;
 * each waiting POST /reload is one). */
#define MAX_WAITERS 64

typedef struct waiter {
    hp__reload_cb cb;
    void *data;
} waiter;

typedef struct waiters {
    size_t count;
    waiter items[MAX_WAITERS];
} waiters;

/* One server of the running document: its checked JSON as canonical text (compact, keys
 * sorted). Text, not a jansson tree: a tree costs about 1.3 KiB per server where the text takes
 * about 100 B, and a pool of 10,000 servers keeps 10,000 of them (docs/PERFORMANCE.md). */
typedef struct doc_server {
    char *name;
    char *json;
} doc_server;

/* A document's servers, in its order. */
typedef struct doc_servers {
    doc_server *items;
    size_t count, cap;
    bool listed; /* the document has a "servers" key (else GET /config shows none) */
} doc_servers;

struct hp__live_config {
    hp_pool *pool;
    char *path;
    char *self_name;
    /* The command line's admin.listen and admin.token_file (run --admin, --token-file), or
     * NULL: they replace the file's on every reload; the file's own are checked as keys. */
    char *admin_listen, *admin_token_file;
    hp__config *config; /* its servers are dropped once the pool has them */
    json_t *doc;        /* the document but its "servers" */
    doc_servers servers;
    bool busy; /* a reload is under way */
    /* File reloads asked for while busy: one reload of the file, run when the current one has
     * called back, that calls each of them back. */
    waiters queued;
};

static char *canonical_text(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text) abort(); /* jansson fails here only out of memory: common/alloc.h's policy */
    return text;
}

static void servers_close(doc_servers *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].json);
    }
    free(list->items);
    *list = (doc_servers){0};
}

/* The index of server `name` in `list`, or -1. */
static long find_server(const doc_servers *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0) return (long)i;
    return -1;
}

static const char *name_of(const json_t *server)
{
    const char *name = json_string_value(json_object_get(server, "name"));
    return name ? name : ""; /* a checked server always has one */
}

static void servers_put(doc_servers *list, const json_t *server)
{
    const char *name = name_of(server);
    long i = find_server(list, name);
    if (i >= 0) {
        free(list->items[i].json);
        list->items[i].json = canonical_text(server);
        return;
    }
    if (list->count == list->cap) {
        list->cap = list->cap ? 2 * list->cap : 16;
        list->items = hp__realloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->count++] = (doc_server){hp__strdup(name), canonical_text(server)};
}

/* Takes `doc`'s "servers" out of it into `list`. */
static void servers_take(json_t *doc, doc_servers *list)
{
    *list = (doc_servers){0};
    json_t *servers = json_object_get(doc, "servers");
    list->listed = servers != NULL;
    size_t i;
    json_t *server;
    json_array_foreach(servers, i, server) servers_put(list, server);
    json_object_del(doc, "servers");
}

hp__live_config *hp__live_config_create(hp_pool *pool, const char *path, const char *self_name,
                                        hp__config *config, json_t *doc)
{
    hp__live_config *live = HP_NEW(hp__live_config);
    live->pool = pool;
    live->path = hp__strdup(path);
    live->self_name = hp__strdup(self_name);
    live->config = config;
    live->doc = doc;
    servers_take(doc, &live->servers);
    return live;
}

void hp__live_config_destroy(hp__live_config *live)
{
    if (!live) return;
    free(live->path);
    free(live->self_name);
    free(live->admin_listen);
    free(live->admin_token_file);
    hp__config_destroy(live->config);
    json_decref(live->doc);
    servers_close(&live->servers);
    free(live);
}

void hp__live_config_override_admin(hp__live_config *live, const char *listen,
                                    const char *token_file)
{
    if (listen) live->admin_listen = hp__strdup(listen);
    if (token_file) live->admin_token_file = hp__strdup(token_file);
}

const hp__config *hp__live_config_current(const hp__live_config *live)
{
    return live->config;
}

/* A load leaves behind what it was built from (the parsed tree, the models of the servers),
 * freed in small pieces between what lives on; with 10,000 servers that is megabytes of free
 * heap in pages the process keeps. malloc_trim gives every free page back (glibc; a few
 * milliseconds), after the start and after each reload. */
static void give_back_memory(void)
{
    malloc_trim(0);
}

void hp__live_config_servers_added(hp__live_config *live)
{
    hp__config_drop_servers(live->config);
    give_back_memory();
}

json_t *hp__live_config_document(const hp__live_config *live)
{
    json_t *doc = json_deep_copy(live->doc);
    if (!live->servers.listed) return doc;
    json_t *servers = json_array();
    for (size_t i = 0; i < live->servers.count; i++)
        json_array_append_new(servers, json_loads(live->servers.items[i].json, 0, NULL));
    json_object_set_new(doc, "servers", servers);
    return doc;
}

void hp__live_config_etag(const hp__live_config *live, char out[24])
{
    json_t *doc = hp__live_config_document(live);
    char *text = canonical_text(doc);
    json_decref(doc);
    uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a, 64 bits */
    for (const char *c = text; *c; c++) hash = (hash ^ (unsigned char)*c) * 0x100000001b3u;
    free(text);
    snprintf(out, 24, "\"%016" PRIx64 "\"", hash);
}

void hp__live_config_put_server(hp__live_config *live, const json_t *server)
{
    live->servers.listed = true;
    servers_put(&live->servers, server);
}

void hp__live_config_remove_server(hp__live_config *live, const char *name)
{
    doc_servers *list = &live->servers;
    long i = find_server(list, name);
    if (i < 0) return;
    free(list->items[i].name);
    free(list->items[i].json);
    memmove(&list->items[i], &list->items[i + 1],
            (list->count - (size_t)i - 1) * sizeof *list->items);
    list->count--;
}

/* ---- upstreams ---- */

/* The entry of upstream `name` in a document's `upstreams`, or NULL. */
static json_t *doc_upstream(const json_t *doc, const char *name, size_t *index)
{
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(doc, "upstreams"), i, entry)
    {
        const char *entry_name = json_string_value(json_object_get(entry, "name"));
        if (entry_name && strcmp(entry_name, name) == 0) {
            if (index) *index = i;
            return entry;
        }
    }
    return NULL;
}

void hp__live_config_put_upstream(hp__live_config *live, const json_t *upstream,
                                  const hp__upstream_model *model)
{
    json_t *list = json_object_get(live->doc, "upstreams");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(live->doc, "upstreams", list);
    }
    size_t at;
    if (doc_upstream(live->doc, model->name, &at))
        json_array_set_new(list, at, json_deep_copy(upstream));
    else
        json_array_append_new(list, json_deep_copy(upstream));
    hp__config *c = live->config;
    size_t k = 0;
    while (k < c->upstream_count && strcmp(c->upstreams[k].name, model->name) != 0) k++;
    if (k < c->upstream_count) {
        hp__upstream_model_close(&c->upstreams[k]);
    } else {
        c->upstreams = hp__realloc(c->upstreams, (k + 1) * sizeof *c->upstreams);
        c->upstream_count++;
    }
    hp__upstream_model_copy(&c->upstreams[k], model);
}

static bool collect_name(const char *name, hp__upstream *u, void *data)
{
    hp_pool_strings *names = data;
    names->items = hp__realloc(names->items, (names->count + 1) * sizeof *names->items);
    names->items[names->count++] = hp__strdup(name);
    return true;
}

static bool config_has_upstream(const hp__config *config, const char *name)
{
    for (size_t i = 0; i < config->upstream_count; i++)
        if (strcmp(config->upstreams[i].name, name) == 0) return true;
    return false;
}

/* Before the servers, so that a route new in `config` finds its upstream: an upstream whose
 * entry in `doc` differs from the running document's (or that the registry lacks) gets a new
 * version, requests in flight finishing on the old one; one `config` no longer has goes. */
static void apply_upstreams(hp__live_config *live, const hp__config *config, const json_t *doc)
{
    hp__upstreams *r = hp__pool_upstreams(live->pool);
    for (size_t i = 0; i < config->upstream_count; i++) {
        const hp__upstream_model *m = &config->upstreams[i];
        const json_t *old = doc_upstream(live->doc, m->name, NULL);
        if (old && json_equal(old, doc_upstream(doc, m->name, NULL)) &&
            hp__upstreams_get(r, m->name))
            continue;
        hp__upstreams_put(r, m);
    }
    hp_pool_strings names = {0};
    hp__upstreams_walk(r, collect_name, &names);
    for (size_t i = 0; i < names.count; i++)
        if (!config_has_upstream(config, names.items[i])) hp__upstreams_remove(r, names.items[i]);
    hp_pool_strings_free(&names);
}

/* ---- checking a new document ---- */

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A document's admin.KEY (the file's, which the command line may override in the config), or
 * NULL. */
static const char *doc_admin(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(json_object_get(doc, "admin"), key));
}

static const char *doc_admin_listen(const json_t *doc)
{
    const char *listen = doc_admin(doc, "listen");
    return listen ? listen : HP__CONFIG_ADMIN_LISTEN;
}

/* Two parts of documents are equal (both absent included). */
static bool same_json(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

/* Keys a running pool cannot take: each that differs is an error. Switchboards are made at
 * start only: a reload that adds, removes or changes one is refused. */
static void check_fixed(const hp__live_config *live, const hp__config *new, const json_t *doc,
                        const char *label, hp__config_errors *errs)
{
    const hp__config *old = live->config;
    struct {
        bool same;
        const char *path;
    } keys[] = {
        {old->workers == new->workers, "workers"},
        {strcmp(doc_admin_listen(live->doc), doc_admin_listen(doc)) == 0, "admin.listen"},
        {same_text(doc_admin(live->doc, "token_file"), doc_admin(doc, "token_file")),
         "admin.token_file"},
        {same_text(old->pid_file, new->pid_file), "pid_file"},
        {old->ports.lo == new->ports.lo && old->ports.hi == new->ports.hi, "ports.range"},
        {old->max_servers == new->max_servers, "limits.max_servers"},
        {old->health.interval_ms == new->health.interval_ms, "health.interval"},
        {old->health.rise == new->health.rise, "health.rise"},
        {old->health.fall == new->health.fall, "health.fall"},
        {same_json(json_object_get(live->doc, "error_log"), json_object_get(doc, "error_log")),
         "error_log"},
        {same_json(json_object_get(live->doc, "switchboards"),
                   json_object_get(doc, "switchboards")),
         "switchboards"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!keys[i].same)
            hp__config_errors_add(errs, label, 0, 0, keys[i].path,
                                  "cannot change on a reload (restart hostpool to change it)");
}

typedef enum change { UNCHANGED, REPLACE, ADD } change;

/* What a reload does: per server of the new config, and the names that go. */
typedef struct plan {
    size_t count;
    change *changes;
    hp_server_config *built; /* for REPLACE and ADD */
    hp_pool_strings removed;
} plan;

static void plan_close(plan *p, bool handlers)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->changes[i] != UNCHANGED) hp__config_server_config_close(&p->built[i], handlers);
    free(p->changes);
    free(p->built);
    hp_pool_strings_free(&p->removed);
}

static void add_string(hp_pool_strings *list, const char *s)
{
    list->items = hp__realloc(list->items, (list->count + 1) * sizeof *list->items);
    list->items[list->count++] = hp__strdup(s);
}

/* Decides each server's change and builds the new and changed ones; errors go to `errs`.
 * `servers` are the new document's. */
static void make_plan(hp__live_config *live, const hp__config *config, const doc_servers *servers,
                      plan *p, hp__config_errors *errs)
{
    const doc_servers *old_servers = &live->servers;
    /* What every server inherits, compared as values: "off" and false are the same. */
    bool defaults_same =
        live->config->access_log == config->access_log &&
        hp__config_access_log_equal(&live->config->access_log_output, &config->access_log_output) &&
        memcmp(&live->config->limits, &config->limits, sizeof config->limits) == 0;
    p->count = config->server_count;
    p->changes = hp__calloc(p->count + 1, sizeof *p->changes);
    p->built = hp__calloc(p->count + 1, sizeof *p->built);
    for (size_t i = 0; i < p->count; i++) {
        const char *name = config->servers[i].name;
        long old = find_server(old_servers, name), now = find_server(servers, name);
        bool exists = hp_pool_has(live->pool, name);
        if (exists && old >= 0 && now >= 0 && defaults_same &&
            strcmp(old_servers->items[old].json, servers->items[now].json) == 0 &&
            !hp__config_server_reads_users(&config->servers[i]))
            continue; /* UNCHANGED (a users file may have changed: read again) */
        p->changes[i] = exists ? REPLACE : ADD;
        if (hp__config_build_server(&config->servers[i], &p->built[i], errs) != 0)
            p->changes[i] = UNCHANGED; /* nothing built, nothing to close */
    }
    for (size_t i = 0; i < old_servers->count; i++) {
        const char *name = old_servers->items[i].name;
        if (find_server(servers, name) < 0 && hp_pool_has(live->pool, name) &&
            strcmp(name, live->self_name) != 0)
            add_string(&p->removed, name);
    }
}

/* ---- applying it ---- */

typedef struct reload {
    hp__live_config *live;
    hp__reload_cb cb;
    void *data;
    hp__reload_result result;
    size_t pending; /* pool callbacks to wait for, plus one while applying */
} reload;

static void start_queued(hp__live_config *live);

static void release(reload *r)
{
    if (--r->pending > 0) return;
    hp__live_config *live = r->live;
    live->busy = false;
    r->cb(&r->result, r->data);
    hp_pool_strings_free(&r->result.replaced);
    hp_pool_strings_free(&r->result.added);
    hp_pool_strings_free(&r->result.removed);
    hp_pool_result_free(&r->result.failed);
    free(r);
    start_queued(live);
}

static void on_old_version_gone(hp_pool *pool, const char *name, int status, void *data)
{
    release(data);
}

static void add_failure(hp_pool_result *r, const char *name, const char *error)
{
    r->failures = hp__realloc(r->failures, (r->failed + 1) * sizeof *r->failures);
    r->failures[r->failed++] = (hp_pool_failure){hp__strdup(name), hp__strdup(error)};
}

static void replace_one(reload *r, hp_server_config *built)
{
    char err[512];
    const char *name = built->name; /* the config's: outlives `built` */
    r->result.failed.attempted++;
    r->pending++;
    int rc = hp_pool_replace(r->live->pool, built, on_old_version_gone, r, err, sizeof err);
    hp__config_server_config_close(built, rc != 0);
    if (rc == 0) return add_string(&r->result.replaced, name);
    r->pending--;
    add_failure(&r->result.failed, name, err);
}

static void add_one(reload *r, hp_server_config *built)
{
    char err[512];
    const char *name = built->name; /* the config's: outlives `built` */
    r->result.failed.attempted++;
    int rc = hp_pool_add(r->live->pool, built, err, sizeof err);
    hp__config_server_config_close(built, rc != 0);
    if (rc != 0) return add_failure(&r->result.failed, name, err);
    add_string(&r->result.added, name);
    if (hp_pool_start(r->live->pool, name, err, sizeof err) != 0)
        add_failure(&r->result.failed, name, err);
}

/* Moves the pool to the plan, then makes `config` (without its servers, which the pool has
 * now), `doc` and its `servers` the running ones. */
static void apply(hp__live_config *live, hp__config *config, json_t *doc, doc_servers *servers,
                  plan *p, hp__reload_cb cb, void *data)
{
    reload *r = HP_NEW(reload);
    *r = (reload){.live = live, .cb = cb, .data = data, .pending = 1};
    live->busy = true;
    apply_upstreams(live, config, doc);
    for (size_t i = 0; i < p->removed.count; i++) {
        r->pending++;
        if (hp_pool_remove(live->pool, p->removed.items[i], on_old_version_gone, r) != 0)
            r->pending--;
        add_string(&r->result.removed, p->removed.items[i]);
    }
    for (size_t i = 0; i < p->count; i++) {
        if (p->changes[i] == UNCHANGED) r->result.unchanged++;
        if (p->changes[i] == REPLACE) replace_one(r, &p->built[i]);
        if (p->changes[i] == ADD) add_one(r, &p->built[i]);
        p->changes[i] = UNCHANGED; /* closed by replace_one or add_one */
    }
    plan_close(p, false);
    hp__config_drop_servers(config);
    hp__config_destroy(live->config);
    json_decref(live->doc);
    servers_close(&live->servers);
    live->config = config;
    live->doc = doc;
    live->servers = *servers;
    give_back_memory();
    release(r);
}

/* The command line's admin keys replace the file's, as at start. */
static void override_admin(const hp__live_config *live, hp__config *config)
{
    if (live->admin_listen) {
        free(config->admin.listen);
        config->admin.listen = hp__strdup(live->admin_listen);
    }
    if (live->admin_token_file) {
        free(config->admin.token_file);
        config->admin.token_file = hp__strdup(live->admin_token_file);
    }
}

/* Checks `config` (NULL when loading failed: `errs` says why) and reloads to it, or refuses.
 * Takes `config` and `doc`. */
static void reload_to(hp__live_config *live, hp__config *config, json_t *doc, const char *label,
                      hp__config_errors *errs, hp__reload_cb cb, void *data)
{
    plan p = {0};
    doc_servers servers = {0};
    if (config) {
        override_admin(live, config);
        check_fixed(live, config, doc, label, errs);
        servers_take(doc, &servers);
        if (errs->count == 0) make_plan(live, config, &servers, &p, errs);
    }
    if (errs->count == 0) return apply(live, config, doc, &servers, &p, cb, data);
    plan_close(&p, true);
    servers_close(&servers);
    hp__config_destroy(config);
    json_decref(doc);
    hp__reload_result refused = {.errors = errs};
    cb(&refused, data);
}

/* ---- the queued file reload ---- */

static void on_queued_reloaded(const hp__reload_result *result, void *data)
{
    waiters *w = data;
    for (size_t i = 0; i < w->count; i++) w->items[i].cb(result, w->items[i].data);
    free(w);
}

/* After a reload called back: the file reload asked for meanwhile, if any, reads the file now. */
static void start_queued(hp__live_config *live)
{
    if (live->queued.count == 0 || live->busy) return; /* busy: it starts after that one */
    waiters *w = HP_NEW(waiters);
    *w = live->queued;
    live->queued.count = 0;
    hp__live_config_reload_file(live, on_queued_reloaded, w);
}

/* Joins the queued file reload; the same cb and data join it once. */
static int queue_file_reload(hp__live_config *live, hp__reload_cb cb, void *data)
{
    waiters *q = &live->queued;
    for (size_t i = 0; i < q->count; i++)
        if (q->items[i].cb == cb && q->items[i].data == data) return 0;
    if (q->count == MAX_WAITERS) return HP_ESTATE;
    q->items[q->count++] = (waiter){cb, data};
    return 0;
}

bool hp__live_config_reloading(const hp__live_config *live)
{
    return live->busy;
}

bool hp__live_config_reload_queued(const hp__live_config *live)
{
    return live->queued.count > 0;
}

int hp__live_config_reload_file(hp__live_config *live, hp__reload_cb cb, void *data)
{
    if (live->busy) return queue_file_reload(live, cb, data);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config;
    json_t *doc;
    hp__config_load_file_doc(live->path, &config, &doc, &errs);
    reload_to(live, config, doc, live->path, &errs, cb, data);
    hp__config_errors_close(&errs);
    return 0;
}

int hp__live_config_load_json(hp__live_config *live, const char *text, size_t len,
                              const char *label, hp__reload_cb cb, void *data)
{
    if (live->busy) return HP_ESTATE;
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config;
    json_t *doc;
    hp__config_load_json_doc(text, len, label, &config, &doc, &errs);
    reload_to(live, config, doc, label, &errs, cb, data);
    hp__config_errors_close(&errs);
    return 0;
}
