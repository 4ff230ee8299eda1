/* A switchboard's state on the control thread and the servers it makes (switchboard.h has
 * the design, the request's path and the idle rule). */
#include "switch/switchboard.h"

#include "common/alloc.h"
#include "core/sched.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "http/stats.h"
#include "pool/pool_internal.h"
#include "switch/switch_front.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HOST_CAP 256
#define IDLE_TICK_MIN_MS 100

/* What the idle rule knows of one server it watches. */
typedef struct idle_record {
    char *name;
    uint64_t responses; /* at the last tick */
    uint64_t active_ms; /* the last tick that saw it busy (or its first tick) */
} idle_record;

struct hp__switchboard {
    hp_pool *pool;
    hp__switchboard_model m;
    hp__switch_names *names;
    uint64_t idle_timer; /* on the pool's scheduler; 0: none pending */
    idle_record *idle;
    size_t idle_count, idle_cap;
    atomic_uint_fast64_t refused_not_allowed, refused_limit;
    hp__switchboard *next;
};

/* ---- the model ---------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? hp__strdup(s) : NULL;
}

static void model_copy(hp__switchboard_model *to, const hp__switchboard_model *from)
{
    *to = *from;
    to->name = hp__strdup(from->name);
    to->listen = hp__strdup(from->listen);
    to->hosts = hp__calloc(from->host_count, sizeof *to->hosts);
    for (size_t i = 0; i < from->host_count; i++) to->hosts[i] = hp__strdup(from->hosts[i]);
    to->fallback_header = dup_or_null(from->fallback_header);
    to->default_name = dup_or_null(from->default_name);
    to->allow_name = dup_or_null(from->allow_name);
    to->allow_exists = dup_or_null(from->allow_exists);
    to->file_root = dup_or_null(from->file_root);
    hp__config_access_log_copy(&to->access_log_output, &from->access_log_output);
    if (from->process) {
        to->process = HP_NEW(hp__process_model);
        hp__process_model_copy(to->process, &from->process->config);
    }
}

void hp__switchboard_model_close(hp__switchboard_model *m)
{
    free(m->name);
    free(m->listen);
    for (size_t i = 0; i < m->host_count; i++) free(m->hosts[i]);
    free(m->hosts);
    free(m->fallback_header);
    free(m->default_name);
    free(m->allow_name);
    free(m->allow_exists);
    free(m->file_root);
    hp__config_access_log_close(&m->access_log_output);
    if (m->process) hp__process_model_free(m->process);
    free(m->process);
    *m = (hp__switchboard_model){0};
}

/* ---- the list ----------------------------------------------------------------------------- */

const hp__switchboard *hp__switchboard_first(const hp_pool *pool)
{
    return *hp__pool_switchboards(pool);
}

const hp__switchboard *hp__switchboard_next(const hp__switchboard *sb)
{
    return sb->next;
}

const hp__switchboard *hp__switchboard_find(const hp_pool *pool, const char *name)
{
    for (const hp__switchboard *sb = hp__switchboard_first(pool); sb; sb = sb->next)
        if (strcmp(sb->m.name, name) == 0) return sb;
    return NULL;
}

const hp__switchboard_model *hp__switchboard_model_of(const hp__switchboard *sb)
{
    return &sb->m;
}

static void idle_forget(hp__switchboard *sb, size_t i)
{
    free(sb->idle[i].name);
    sb->idle[i] = sb->idle[--sb->idle_count];
}

static void switchboard_free(hp__switchboard *sb)
{
    while (sb->idle_count) idle_forget(sb, 0);
    free(sb->idle);
    hp__switch_names_destroy(sb->names);
    hp__switchboard_model_close(&sb->m);
    free(sb);
}

void hp__switchboards_stop(hp__switchboard *first)
{
    for (hp__switchboard *sb = first; sb; sb = sb->next) {
        if (sb->idle_timer) hp__sched_cancel(hp__pool_sched(sb->pool), sb->idle_timer);
        sb->idle_timer = 0;
    }
}

void hp__switchboards_destroy(hp__switchboard *first)
{
    hp__switchboards_stop(first);
    for (hp__switchboard *sb = first, *next; sb; sb = next) {
        next = sb->next;
        switchboard_free(sb);
    }
}

/* ---- its servers -------------------------------------------------------------------------- */

typedef struct servers_walk {
    const hp__switchboard *sb;
    hp_pool_strings *names;
} servers_walk;

static bool collect_server(const hp_server_info *info, void *data)
{
    servers_walk *w = data;
    const char *owner = hp__pool_server_switchboard(w->sb->pool, info->name);
    if (!owner || strcmp(owner, w->sb->m.name) != 0) return true;
    w->names->items = hp__realloc(w->names->items, (w->names->count + 1) * sizeof(char *));
    w->names->items[w->names->count++] = hp__strdup(info->name);
    return true;
}

void hp__switchboard_servers(const hp__switchboard *sb, hp_pool_strings *names)
{
    *names = (hp_pool_strings){0};
    hp_pool_walk(sb->pool, collect_server, &(servers_walk){sb, names});
}

static size_t server_count(const hp__switchboard *sb)
{
    hp_pool_strings names;
    hp__switchboard_servers(sb, &names);
    size_t n = names.count;
    hp_pool_strings_free(&names);
    return n;
}

uint64_t hp__switchboard_refused(const hp__switchboard *sb, const char *reason)
{
    const atomic_uint_fast64_t *counter =
        strcmp(reason, "limit") == 0 ? &sb->refused_limit : &sb->refused_not_allowed;
    return atomic_load_explicit(counter, memory_order_relaxed);
}

void hp__switchboard_count_not_allowed(hp__switchboard *sb)
{
    atomic_fetch_add_explicit(&sb->refused_not_allowed, 1, memory_order_relaxed);
}

json_t *hp__switchboard_json(const hp__switchboard *sb)
{
    const hp__switchboard_model *m = &sb->m;
    json_t *hosts = json_array();
    for (size_t i = 0; i < m->host_count; i++)
        json_array_append_new(hosts, json_string(m->hosts[i]));
    hp_pool_strings names;
    hp__switchboard_servers(sb, &names);
    json_t *servers = json_array();
    for (size_t i = 0; i < names.count; i++)
        json_array_append_new(servers, json_string(names.items[i]));
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:s, s:o, s:I}", "name", m->name, "listen", m->listen,
        "hosts", hosts, "fallback_header",
        m->fallback_header ? json_string(m->fallback_header) : json_null(), "default",
        m->default_name ? json_string(m->default_name) : json_null(), "max_servers",
        (json_int_t)m->max_servers, "idle_timeout_ms", (json_int_t)m->idle_timeout_ms, "template",
        m->process ? "process" : "file", "servers", servers, "count", (json_int_t)names.count);
    hp_pool_strings_free(&names);
    return o;
}

/* ---- the idle rule ------------------------------------------------------------------------ */

static uint64_t idle_tick_ms(const hp__switchboard *sb)
{
    uint64_t quarter = sb->m.idle_timeout_ms / 4;
    return quarter < IDLE_TICK_MIN_MS ? IDLE_TICK_MIN_MS : quarter;
}

static void idle_tick(hp__sched *s, uint64_t now, void *data);

static void idle_arm(hp__switchboard *sb)
{
    hp__sched *s = hp__pool_sched(sb->pool);
    sb->idle_timer = hp__sched_add(s, hp__sched_now(s) + idle_tick_ms(sb), idle_tick, sb);
}

static idle_record *idle_find(hp__switchboard *sb, const char *name)
{
    for (size_t i = 0; i < sb->idle_count; i++)
        if (strcmp(sb->idle[i].name, name) == 0) return &sb->idle[i];
    return NULL;
}

static void idle_forget_name(hp__switchboard *sb, const char *name)
{
    idle_record *r = idle_find(sb, name);
    if (r) idle_forget(sb, (size_t)(r - sb->idle));
}

static idle_record *idle_watch(hp__switchboard *sb, const char *name, uint64_t responses,
                               uint64_t now)
{
    idle_record *r = idle_find(sb, name);
    if (r) return r;
    if (sb->idle_count == sb->idle_cap) {
        sb->idle_cap = sb->idle_cap ? 2 * sb->idle_cap : 8;
        sb->idle = hp__realloc(sb->idle, sb->idle_cap * sizeof *sb->idle);
    }
    r = &sb->idle[sb->idle_count++];
    *r = (idle_record){.name = hp__strdup(name), .responses = responses, .active_ms = now};
    return r;
}

/* Whether the running server `name` has been idle for idle_timeout by `now`. */
static bool idle_for_long(hp__switchboard *sb, const hp_server_info *info, uint64_t now)
{
    hp__stats_totals t;
    hp__stats_totals_read(info->server->stats, &t);
    idle_record *r = idle_watch(sb, info->name, t.responses, now);
    uint64_t responses = t.responses;
    bool busy = t.in_flight > 0 || responses != r->responses;
    hp__stats_totals_close(&t);
    if (busy) {
        r->responses = responses;
        r->active_ms = now;
        return false;
    }
    return now - r->active_ms >= sb->m.idle_timeout_ms;
}

static void idle_stop(hp__switchboard *sb, const char *name)
{
    hp__pool_publish_server(sb->pool, "server.idle_stopped", name);
    idle_forget_name(sb, name);
    hp_pool_remove(sb->pool, name, NULL, NULL);
}

/* Forgets the records of servers that are gone (removed or stopped by hand). */
static void idle_prune(hp__switchboard *sb, const hp_pool_strings *running)
{
    for (size_t i = sb->idle_count; i-- > 0;) {
        bool found = false;
        for (size_t j = 0; j < running->count && !found; j++)
            found = strcmp(running->items[j], sb->idle[i].name) == 0;
        if (!found) idle_forget(sb, i);
    }
}

static void idle_tick(hp__sched *s, uint64_t now, void *data)
{
    hp__switchboard *sb = data;
    sb->idle_timer = 0;
    hp_pool_strings names, running = {0};
    hp__switchboard_servers(sb, &names);
    running.items = hp__calloc(names.count + 1, sizeof(char *));
    for (size_t i = 0; i < names.count; i++) {
        hp_server_info info;
        if (hp_pool_info(sb->pool, names.items[i], &info) != 0) continue;
        if (info.state != HP_SERVER_RUNNING) continue;
        if (idle_for_long(sb, &info, now))
            idle_stop(sb, names.items[i]);
        else
            running.items[running.count++] = hp__strdup(names.items[i]);
    }
    idle_prune(sb, &running);
    hp_pool_strings_free(&running);
    hp_pool_strings_free(&names);
    idle_arm(sb);
}

/* ---- creation ----------------------------------------------------------------------------- */

static int make_names(hp__switchboard *sb, char *err, size_t errlen)
{
    const hp__switchboard_model *m = &sb->m;
    hp__switch_names_config nc = {
        .hosts = (const char *const *)m->hosts,
        .host_count = m->host_count,
        .fallback_header = m->fallback_header,
        .default_name = m->default_name,
        .allow_name = m->allow_name,
        .allow_exists = m->allow_exists,
    };
    sb->names = hp__switch_names_create(&nc, err, errlen);
    return sb->names ? 0 : HP_ECONFIG;
}

static int add_front(hp__switchboard *sb, char *err, size_t errlen)
{
    hp_handler *front = hp__switch_front_create(sb);
    const char *listen[] = {sb->m.listen};
    hp_route_config route = {.handler = front};
    hp_server_config c = {
        .name = sb->m.name,
        .listen = listen,
        .listen_count = 1,
        .routes = &route,
        .route_count = 1,
        .limits = sb->m.limits,
        .access_log = sb->m.access_log,
        .access_log_output = hp__config_access_log_output(&sb->m.access_log_output),
    };
    int status = hp_pool_add(sb->pool, &c, err, errlen);
    if (status) hp_handler_destroy(front);
    return status;
}

int hp__switchboard_add(hp_pool *pool, const hp__switchboard_model *model, char *err, size_t errlen)
{
    if (hp__switchboard_find(pool, model->name)) {
        snprintf(err, errlen, "a switchboard named \"%s\" already exists", model->name);
        return HP_EEXISTS;
    }
    hp__switchboard *sb = HP_NEW(hp__switchboard);
    sb->pool = pool;
    model_copy(&sb->m, model);
    int status = make_names(sb, err, errlen);
    if (!status) status = add_front(sb, err, errlen);
    if (status) {
        switchboard_free(sb);
        return status;
    }
    hp__switchboard **tail = hp__pool_switchboards(pool);
    while (*tail) tail = &(*tail)->next;
    *tail = sb;
    if (sb->m.idle_timeout_ms) idle_arm(sb);
    return 0;
}

/* ---- the names the front could not reroute ------------------------------------------------ */

const hp__switch_names *hp__switchboard_names(const hp__switchboard *sb)
{
    return sb->names;
}

bool hp__switchboard_host(const hp__switchboard *sb, const char *name, char *host, size_t cap)
{
    hp__template_values v = {.name = name};
    return hp__template_expand(sb->m.hosts[0], v, host, cap, NULL) == HP__TEMPLATE_OK;
}

/* Answers {"error": message, "switchboard": name} (and "limit" when not NULL). */
static void answer_error(hp__control_job *job, const hp__switchboard *sb, int status,
                         const char *limit, const char *message)
{
    json_t *o = json_pack("{s:s, s:s}", "error", message, "switchboard", sb->m.name);
    if (limit) json_object_set_new(o, "limit", json_string(limit));
    if (status == 503) {
        job->header_name = "Retry-After";
        job->header_value = hp__strdup("1");
    }
    hp__control_job_answer_json(job, status, o);
}

static void refuse_not_allowed(hp__control_job *job, hp__switchboard *sb, const char *name)
{
    hp__switchboard_count_not_allowed(sb);
    char message[160];
    snprintf(message, sizeof message, "no server named \"%s\" may be made here", name);
    answer_error(job, sb, 404, NULL, message);
}

static void refuse_limit(hp__control_job *job, hp__switchboard *sb, const char *limit,
                         uint32_t value)
{
    atomic_fetch_add_explicit(&sb->refused_limit, 1, memory_order_relaxed);
    char message[160];
    snprintf(message, sizeof message, "too many servers: %s is %u", limit, value);
    answer_error(job, sb, 503, limit, message);
}

/* allow.name, then allow.exists (stat'ed here, on the control thread). */
static bool allowed(const hp__switchboard *sb, const char *name)
{
    if (hp__switch_names_allow(sb->names, name) != HP__SWITCH_NAME_OK) return false;
    char path[PATH_MAX];
    int r = hp__switch_names_exists_path(sb->names, name, path, sizeof path);
    struct stat st;
    return r == 1 || (r == 0 && stat(path, &st) == 0);
}

/* What the maker tells the job: why it failed. */
typedef struct make_ctx {
    hp__switchboard *sb;
    bool handler_failed; /* the template's handler could not be made (a root that is gone) */
    char why[256];
} make_ctx;

static hp_handler *make_handler(make_ctx *ctx, const char *name)
{
    char root[PATH_MAX];
    hp__template_values v = {.name = name};
    if (hp__template_expand(ctx->sb->m.file_root, v, root, sizeof root, NULL) != HP__TEMPLATE_OK) {
        snprintf(ctx->why, sizeof ctx->why, "the root of \"%s\" is too long", name);
        return NULL;
    }
    int err = 0;
    hp_handler *h = hp_file_handler_create(&(hp_file_options){.root = root}, &err);
    if (!h) snprintf(ctx->why, sizeof ctx->why, "no folder to serve for \"%s\"", name);
    return h;
}

static int make_server(hp_pool *pool, const char *name, void *data)
{
    make_ctx *ctx = data;
    const hp__switchboard_model *m = &ctx->sb->m;
    hp_handler *handler = NULL;
    if (!m->process && !(handler = make_handler(ctx, name)))
        return ctx->handler_failed = true, HP_ENOTFOUND;
    char(*hosts)[HOST_CAP] = hp__calloc(m->host_count, HOST_CAP);
    const char **host_list = hp__calloc(m->host_count, sizeof *host_list);
    for (size_t i = 0; i < m->host_count; i++) {
        hp__template_expand(m->hosts[i], (hp__template_values){.name = name}, hosts[i], HOST_CAP,
                            NULL);
        host_list[i] = hosts[i];
    }
    const char *listen[] = {m->listen};
    hp_route_config route = {.handler = handler};
    hp_server_config c = {
        .name = name,
        .listen = listen,
        .listen_count = 1,
        .hosts = host_list,
        .host_count = m->host_count,
        .routes = handler ? &route : NULL,
        .route_count = handler ? 1 : 0,
        .limits = m->limits,
        .access_log = m->access_log,
        .access_log_output = hp__config_access_log_output(&m->access_log_output),
        .process = m->process ? &m->process->config : NULL,
    };
    int status = hp__pool_add_on_demand(pool, &c, m->name, ctx->why, sizeof ctx->why);
    if (status) hp_handler_destroy(handler);
    free(host_list);
    free(hosts);
    return status;
}

/* Back on the request's worker: the server of the name is in its table now. */
static void reroute_there(hp_request *req, void *arg, bool on_worker)
{
    char *host = arg;
    if (req && !hp__switch_front_reroute(req, host))
        hp__switch_front_refuse(req, 503, "the server went away");
    free(host);
}

static void hand_back(hp__control_job *job, hp__switchboard *sb, const char *name)
{
    char host[HOST_CAP];
    if (!hp__switchboard_host(sb, name, host, sizeof host)) {
        answer_error(job, sb, 404, NULL, "the name does not fit in a host name");
        return;
    }
    hp__control_job_hand_over(job, reroute_there, hp__strdup(host));
}

/* A server of this switchboard exists: start it if stopped, then hand the request back. */
static void serve_existing(hp__control_job *job, hp__switchboard *sb, const char *name)
{
    hp_server_info info;
    hp_pool_info(sb->pool, name, &info);
    if (info.state == HP_SERVER_DRAINING) {
        answer_error(job, sb, 503, NULL, "the server is stopping");
        return;
    }
    char why[256];
    if ((info.state == HP_SERVER_STOPPED || info.state == HP_SERVER_FAILED) &&
        hp_pool_start(sb->pool, name, why, sizeof why) != 0) {
        answer_error(job, sb, 503, NULL, why);
        return;
    }
    hand_back(job, sb, name);
}

static void serve_new(hp__control_job *job, hp__switchboard *sb, const char *name)
{
    if (server_count(sb) >= sb->m.max_servers) {
        refuse_limit(job, sb, "max_servers", sb->m.max_servers);
        return;
    }
    make_ctx ctx = {.sb = sb};
    idle_forget_name(sb, name);
    /* No callback: a process server is `starting` until its program is ready, and the
     * request handed back waits for it in the process gate's queue (handlers/process_gate.c);
     * a start that failed at once (its address) is seen in its state. */
    int err = hp_pool_get_or_create(sb->pool, name, make_server, &ctx, NULL, NULL);
    hp_server_info info;
    if (err == HP_ELIMIT) {
        atomic_fetch_add_explicit(&sb->refused_limit, 1, memory_order_relaxed);
        answer_error(job, sb, 503, "limits.max_servers", ctx.why);
    } else if (err) {
        answer_error(job, sb, ctx.handler_failed ? 404 : 503, NULL,
                     ctx.why[0] ? ctx.why : "the server could not be made");
    } else if (hp_pool_info(sb->pool, name, &info) != 0 || info.state == HP_SERVER_FAILED) {
        answer_error(job, sb, 503, NULL, "the server could not start");
    } else {
        hand_back(job, sb, name);
    }
}

void hp__switchboard_serve(hp__control_job *job, void *data)
{
    hp__switchboard *sb = data;
    const char *name = job->arg;
    if (!allowed(sb, name)) {
        refuse_not_allowed(job, sb, name);
        return;
    }
    const char *owner = hp__pool_server_switchboard(sb->pool, name);
    if (hp_pool_has(sb->pool, name) && (!owner || strcmp(owner, sb->m.name) != 0)) {
        refuse_not_allowed(job, sb, name);
        return;
    }
    if (owner)
        serve_existing(job, sb, name);
    else
        serve_new(job, sb, name);
}
