/* The metrics and health handlers (include/hostpool/pool.h): answers from the state of a pool,
 * which lives on its control thread, for a route of any server.
 *
 * Getting the pool: a handler built from a config exists before any pool does (`run` checks
 * and builds the whole config, handlers included, before it makes the pool; `validate` never
 * makes one), so unlike the admin handler it cannot be given the pool when it is created. It
 * learns it through the vtable's `bind`, which the pool calls when the handler's server joins it
 * (add, replace, merge), before that server can get a request. A clone is unbound until the
 * pool its own server joins binds it, so a copied server never reports the pool it came from.
 *
 * Requests travel as the admin API's do (control_job.h): a job to the control thread, which
 * renders the answer (the same as the admin API's GET /metrics and GET /health), then back to
 * the worker. Only GET and HEAD are answered (405 else).
 *
 * Threads: `pool` is written by bind() on the control thread before the server starts;
 * workers read it after. Starting the server posts commands to the workers through
 * a locked queue, which orders the writes before the reads. */
#include "handlers/pool_handlers.h"

#include "common/alloc.h"
#include "handlers/kinds.h"

#include <llhttp.h>
#include <stdlib.h>

typedef enum { METRICS, HEALTH } pool_handler_kind;

typedef struct pool_handler {
    hp_handler base;
    pool_handler_kind kind;
    hp_pool *pool; /* NULL until bound */
} pool_handler;

void hp__pool_answer_metrics(hp__control_job *job, hp_pool *pool)
{
    size_t len;
    char *text = hp_pool_metrics_text(pool, &len);
    hp__control_job_answer(job, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static bool add_health(const hp_server_info *info, void *data)
{
    json_array_append_new(data, json_pack("{s:s, s:s, s:s}", "name", info->name, "state",
                                          hp_server_state_name(info->state), "health",
                                          hp_health_name(info->health)));
    return true;
}

void hp__pool_answer_health(hp__control_job *job, hp_pool *pool)
{
    json_t *servers = json_array();
    hp_pool_walk(pool, add_health, servers);
    hp_health health = hp_pool_health(pool);
    bool serving = health == HP_HEALTH_OK || health == HP_HEALTH_WARN;
    hp__control_job_answer_json(
        job, serving ? 200 : 503,
        json_pack("{s:s, s:o}", "health", hp_health_name(health), "servers", servers));
}

static void run(hp__control_job *job, void *data);

static void on_request(hp_handler *self, hp_request *req)
{
    pool_handler *h = (pool_handler *)self;
    if (req->method_id != HTTP_GET && req->method_id != HTTP_HEAD) {
        hp_response_header(req, "Allow", 5, "GET, HEAD", 9);
        hp_respond_error(req, 405);
    } else if (!h->pool) {
        hp_respond_error(req, 503); /* on a server that is in no pool */
    } else {
        hp__control_job_submit(req, run, h);
    }
}

static void run(hp__control_job *job, void *data)
{
    pool_handler *h = data;
    if (h->kind == METRICS)
        hp__pool_answer_metrics(job, h->pool);
    else
        hp__pool_answer_health(job, h->pool);
}

static void bind_pool(hp_handler *self, hp_pool *pool)
{
    ((pool_handler *)self)->pool = pool;
}

static void destroy(hp_handler *self)
{
    free(self);
}

static hp_handler *create(pool_handler_kind kind);

static hp_handler *clone_handler(const hp_handler *self)
{
    return create(((const pool_handler *)self)->kind);
}

static const hp_handler_vtable metrics_vtable = {
    .name = "metrics",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone_handler,
    .bind = bind_pool,
};
static const hp_handler_vtable health_vtable = {
    .name = "health",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone_handler,
    .bind = bind_pool,
};

static hp_handler *create(pool_handler_kind kind)
{
    pool_handler *h = HP_NEW(pool_handler);
    h->base.vt = kind == METRICS ? &metrics_vtable : &health_vtable;
    h->kind = kind;
    return &h->base;
}

hp_handler *hp_metrics_handler_create(void)
{
    return create(METRICS);
}

hp_handler *hp_health_handler_create(void)
{
    return create(HEALTH);
}

/* ---- the metrics and health kinds: `metrics: {}` and `health: {}` in a config ---- */

/* No settings (yet): only an empty mapping. The model is NULL. */
static void *check_no_settings(hp_config_check *c, hp_config_node *map)
{
    static const char *const keys[] = {NULL};
    if (hp_config_expect_mapping(c, map)) hp_config_keys(c, map, keys);
    return NULL;
}

/* Bound to the pool when their server joins it (bind above). */
static int build_metrics(const void *model, hp_config_build *b, hp_handler **out)
{
    *out = hp_metrics_handler_create();
    return 0;
}

static int build_health(const void *model, hp_config_build *b, hp_handler **out)
{
    *out = hp_health_handler_create();
    return 0;
}

const hp_handler_kind hp__metrics_kind = {
    .key = "metrics",
    .check = check_no_settings,
    .build = build_metrics,
};

const hp_handler_kind hp__health_kind = {
    .key = "health",
    .check = check_no_settings,
    .build = build_health,
};
