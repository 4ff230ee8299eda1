/* What the admin API's files share: the handler's state, the JSON answers, the operations. */
#ifndef HP_ADMIN_ADMIN_INTERNAL_H
#define HP_ADMIN_ADMIN_INTERNAL_H

#include "admin/admin.h"
#include "handlers/control_job.h"

#include <jansson.h>

typedef struct hp__admin_stream hp__admin_stream;

typedef struct hp__admin {
    hp_handler base;
    hp_pool *pool;
    char *self_name;
    char *token; /* NULL: none */
    hp__live_config *live;
    hp__admin_stream *streams; /* open streams: admin_stream.h (control thread) */
    uint64_t stopping_sub;     /* the subscription to pool.stopping, which ends them */
} hp__admin;

/* ---- answers (admin_json.c) ---- */

/* Answers {"error":{"code","message","details"}}; `details` (may be NULL) is taken. */
void hp__admin_answer_error(hp__control_job *job, int status, const char *code, json_t *details,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* One server as the API shows it; NULL when there is none of that name. */
json_t *hp__admin_server_json(hp_pool *pool, const char *name);
/* The request's body read as a config document (JSON, duplicate keys refused), or NULL once
 * answered 400 bad_json. The node is the caller's (hp__cfg_node_destroy). */
hp__cfg_node *hp__admin_body_node(hp__control_job *job);
/* Config errors as an error's details: "PATH: MESSAGE" each, "(body)" for the body itself. */
json_t *hp__admin_errors_json(const hp__config_errors *errs);
/* {"attempted": n, "failed": [{"name", "error"}...]} */
json_t *hp__admin_result_json(const hp_pool_result *result);

/* ---- query strings (admin_query.c) ---- */

/* Decodes %XX and '+' in place. */
void hp__admin_url_decode(char *s);
/* The decoded value of `key` in `query` (owned), or NULL when it is not there. */
char *hp__admin_query_get(const char *query, const char *key);
/* The number `key` of the job's query in [0, max] into *out, or `absent` when not given; false
 * once answered 400 bad_query when it is not such a number. */
bool hp__admin_query_number(hp__control_job *job, const char *key, uint64_t max, uint64_t absent,
                            uint64_t *out);

/* ---- operations (admin_ops.c) ---- */

void hp__admin_list(hp__admin *a, hp__control_job *job);
void hp__admin_get(hp__admin *a, hp__control_job *job, const char *name);
void hp__admin_add(hp__admin *a, hp__control_job *job);
void hp__admin_replace(hp__admin *a, hp__control_job *job, const char *name);
void hp__admin_remove(hp__admin *a, hp__control_job *job, const char *name);
/* `action`: "start", "stop" or "restart". */
void hp__admin_server_action(hp__admin *a, hp__control_job *job, const char *name,
                             const char *action);
void hp__admin_pool_action(hp__admin *a, hp__control_job *job, const char *action);

/* ---- the named upstreams (admin_upstreams.c) ---- */

void hp__admin_upstreams_list(hp__admin *a, hp__control_job *job);
void hp__admin_upstream_get(hp__admin *a, hp__control_job *job, const char *name);
void hp__admin_upstream_put(hp__admin *a, hp__control_job *job, const char *name);

/* ---- the switchboards (admin_switchboards.c) ---- */

void hp__admin_switchboards_list(hp__admin *a, hp__control_job *job);
void hp__admin_switchboard_get(hp__admin *a, hp__control_job *job, const char *name);

/* ---- WebSocket connections and pub/sub (admin_ws.c) ---- */

/* GET /servers/{name}/connections */
void hp__admin_connections(hp__admin *a, hp__control_job *job, const char *name);
/* DELETE /servers/{name}/connections/{id} */
void hp__admin_connection_close(hp__admin *a, hp__control_job *job, const char *name,
                                const char *id);
/* POST /servers/{name}/publish */
void hp__admin_publish(hp__admin *a, hp__control_job *job, const char *name);

/* ---- the event stream (admin_events.c) ---- */

/* GET /events?topic=PATTERN (default **): Server-Sent Events until the client leaves. */
void hp__admin_events(hp__admin *a, hp__control_job *job);

/* ---- a process server's output (admin_logs.c) ---- */
/* GET /servers/{name}/logs[?since=SEQ&limit=N&follow=1] */
void hp__admin_logs(hp__admin *a, hp__control_job *job, const char *name);
/* ---- a server's request journal (admin_journal.c) ---- */
/* GET /servers/{name}/journal[?since=SEQ&limit=N&status=S&path=P&follow=1] */
void hp__admin_journal(hp__admin *a, hp__control_job *job, const char *name);

/* ---- the whole config (admin_config.c) ---- */

void hp__admin_config_get(hp__admin *a, hp__control_job *job);
void hp__admin_config_load(hp__admin *a, hp__control_job *job);
void hp__admin_reload(hp__admin *a, hp__control_job *job);

#endif
