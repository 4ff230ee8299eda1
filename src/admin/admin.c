/* The admin handler: the token check on the worker, then the request as a job on the control
 * thread, dispatched by method and path:
 *
 *   GET /servers  POST /servers  GET|PUT|DELETE /servers/{name}
 *   POST /servers/{name}/start|stop|restart  POST /pool/start|stop|restart  GET /health
 *   GET /metrics */
#include "admin/admin_internal.h"

#include "common/alloc.h"
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
    hp__admin_job_submit(a->jobs, req);
}

static void destroy(hp_handler *self)
{
    hp__admin *a = (hp__admin *)self;
    hp__admin_jobs_destroy(a->jobs);
    free(a->self_name);
    free(a->token);
    free(a);
}

static const hp_handler_vtable admin_vtable = {"admin", on_request, destroy, NULL, NULL};

/* Splits "/a/b/c" into at most 3 segments; false when there are more or one is empty. */
static bool split_path(char *path, char *seg[3], size_t *count)
{
    *count = 0;
    if (path[0] != '/') return false;
    for (char *p = path + 1; *p;) {
        if (*count == 3) return false;
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

static bool is_action(const char *s)
{
    return is(s, "start") || is(s, "stop") || is(s, "restart");
}

/* The endpoint for `method` and the path segments, or false when the path is not one. */
static bool dispatch(hp__admin *a, hp__admin_job *job, const char *method, char **seg, size_t n)
{
    bool get = is(method, "GET"), post = is(method, "POST");
    if (n == 1 && is(seg[0], "servers") && get) return hp__admin_list(a, job), true;
    if (n == 1 && is(seg[0], "servers") && post) return hp__admin_add(a, job), true;
    if (n == 1 && is(seg[0], "health") && get) return hp__admin_answer_health(job, a->pool), true;
    if (n == 1 && is(seg[0], "metrics") && get) return hp__admin_answer_metrics(job, a->pool), true;
    if (n == 2 && is(seg[0], "servers") && get) return hp__admin_get(a, job, seg[1]), true;
    if (n == 2 && is(seg[0], "servers") && is(method, "PUT"))
        return hp__admin_replace(a, job, seg[1]), true;
    if (n == 2 && is(seg[0], "servers") && is(method, "DELETE"))
        return hp__admin_remove(a, job, seg[1]), true;
    if (n == 3 && is(seg[0], "servers") && post && is_action(seg[2]))
        return hp__admin_server_action(a, job, seg[1], seg[2]), true;
    if (n == 2 && is(seg[0], "pool") && post && is_action(seg[1]))
        return hp__admin_pool_action(a, job, seg[1]), true;
    return false;
}

static void run(hp__admin_job *job, void *data)
{
    hp__admin *a = data;
    char *seg[3];
    size_t n;
    char *path = hp__strdup(job->path);
    if (!split_path(path, seg, &n) || !dispatch(a, job, job->method, seg, n))
        hp__admin_answer_error(job, 404, "not_found", NULL, "no endpoint %s %s", job->method,
                               job->path);
    free(path);
}

hp_handler *hp__admin_handler_create(const hp__admin_options *o)
{
    hp__admin *a = HP_NEW(hp__admin);
    a->base.vt = &admin_vtable;
    a->pool = o->pool;
    a->self_name = hp__strdup(o->self_name);
    a->token = o->token ? hp__strdup(o->token) : NULL;
    a->defaults.limits = o->limits;
    a->defaults.access_log = o->access_log;
    a->jobs = hp__admin_jobs_create(hp__pool_loop(o->pool), hp__pool_engine(o->pool), run, a);
    return &a->base;
}
