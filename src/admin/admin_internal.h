/* What the admin API's files share: the handler's state, the JSON answers, the operations. */
#ifndef HP_ADMIN_ADMIN_INTERNAL_H
#define HP_ADMIN_ADMIN_INTERNAL_H

#include "admin/admin.h"
#include "admin/admin_job.h"

#include <jansson.h>

typedef struct hp__admin {
    hp_handler base;
    hp_pool *pool;
    char *self_name;
    char *token;         /* NULL: none */
    hp__config defaults; /* only limits and access_log are set: what a new server inherits */
    hp__admin_jobs *jobs;
} hp__admin;

/* ---- answers (admin_json.c) ---- */

/* Answers `value` (its reference is taken) as JSON with `status`. */
void hp__admin_answer_json(hp__admin_job *job, int status, json_t *value);
/* Answers {"error":{"code","message","details"}}; `details` (may be NULL) is taken. */
void hp__admin_answer_error(hp__admin_job *job, int status, const char *code, json_t *details,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* One server as the API shows it; NULL when there is none of that name. */
json_t *hp__admin_server_json(hp_pool *pool, const char *name);
/* {"attempted": n, "failed": [{"name", "error"}...]} */
json_t *hp__admin_result_json(const hp_pool_result *result);

/* ---- operations (admin_ops.c) ---- */

void hp__admin_list(hp__admin *a, hp__admin_job *job);
void hp__admin_get(hp__admin *a, hp__admin_job *job, const char *name);
void hp__admin_add(hp__admin *a, hp__admin_job *job);
void hp__admin_replace(hp__admin *a, hp__admin_job *job, const char *name);
void hp__admin_remove(hp__admin *a, hp__admin_job *job, const char *name);
/* `action`: "start", "stop" or "restart". */
void hp__admin_server_action(hp__admin *a, hp__admin_job *job, const char *name,
                             const char *action);
void hp__admin_pool_action(hp__admin *a, hp__admin_job *job, const char *action);

#endif
