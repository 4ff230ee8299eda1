/* The named upstreams' endpoints, on the control thread (docs/ADMIN.md):
 *
 *   GET /upstreams          {"upstreams": [UPSTREAM...]}, each without "settings"
 *   GET /upstreams/{name}   UPSTREAM with "settings" (the model in config syntax, PUT-able)
 *   PUT /upstreams/{name}   replaces (200) or adds (201) it from a body checked as an entry
 *                           of `upstreams` is (400 listing every error); answers UPSTREAM
 *
 * where UPSTREAM is {"name", "balance", "targets": [{"address", "weight", "health", "passive",
 * "breaker", "available", "requests", "failures", "pool": {"open", "idle", "in_use",
 * "waiting"}}], "in_flight", "pending", "transitions_lost"}. Everything is read from the registry's
 * current version (upstream/upstreams.h); a PUT makes a new version, so requests in flight finish
 * on the old one, and the running config (live_config.h) takes the entry, so GET /config shows it
 * and a reload compares with it. */
#include "admin/admin_internal.h"

#include "config/node.h"
#include "hostpool/errors.h"
#include "pool/pool_internal.h"
#include "upstream/upstreams.h"

#include <stdlib.h>

static json_t *target_json(hp__upstreams *r, const char *name, hp__upstream *u, size_t t)
{
    const hp__upstream_target_model *tm = &hp__upstream_model_of(u)->targets[t];
    hp__upstream_target_view v;
    hp__upstream_target_view_of(u, t, &v);
    hp__health_state health;
    bool checked = hp__upstreams_health(r, name, t, &health);
    json_t *pool =
        json_pack("{s:I, s:I, s:I, s:I}", "open", (json_int_t)v.open, "idle", (json_int_t)v.idle,
                  "in_use", (json_int_t)v.in_use, "waiting", (json_int_t)v.waiting);
    return json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:b, s:I, s:I, s:o}", "address", tm->address, "weight",
        (json_int_t)tm->weight, "health", checked ? hp__health_state_name(health) : "off",
        "passive", v.passive_out ? "out" : "in", "breaker",
        v.has_breaker ? hp__breaker_state_name(v.breaker) : "off", "available", v.available,
        "requests", (json_int_t)v.requests, "failures", (json_int_t)v.failures, "pool", pool);
}

/* One upstream as the API shows it, with its settings when `settings`. */
static json_t *upstream_json(hp__upstreams *r, const char *name, hp__upstream *u, bool settings)
{
    const hp__upstream_model *m = hp__upstream_model_of(u);
    json_t *targets = json_array();
    for (size_t t = 0; t < m->target_count; t++)
        json_array_append_new(targets, target_json(r, name, u, t));
    hp__upstream_view v;
    hp__upstream_view_of(u, &v);
    json_t *out = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "name", name, "balance",
                            hp__balance_kind_name(m->balance), "targets", targets, "in_flight",
                            (json_int_t)v.in_flight, "pending", (json_int_t)v.pending,
                            "transitions_lost", (json_int_t)v.transitions_lost);
    if (settings) json_object_set_new(out, "settings", hp__upstream_model_to_json(m));
    return out;
}

typedef struct listing {
    hp__upstreams *registry;
    json_t *list;
} listing;

static bool add_upstream(const char *name, hp__upstream *u, void *data)
{
    listing *l = data;
    json_array_append_new(l->list, upstream_json(l->registry, name, u, false));
    return true;
}

void hp__admin_upstreams_list(hp__admin *a, hp__control_job *job)
{
    listing l = {.registry = hp__pool_upstreams(a->pool), .list = json_array()};
    hp__upstreams_walk(l.registry, add_upstream, &l);
    hp__control_job_answer_json(job, 200, json_pack("{s:o}", "upstreams", l.list));
}

void hp__admin_upstream_get(hp__admin *a, hp__control_job *job, const char *name)
{
    hp__upstreams *r = hp__pool_upstreams(a->pool);
    hp__upstream *u = hp__upstreams_get(r, name);
    if (!u) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no upstream named \"%s\"", name);
        return;
    }
    hp__control_job_answer_json(job, 200, upstream_json(r, name, u, true));
}

/* The body as a checked upstream named `name`: its model and the JSON the running config
 * keeps (the checked form, with the name); false (and a 400 listing every error) if it is
 * not one. */
static bool read_upstream(hp__control_job *job, const char *name, hp__upstream_model *model,
                          json_t **checked)
{
    hp__cfg_node *node = hp__admin_body_node(job);
    if (!node) return false;
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    int err = hp__config_load_upstream_node(node, name, model, &errs);
    if (err) {
        hp__admin_answer_error(job, 400, "invalid_upstream", hp__admin_errors_json(&errs),
                               "%zu error%s in the upstream", errs.count,
                               errs.count == 1 ? "" : "s");
    } else {
        *checked = hp__cfg_node_to_json(node);
        if (json_is_object(*checked)) json_object_set_new(*checked, "name", json_string(name));
    }
    hp__cfg_node_destroy(node);
    hp__config_errors_close(&errs);
    return err == 0;
}

void hp__admin_upstream_put(hp__admin *a, hp__control_job *job, const char *name)
{
    hp__upstreams *r = hp__pool_upstreams(a->pool);
    hp__upstream_model model;
    json_t *checked;
    if (!read_upstream(job, name, &model, &checked)) return;
    bool existed = hp__upstreams_get(r, name) != NULL;
    int rc = hp__upstreams_put(r, &model);
    if (rc == HP_ELIMIT) {
        hp__admin_answer_error(job, 409, "limit", NULL, "%d upstreams are defined already",
                               HP__UPSTREAMS_MAX);
    } else if (rc != 0) {
        hp__admin_answer_error(job, 409, "stopping", NULL, "the pool is stopping");
    } else {
        hp__live_config_put_upstream(a->live, checked, &model);
        hp__control_job_answer_json(job, existed ? 200 : 201,
                                    upstream_json(r, name, hp__upstreams_get(r, name), true));
    }
    json_decref(checked);
    hp__upstream_model_close(&model);
}
