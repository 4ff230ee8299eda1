#include "admin/live_config.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hp__live_config {
    hp_pool *pool;
    char *path;
    char *self_name;
    char *admin_listen; /* the admin address in use (--admin may differ from the file's) */
    hp__config *config;
    json_t *doc;
    bool busy; /* a reload is under way */
};

hp__live_config *hp__live_config_create(hp_pool *pool, const char *path, const char *self_name,
                                        hp__config *config, json_t *doc)
{
    hp__live_config *live = HP_NEW(hp__live_config);
    live->pool = pool;
    live->path = hp__strdup(path);
    live->self_name = hp__strdup(self_name);
    live->admin_listen = hp__strdup(config->admin.listen);
    live->config = config;
    live->doc = doc;
    return live;
}

void hp__live_config_destroy(hp__live_config *live)
{
    if (!live) return;
    free(live->path);
    free(live->self_name);
    free(live->admin_listen);
    hp__config_destroy(live->config);
    json_decref(live->doc);
    free(live);
}

const hp__config *hp__live_config_current(const hp__live_config *live)
{
    return live->config;
}

const json_t *hp__live_config_document(const hp__live_config *live)
{
    return live->doc;
}

void hp__live_config_etag(const hp__live_config *live, char out[24])
{
    char *text = json_dumps(live->doc, JSON_COMPACT | JSON_SORT_KEYS);
    uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a, 64 bits */
    for (const char *c = text; c && *c; c++) hash = (hash ^ (unsigned char)*c) * 0x100000001b3u;
    free(text);
    snprintf(out, 24, "\"%016" PRIx64 "\"", hash);
}

/* ---- the document's servers ---- */

static json_t *servers_of(json_t *doc)
{
    json_t *servers = json_object_get(doc, "servers");
    if (json_is_array(servers)) return servers;
    servers = json_array();
    json_object_set_new(doc, "servers", servers);
    return servers;
}

/* The index of server `name` in the document's `servers`, or -1. */
static long find_server(const json_t *servers, const char *name)
{
    for (size_t i = 0; i < json_array_size(servers); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(servers, i), "name"));
        if (n && strcmp(n, name) == 0) return (long)i;
    }
    return -1;
}

void hp__live_config_put_server(hp__live_config *live, const json_t *server)
{
    json_t *servers = servers_of(live->doc);
    long i = find_server(servers, json_string_value(json_object_get(server, "name")));
    json_t *copy = json_deep_copy(server);
    if (i >= 0)
        json_array_set_new(servers, (size_t)i, copy);
    else
        json_array_append_new(servers, copy);
}

void hp__live_config_remove_server(hp__live_config *live, const char *name)
{
    json_t *servers = servers_of(live->doc);
    long i = find_server(servers, name);
    if (i >= 0) json_array_remove(servers, (size_t)i);
}

/* ---- checking a new document ---- */

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_json(const json_t *a, const json_t *b)
{
    return a == b || (a && b && json_equal((json_t *)a, (json_t *)b));
}

/* A document's admin.listen (the file's, which --admin may override in the config). */
static const char *doc_admin_listen(const json_t *doc)
{
    const char *listen =
        json_string_value(json_object_get(json_object_get(doc, "admin"), "listen"));
    return listen ? listen : HP__CONFIG_ADMIN_LISTEN;
}

/* Keys a running pool cannot take: each that differs is an error. */
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
        {same_text(old->admin.token_file, new->admin.token_file), "admin.token_file"},
        {same_text(old->pid_file, new->pid_file), "pid_file"},
        {old->ports.lo == new->ports.lo && old->ports.hi == new->ports.hi, "ports.range"},
        {old->max_servers == new->max_servers, "limits.max_servers"},
        {old->health.interval_ms == new->health.interval_ms, "health.interval"},
        {old->health.rise == new->health.rise, "health.rise"},
        {old->health.fall == new->health.fall, "health.fall"},
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

/* Decides each server's change and builds the new and changed ones; errors go to `errs`. */
static void make_plan(hp__live_config *live, const hp__config *config, json_t *doc, plan *p,
                      hp__config_errors *errs)
{
    const json_t *old_servers = servers_of(live->doc), *new_servers = servers_of(doc);
    /* What every server inherits, compared as values: "off" and false are the same. */
    bool defaults_same = live->config->access_log == config->access_log &&
                         memcmp(&live->config->limits, &config->limits, sizeof config->limits) == 0;
    p->count = config->server_count;
    p->changes = hp__calloc(p->count + 1, sizeof *p->changes);
    p->built = hp__calloc(p->count + 1, sizeof *p->built);
    for (size_t i = 0; i < p->count; i++) {
        const char *name = config->servers[i].name;
        long old = find_server(old_servers, name);
        bool exists = hp_pool_has(live->pool, name);
        if (exists && old >= 0 && defaults_same &&
            same_json(json_array_get(old_servers, (size_t)old), json_array_get(new_servers, i)))
            continue; /* UNCHANGED */
        p->changes[i] = exists ? REPLACE : ADD;
        if (hp__config_build_server(&config->servers[i], &p->built[i], errs) != 0)
            p->changes[i] = UNCHANGED; /* nothing built, nothing to close */
    }
    for (size_t i = 0; i < json_array_size(old_servers); i++) {
        const char *name =
            json_string_value(json_object_get(json_array_get(old_servers, i), "name"));
        if (name && find_server(new_servers, name) < 0 && hp_pool_has(live->pool, name) &&
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

static void release(reload *r)
{
    if (--r->pending > 0) return;
    r->live->busy = false;
    r->cb(&r->result, r->data);
    hp_pool_strings_free(&r->result.replaced);
    hp_pool_strings_free(&r->result.added);
    hp_pool_strings_free(&r->result.removed);
    hp_pool_result_free(&r->result.failed);
    free(r);
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

/* Moves the pool to the plan, then makes `config` and `doc` the running ones. */
static void apply(hp__live_config *live, hp__config *config, json_t *doc, plan *p, hp__reload_cb cb,
                  void *data)
{
    reload *r = HP_NEW(reload);
    *r = (reload){.live = live, .cb = cb, .data = data, .pending = 1};
    live->busy = true;
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
    hp__config_destroy(live->config);
    json_decref(live->doc);
    live->config = config;
    live->doc = doc;
    release(r);
}

/* Checks `config` (NULL when loading failed: `errs` says why) and reloads to it, or refuses.
 * Takes `config` and `doc`. */
static void reload_to(hp__live_config *live, hp__config *config, json_t *doc, const char *label,
                      hp__config_errors *errs, hp__reload_cb cb, void *data)
{
    plan p = {0};
    if (config) {
        free(config->admin.listen); /* the address in use, not the file's: it cannot change */
        config->admin.listen = hp__strdup(live->admin_listen);
        check_fixed(live, config, doc, label, errs);
        if (errs->count == 0) make_plan(live, config, doc, &p, errs);
    }
    if (errs->count == 0) return apply(live, config, doc, &p, cb, data);
    plan_close(&p, true);
    hp__config_destroy(config);
    json_decref(doc);
    hp__reload_result refused = {.errors = errs};
    cb(&refused, data);
}

int hp__live_config_reload_file(hp__live_config *live, hp__reload_cb cb, void *data)
{
    if (live->busy) return HP_ESTATE;
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
