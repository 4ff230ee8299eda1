/* The admin handler: the token check on the worker, then the request as a job on the control
 * thread, dispatched by method and path through the `endpoints` table (the API's list: see
 * docs/ADMIN.md). A path that exists with another method gets 405 and Allow; any other 404. */
#include "admin/admin_internal.h"
#include "admin/admin_stream.h"

#include "common/alloc.h"
#include "handlers/pool_handlers.h"
#include "pool/pool_internal.h"

#include <stdlib.h>
#include <string.h>

/* Compares without an early exit, so the time taken says nothing about the token. */
static bool same_secret(const char *a, size_t a_len, const char *b, size_t b_len)
{
    unsigned char diff = a_len != b_len;
    for (size_t i = 0; i < a_len && i < b_len; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool authorized(const hp__admin *a, const hp_request *req)
{
    if (!a->token) return true;
    const hp_str *h = hp_request_header(req, "authorization");
    static const char bearer[] = "Bearer ";
    if (!h || h->len < sizeof bearer - 1 || strncasecmp(h->base, bearer, sizeof bearer - 1) != 0)
        return false;
    return same_secret(h->base + sizeof bearer - 1, h->len - (sizeof bearer - 1), a->token,
                       strlen(a->token));
}

static void run(hp__control_job *job, void *data);

static void on_request(hp_handler *self, hp_request *req)
{
    hp__admin *a = (hp__admin *)self;
    if (!authorized(a, req)) {
        static const char body[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"a bearer "
                                   "token is required (Authorization: Bearer TOKEN)\","
                                   "\"details\":[]}}\n";
        hp_response_header(req, "WWW-Authenticate", 16, "Bearer", 6);
        hp_response_header(req, "Content-Type", 12, "application/json", 16);
        hp_respond(req, 401, body, sizeof body - 1);
        return;
    }
    hp__control_job_submit(req, run, a);
}

static void destroy(hp_handler *self)
{
    hp__admin *a = (hp__admin *)self;
    hp_pool_unsubscribe(a->pool, a->stopping_sub);
    free(a->self_name);
    free(a->token);
    free(a);
}

static const hp_handler_vtable admin_vtable = {
    .name = "admin",
    .on_request = on_request,
    .destroy = destroy,
};

/* Splits "/a/b/c" into at most 3 segments; false when there are more or one is empty. */
#define MAX_SEGMENTS 4

static bool split_path(char *path, char *seg[MAX_SEGMENTS], size_t *count)
{
    *count = 0;
    if (path[0] != '/') return false;
    for (char *p = path + 1; *p;) {
        if (*count == MAX_SEGMENTS) return false;
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        if (!*p) return false;
        seg[(*count)++] = p;
        p = slash ? slash + 1 : p + strlen(p);
    }
    return true;
}

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* ---- endpoints ---- */

typedef void (*endpoint_fn)(hp__admin *a, hp__control_job *job, char **seg);

static void list(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_list(a, job);
}
static void add(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_add(a, job);
}
static void health(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__pool_answer_health(job, a->pool);
}
static void metrics(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__pool_answer_metrics(job, a->pool);
}
static void get(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_get(a, job, seg[1]);
}
static void replace(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_replace(a, job, seg[1]);
}
static void remove_server(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_remove(a, job, seg[1]);
}
static void server_action(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_server_action(a, job, seg[1], seg[2]);
}
static void pool_action(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_pool_action(a, job, seg[1]);
}
static void config_get(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_config_get(a, job);
}
static void config_load(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_config_load(a, job);
}
static void reload(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_reload(a, job);
}
static void events(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_events(a, job);
}
static void logs(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_logs(a, job, seg[1]);
}
static void journal(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_journal(a, job, seg[1]);
}
static void upstreams_list(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_upstreams_list(a, job);
}
static void upstream_get(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_upstream_get(a, job, seg[1]);
}
static void upstream_put(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_upstream_put(a, job, seg[1]);
}
static void switchboards_list(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_switchboards_list(a, job);
}
static void switchboard_get(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_switchboard_get(a, job, seg[1]);
}
static void connections(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_connections(a, job, seg[1]);
}
static void connection_close(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_connection_close(a, job, seg[1], seg[3]);
}
static void publish(hp__admin *a, hp__control_job *job, char **seg)
{
    hp__admin_publish(a, job, seg[1]);
}

/* A path of `count` segments: fixed ones match themselves, "{name}" any segment, "{action}"
 * start, stop or restart. */
typedef struct endpoint {
    const char *method;
    size_t count;
    const char *seg[MAX_SEGMENTS];
    endpoint_fn fn;
} endpoint;

static const endpoint endpoints[] = {
    {"GET", 1, {"servers"}, list},
    {"POST", 1, {"servers"}, add},
    {"GET", 1, {"health"}, health},
    {"GET", 1, {"metrics"}, metrics},
    {"GET", 2, {"servers", "{name}"}, get},
    {"PUT", 2, {"servers", "{name}"}, replace},
    {"DELETE", 2, {"servers", "{name}"}, remove_server},
    {"POST", 3, {"servers", "{name}", "{action}"}, server_action},
    {"GET", 3, {"servers", "{name}", "logs"}, logs},
    {"GET", 3, {"servers", "{name}", "journal"}, journal},
    {"POST", 2, {"pool", "{action}"}, pool_action},
    {"GET", 1, {"config"}, config_get},
    {"POST", 1, {"config"}, config_load},
    {"POST", 1, {"reload"}, reload},
    {"GET", 1, {"events"}, events},
    {"GET", 1, {"upstreams"}, upstreams_list},
    {"GET", 2, {"upstreams", "{name}"}, upstream_get},
    {"PUT", 2, {"upstreams", "{name}"}, upstream_put},
    {"GET", 1, {"switchboards"}, switchboards_list},
    {"GET", 2, {"switchboards", "{name}"}, switchboard_get},
    {"GET", 3, {"servers", "{name}", "connections"}, connections},
    {"DELETE", 4, {"servers", "{name}", "connections", "{name}"}, connection_close},
    {"POST", 3, {"servers", "{name}", "publish"}, publish},
};

static bool segment_matches(const char *pattern, const char *seg)
{
    if (is(pattern, "{name}")) return true;
    if (is(pattern, "{action}")) return is(seg, "start") || is(seg, "stop") || is(seg, "restart");
    return is(pattern, seg);
}

static bool path_matches(const endpoint *e, char **seg, size_t n)
{
    if (e->count != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!segment_matches(e->seg[i], seg[i])) return false;
    return true;
}

/* Runs the endpoint of the method and path; 405 listing the methods the path has, or 404. */
static void dispatch(hp__admin *a, hp__control_job *job, char **seg, size_t n)
{
    char allowed[64] = "";
    for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++) {
        if (!path_matches(&endpoints[i], seg, n)) continue;
        if (is(endpoints[i].method, job->method)) return endpoints[i].fn(a, job, seg);
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, "%s%s", used ? ", " : "",
                 endpoints[i].method);
    }
    if (allowed[0]) {
        job->header_name = "Allow";
        job->header_value = hp__strdup(allowed);
        hp__admin_answer_error(job, 405, "method_not_allowed", NULL, "%s %s: allowed: %s",
                               job->method, job->path, allowed);
    } else {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no endpoint %s %s", job->method,
                               job->path);
    }
}

static void run(hp__control_job *job, void *data)
{
    char *seg[MAX_SEGMENTS];
    size_t n;
    char *path = hp__strdup(job->path);
    if (split_path(path, seg, &n))
        dispatch(data, job, seg, n);
    else
        hp__admin_answer_error(job, 404, "not_found", NULL, "no endpoint %s %s", job->method,
                               job->path);
    free(path);
}

static int on_pool_stopping(const hp_event *event, void *data)
{
    if (event) hp__admin_streams_stopping(data);
    return 0;
}

hp_handler *hp__admin_handler_create(const hp__admin_options *o)
{
    hp__admin *a = HP_NEW(hp__admin);
    a->base.vt = &admin_vtable;
    a->pool = o->pool;
    a->self_name = hp__strdup(o->self_name);
    a->token = o->token ? hp__strdup(o->token) : NULL;
    a->live = o->live;
    hp_pool_subscribe(o->pool, "pool.stopping", on_pool_stopping, a, &a->stopping_sub);
    return &a->base;
}
