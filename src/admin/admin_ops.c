/* The admin API's operations, on the control thread. Each answers its job exactly once: at
 * once, or from the pool callback it waits for (stop, restart, remove). Servers sent in a
 * body are checked as a config's entries are (every error listed, with its path) and built
 * into the pool only when whole; a failed add or replace changes nothing. */
#include "admin/admin_internal.h"

#include "common/alloc.h"
#include "config/node.h"
#include "hostpool/errors.h"
#include "pool/pool_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct filter {
    const char *key; /* "name", "name_re" ... */
    hp_pool_field field;
    bool regex;
    char *value; /* NULL: not given */
} filter;

/* ---- listing ---- */

static bool in(const hp_pool_strings *set, const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i], name) == 0) return true;
    return false;
}

typedef struct list_walk {
    hp_pool *pool;
    hp_pool_strings *sets;
    size_t set_count;
    const char *switchboard; /* ?switchboard=NAME: only the servers it made; NULL: any */
    json_t *servers;
} list_walk;

static bool add_if_selected(const hp_server_info *info, void *data)
{
    list_walk *w = data;
    for (size_t i = 0; i < w->set_count; i++)
        if (!in(&w->sets[i], info->name)) return true;
    const char *made_by = hp__pool_server_switchboard(w->pool, info->name);
    if (w->switchboard && (!made_by || strcmp(made_by, w->switchboard) != 0)) return true;
    json_array_append_new(w->servers, hp__admin_server_json(w->pool, info->name));
    return true;
}

/* Reads the query into `filters`; false (and an answer) on an unknown key. */
static bool read_filters(hp__control_job *job, char *query, filter *filters, size_t count)
{
    for (char *part = strtok(query, "&"); part; part = strtok(NULL, "&")) {
        char *eq = strchr(part, '=');
        if (eq) *eq = '\0';
        size_t i = 0;
        while (i < count && strcmp(filters[i].key, part) != 0) i++;
        if (i == count) {
            hp__admin_answer_error(
                job, 400, "bad_query", NULL,
                "unknown filter \"%s\": name, bind, expose, each with _re, or switchboard", part);
            return false;
        }
        filters[i].value = eq ? eq + 1 : part + strlen(part);
        hp__admin_url_decode(filters[i].value);
    }
    return true;
}

void hp__admin_list(hp__admin *a, hp__control_job *job)
{
    filter filters[] = {
        {"name", HP_POOL_FIELD_NAME, false, NULL},
        {"name_re", HP_POOL_FIELD_NAME, true, NULL},
        {"bind", HP_POOL_FIELD_BIND, false, NULL},
        {"bind_re", HP_POOL_FIELD_BIND, true, NULL},
        {"expose", HP_POOL_FIELD_EXPOSE, false, NULL},
        {"expose_re", HP_POOL_FIELD_EXPOSE, true, NULL},
        {"switchboard", HP_POOL_FIELD_NAME, false, NULL}, /* not a pool field: the last */
    };
    size_t all = sizeof filters / sizeof filters[0], count = all - 1;
    if (!read_filters(job, job->query, filters, all)) return;
    hp_pool_strings sets[6] = {{0}};
    list_walk w = {.pool = a->pool,
                   .sets = sets,
                   .switchboard = filters[count].value,
                   .servers = json_array()};
    json_t *errors = json_array();
    for (size_t i = 0; i < count; i++) {
        if (!filters[i].value) continue;
        char err[256];
        const char *pattern = filters[i].regex ? NULL : filters[i].value;
        const char *regex = filters[i].regex ? filters[i].value : NULL;
        if (hp_pool_filter(a->pool, filters[i].field, pattern, regex, &sets[w.set_count], err,
                           sizeof err) != 0)
            json_array_append_new(errors, json_sprintf("%s: %s", filters[i].key, err));
        else
            w.set_count++;
    }
    if (json_array_size(errors) == 0) {
        hp_pool_walk(a->pool, add_if_selected, &w);
        hp__control_job_answer_json(job, 200, json_pack("{s:o}", "servers", w.servers));
        json_decref(errors);
    } else {
        json_decref(w.servers);
        hp__admin_answer_error(job, 400, "bad_query", errors, "invalid filter");
    }
    for (size_t i = 0; i < w.set_count; i++) hp_pool_strings_free(&sets[i]);
}

void hp__admin_get(hp__admin *a, hp__control_job *job, const char *name)
{
    json_t *server = hp__admin_server_json(a->pool, name);
    if (!server) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
        return;
    }
    hp__control_job_answer_json(job, 200, server);
}

/* ---- a server in a body ---- */

/* A server sent in a body: checked, built, and the JSON that goes into the running config:
 * the checked form of the body (hp__cfg_node_to_json of the checked tree: `"name": 5` is
 * "5" there), never the body as sent, so the running config and the pool agree on names. */
typedef struct body_server {
    hp__config_server *model;
    hp_server_config built;
    json_t *json;
} body_server;

static void body_server_close(body_server *b)
{
    hp__config_server_destroy(b->model);
    json_decref(b->json);
}

/* The body as a built server config; false (and a 400 listing every error) if it is not one.
 * On success `built` must be closed, and `b` after the config was used. */
static bool read_server(hp__admin *a, hp__control_job *job, body_server *b)
{
    hp__config_server **model = &b->model;
    hp_server_config *built = &b->built;
    hp__cfg_node *node = hp__admin_body_node(job);
    if (!node) return false;
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    int err = hp__config_load_server_node(node, hp__live_config_current(a->live), model, &errs);
    if (!err) {
        err = hp__config_build_server(*model, built, &errs);
        if (err) hp__config_server_destroy(*model);
    }
    if (err)
        hp__admin_answer_error(job, 400, "invalid_server", hp__admin_errors_json(&errs),
                               "%zu error%s in the server", errs.count, errs.count == 1 ? "" : "s");
    else
        b->json = hp__cfg_node_to_json(node);
    hp__cfg_node_destroy(node);
    hp__config_errors_close(&errs);
    return err == 0;
}

static bool is_self(hp__admin *a, hp__control_job *job, const char *name)
{
    if (strcmp(name, a->self_name) != 0) return false;
    hp__admin_answer_error(job, 409, "admin_server", NULL,
                           "\"%s\" is the admin server: it cannot be changed through itself", name);
    return true;
}

void hp__admin_add(hp__admin *a, hp__control_job *job)
{
    body_server b = {0};
    if (!read_server(a, job, &b)) return;
    const char *name = b.model->name;
    char err[512];
    int rc = hp_pool_add(a->pool, &b.built, err, sizeof err);
    hp__config_server_config_close(&b.built, rc != 0);
    if (rc == HP_EEXISTS || rc == HP_ELIMIT) {
        hp__admin_answer_error(job, 409, rc == HP_EEXISTS ? "exists" : "limit", NULL, "%s", err);
    } else if (rc) {
        hp__admin_answer_error(job, 400, "invalid_server", NULL, "%s", err);
    } else if (hp_pool_start(a->pool, name, err, sizeof err) != 0) {
        hp_pool_remove(a->pool, name, NULL, NULL); /* a failed add changes nothing */
        hp__admin_answer_error(job, 409, "start_failed", NULL, "%s", err);
    } else {
        hp__live_config_put_server(a->live, b.json);
        hp__control_job_answer_json(job, 201, hp__admin_server_json(a->pool, name));
    }
    body_server_close(&b);
}

void hp__admin_replace(hp__admin *a, hp__control_job *job, const char *name)
{
    if (is_self(a, job, name)) return;
    if (!hp_pool_has(a->pool, name)) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
        return;
    }
    body_server b = {0};
    if (!read_server(a, job, &b)) return;
    char err[512];
    int rc = strcmp(b.model->name, name) == 0 ? 0 : HP_EINVAL;
    if (rc)
        snprintf(err, sizeof err, "the body names \"%s\", the path \"%s\"", b.model->name, name);
    else
        rc = hp_pool_replace(a->pool, &b.built, NULL, NULL, err, sizeof err);
    hp__config_server_config_close(&b.built, rc != 0);
    if (rc == HP_EINVAL || rc == HP_ECONFIG) {
        hp__admin_answer_error(job, 400, "invalid_server", NULL, "%s", err);
    } else if (rc) {
        hp__admin_answer_error(job, 409, "replace_failed", NULL, "%s", err);
    } else {
        hp__live_config_put_server(a->live, b.json);
        hp__control_job_answer_json(job, 200, hp__admin_server_json(a->pool, name));
    }
    body_server_close(&b);
}

/* ---- lifecycle ---- */

static void on_removed(hp_pool *pool, const char *name, int status, void *data)
{
    hp__control_job_answer_json(data, 200, json_pack("{s:s}", "removed", name));
}

void hp__admin_remove(hp__admin *a, hp__control_job *job, const char *name)
{
    if (is_self(a, job, name)) return;
    if (hp_pool_remove(a->pool, name, on_removed, job) != 0)
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
    else
        hp__live_config_remove_server(a->live, name);
}

typedef struct server_call {
    hp__admin *admin;
    hp__control_job *job;
} server_call;

static void on_server_done(hp_pool *pool, const char *name, int status, void *data)
{
    server_call *c = data;
    json_t *server = hp__admin_server_json(pool, name);
    if (status == 0)
        hp__control_job_answer_json(c->job, 200, server);
    else
        hp__admin_answer_error(c->job, 409, "start_failed", json_pack("[o]", server), "%s",
                               hp_strerror(status));
    free(c);
}

void hp__admin_server_action(hp__admin *a, hp__control_job *job, const char *name,
                             const char *action)
{
    if (strcmp(action, "start") != 0 && is_self(a, job, name)) return;
    if (!hp_pool_has(a->pool, name)) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
        return;
    }
    char err[512] = "";
    int rc;
    if (strcmp(action, "start") == 0) {
        rc = hp_pool_start(a->pool, name, err, sizeof err);
        if (rc == 0)
            return hp__control_job_answer_json(job, 200, hp__admin_server_json(a->pool, name));
    } else {
        server_call *c = HP_NEW(server_call);
        *c = (server_call){a, job};
        rc = strcmp(action, "stop") == 0 ? hp_pool_stop(a->pool, name, on_server_done, c)
                                         : hp_pool_restart(a->pool, name, on_server_done, c);
        if (rc == 0) return;
        free(c);
    }
    hp__admin_answer_error(job, 409, rc == HP_ESTATE ? "state" : "start_failed", NULL, "%s: %s",
                           name, err[0] ? err : hp_strerror(rc));
}

/* ---- every server ---- */

/* A stop or restart of every server but the admin one: answered when the last is done. */
typedef struct pool_call {
    hp__control_job *job;
    size_t left;
    hp_pool_result result;
} pool_call;

static void pool_call_release(pool_call *c)
{
    if (--c->left > 0) return;
    hp__control_job_answer_json(c->job, 200, hp__admin_result_json(&c->result));
    hp_pool_result_free(&c->result);
    free(c);
}

static void add_failure(hp_pool_result *r, const char *name, const char *error)
{
    r->failures = hp__realloc(r->failures, (r->failed + 1) * sizeof *r->failures);
    r->failures[r->failed++] = (hp_pool_failure){hp__strdup(name), hp__strdup(error)};
}

static void on_pool_server_done(hp_pool *pool, const char *name, int status, void *data)
{
    pool_call *c = data;
    if (status != 0) {
        hp_server_info info;
        bool known = hp_pool_info(pool, name, &info) == 0 && info.last_error;
        add_failure(&c->result, name, known ? info.last_error : hp_strerror(status));
    }
    pool_call_release(c);
}

typedef struct pool_walk {
    hp__admin *admin;
    pool_call *call;
    bool restart;
    hp_pool_strings names; /* the servers to act on, gathered before acting */
} pool_walk;

static bool gather(const hp_server_info *info, void *data)
{
    pool_walk *w = data;
    bool up = info->state == HP_SERVER_RUNNING || info->state == HP_SERVER_DRAINING;
    if (strcmp(info->name, w->admin->self_name) == 0 || (!w->restart && !up)) return true;
    w->names.items = hp__realloc(w->names.items, (w->names.count + 1) * sizeof *w->names.items);
    w->names.items[w->names.count++] = hp__strdup(info->name);
    return true;
}

void hp__admin_pool_action(hp__admin *a, hp__control_job *job, const char *action)
{
    if (strcmp(action, "start") == 0) {
        hp_pool_result r;
        hp_pool_start_all(a->pool, &r);
        hp__control_job_answer_json(job, 200, hp__admin_result_json(&r));
        hp_pool_result_free(&r);
        return;
    }
    pool_call *c = HP_NEW(pool_call);
    c->job = job;
    c->left = 1; /* held until every server is under way */
    pool_walk w = {.admin = a, .call = c, .restart = strcmp(action, "restart") == 0};
    hp_pool_walk(a->pool, gather, &w);
    for (size_t i = 0; i < w.names.count; i++) {
        const char *name = w.names.items[i];
        c->result.attempted++;
        c->left++;
        int rc = w.restart ? hp_pool_restart(a->pool, name, on_pool_server_done, c)
                           : hp_pool_stop(a->pool, name, on_pool_server_done, c);
        if (rc != 0) {
            add_failure(&c->result, name, hp_strerror(rc));
            c->left--;
        }
    }
    hp_pool_strings_free(&w.names);
    pool_call_release(c);
}
