/* One validated server (config.h) into an hp_server_config with its handlers created.
 *
 * Kept apart from loading so that loading never touches the file system and the pool
 * decides when handlers come to life (when it starts the server). Every route is tried, so a
 * server with two bad file roots reports both; on any failure the handlers already created
 * are destroyed and nothing is returned. */
#include "config/config.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "hostpool/pool.h"

#include <stdio.h>
#include <stdlib.h>

static hp_handler *create_handler(const hp__config_server *s, size_t i, hp__config_errors *errs)
{
    const hp__config_route *r = &s->routes[i];
    char path[512];
    hp_handler *h = NULL;
    int err = HP_EINVAL;
    switch (r->handler) {
    case HP__CONFIG_RESPOND:
        h = hp_respond_handler_create(r->respond.status, r->respond.body, r->respond.body_len,
                                      (const char *const *)r->respond.headers,
                                      r->respond.header_count);
        snprintf(path, sizeof path, "%s.routes[%zu].respond", s->path, i);
        break;
    case HP__CONFIG_FILE: {
        hp_file_options options = {.root = r->file.root, .index = r->file.index};
        h = hp_file_handler_create(&options, &err);
        if (!h) {
            snprintf(path, sizeof path, "%s.routes[%zu].file.root", s->path, i);
            hp__config_errors_add(errs, s->file, r->file.root_pos.line, r->file.root_pos.column,
                                  path, "cannot serve \"%s\": %s", r->file.root, hp_strerror(err));
            return NULL;
        }
        break;
    }
    case HP__CONFIG_REDIRECT:
        h = hp_redirect_handler_create(r->redirect.status, r->redirect.location,
                                       r->redirect.keep_path);
        snprintf(path, sizeof path, "%s.routes[%zu].redirect", s->path, i);
        break;
    case HP__CONFIG_METRICS: /* bound to the pool when the server joins it (pool_handlers.c) */
        h = hp_metrics_handler_create();
        break;
    case HP__CONFIG_HEALTH:
        h = hp_health_handler_create();
        break;
    default:
        snprintf(path, sizeof path, "%s.routes[%zu]", s->path, i);
        break;
    }
    if (!h)
        hp__config_errors_add(errs, s->file, r->pos.line, r->pos.column, path,
                              "cannot create the handler: %s", hp_strerror(err));
    return h;
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
        };
        failed |= routes[i].handler == NULL;
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
