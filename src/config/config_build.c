/* One validated server (config.h) into an hp_server_config with its handlers created.
 *
 * Kept apart from loading so that loading never touches the file system and the pool
 * decides when handlers come to life (when it starts the server). Each route's handler is
 * made by the kind its key named (hostpool/handler_kind.h: build), which reports what it
 * cannot make under the route's path. Every route is tried, so a server with two bad file
 * roots reports both; on any failure the handlers already created are destroyed and nothing
 * is returned. */
#include "config/config.h"

#include "config/config_basic_auth.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* One route's build in progress: where its errors go and the path they are written under. */
struct hp_config_build {
    hp__config_errors *errs;
    const char *file;
    char path[512]; /* "servers[1].routes[0].file" */
    size_t reported;
};

void hp_config_build_error(hp_config_build *b, const char *key, hp_config_pos pos, const char *fmt,
                           ...)
{
    char path[600];
    snprintf(path, sizeof path, "%s%s%s", b->path, key ? "." : "", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    hp__config_errors_vadd(b->errs, b->file, pos.line, pos.column, path, fmt, ap);
    va_end(ap);
    b->reported++;
}

static hp_handler *create_handler(const hp__config_server *s, size_t i, hp__config_errors *errs)
{
    const hp__config_route *r = &s->routes[i];
    hp_config_build b = {.errs = errs, .file = s->file};
    snprintf(b.path, sizeof b.path, "%s.routes[%zu].%s", s->path, i, r->kind->key);
    hp_handler *h = NULL;
    int err = r->kind->build(r->model, &b, &h);
    if (!err && h) return h;
    hp_handler_destroy(h);
    if (!b.reported)
        hp_config_build_error(&b, NULL, r->pos, "cannot create the handler: %s",
                              hp_strerror(err ? err : HP_EINVAL));
    return NULL;
}

/* The users file of route i's basic_auth, read once here so that each bad line is reported at
 * its FILE:LINE (hp_server_create reads it again, and would report only a message). */
static bool users_file_ok(const hp__config_server *s, size_t i, hp__config_errors *errs)
{
    char path[512];
    snprintf(path, sizeof path, "%s.routes[%zu].basic_auth.users", s->path, i);
    return hp__config_check_users_file(s->routes[i].basic_auth, path, errs);
}

int hp__config_build_server(const hp__config_server *s, hp_server_config *out,
                            hp__config_errors *errs)
{
    hp_route_config *routes = hp__calloc(s->route_count ? s->route_count : 1, sizeof *routes);
    bool failed = false;
    for (size_t i = 0; i < s->route_count; i++) {
        const hp__config_route *r = &s->routes[i];
        routes[i] = (hp_route_config){
            .path_prefix = r->path_prefix,
            .methods = (const char *const *)r->methods,
            .method_count = r->method_count,
            .handler = create_handler(s, i, errs),
            .rate_limit = r->rate_limit,
            .compress = r->compress,
            .headers = r->headers,
            .basic_auth = r->basic_auth,
        };
        failed |= routes[i].handler == NULL;
        failed |= r->basic_auth && !users_file_ok(s, i, errs);
    }
    *out = (hp_server_config){
        .name = s->name,
        .expose = s->expose,
        .listen = (const char *const *)s->listen,
        .listen_count = s->listen_count,
        .hosts = (const char *const *)s->hosts,
        .host_count = s->host_count,
        .routes = routes,
        .route_count = s->route_count,
        .limits = s->limits,
        .access_log = s->access_log,
        .access_log_output = hp__config_access_log_output(&s->access_log_output),
        .journal = s->journal,
        .process = s->process ? &s->process->config : NULL,
        .rate_limit = s->rate_limit,
        .max_in_flight = s->max_in_flight,
        .compress = s->compress,
        .headers = s->headers,
    };
    if (!failed) return 0;
    hp__config_server_config_close(out, true);
    return HP_ECONFIG;
}

void hp__config_server_config_close(hp_server_config *config, bool handlers)
{
    hp_route_config *routes = (hp_route_config *)config->routes;
    if (handlers)
        for (size_t i = 0; i < config->route_count; i++) hp_handler_destroy(routes[i].handler);
    free(routes);
    *config = (hp_server_config){0};
}
