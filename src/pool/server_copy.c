#include "pool/server_copy.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "http/server.h"
#include "io/log_file.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "HOST:auto" for an address that got an automatic port ("127.0.0.1:20001"), else a copy. */
static char *written_address(const char *resolved, bool is_auto)
{
    if (!is_auto) return hp__strdup(resolved);
    const char *colon = strrchr(resolved, ':');
    size_t host_len = colon ? (size_t)(colon - resolved) : strlen(resolved);
    char *out = hp__malloc(host_len + sizeof ":auto");
    memcpy(out, resolved, host_len);
    memcpy(out + host_len, ":auto", sizeof ":auto");
    return out;
}

/* The method names of a route's mask, or NULL (and 0) for any method. */
static const char **method_names(uint64_t mask, size_t *count)
{
    *count = 0;
    if (mask == ~(uint64_t)0) return NULL;
    const char **names = hp__calloc(64, sizeof *names);
    for (unsigned bit = 0; bit < 64; bit++)
        if (mask & ((uint64_t)1 << bit)) names[(*count)++] = llhttp_method_name(bit);
    return names;
}

static void free_routes(hp__server_copy *copy, size_t count, bool with_handlers)
{
    for (size_t i = 0; i < count; i++) {
        if (with_handlers) hp_handler_destroy(copy->routes[i].handler);
        free(copy->methods[i]);
    }
}

/* A route's own compression as its config says it: its policy, or `off` when it has none
 * though its server has one; NULL when it follows its server. */
static const hp_compress_config *route_compress(const hp_server *server, const hp__route *r)
{
    static const hp_compress_config off = {.off = true};
    if (r->own_compress) return &r->own_compress->config;
    return server->compress && !r->compress ? &off : NULL;
}

static int copy_routes(hp__server_copy *copy, const hp_server *server, char *errbuf, size_t errlen)
{
    size_t n = server->route_count;
    copy->routes = hp__calloc(n ? n : 1, sizeof *copy->routes);
    copy->methods = hp__calloc(n ? n : 1, sizeof *copy->methods);
    for (size_t i = 0; i < n; i++) {
        const hp__route *r = &server->routes[i];
        hp_route_config *c = &copy->routes[i];
        c->handler = hp_handler_clone(r->handler);
        if (!c->handler) {
            if (errbuf)
                snprintf(errbuf, errlen,
                         "server \"%s\": routes[%zu]: a %s handler cannot be cloned", server->name,
                         i, r->handler->vt->name);
            free_routes(copy, i, true);
            return HP_EINVAL;
        }
        c->path_prefix = r->path_prefix;
        c->rate_limit = r->rate_guard ? hp__rate_guard_limit(r->rate_guard) : NULL;
        c->compress = route_compress(server, r);
        c->headers = r->headers_written;
        c->basic_auth = r->auth ? hp__basic_auth_config(r->auth) : NULL;
        copy->methods[i] = method_names(r->method_mask, &c->method_count);
        c->methods = copy->methods[i];
    }
    return 0;
}

int hp__server_copy_init(hp__server_copy *copy, const hp_server *server, const int *auto_ports,
                         const hp_handler *pool_default, const hp_process_config *process,
                         char *errbuf, size_t errlen)
{
    memset(copy, 0, sizeof *copy);
    int err = process ? 0 : copy_routes(copy, server, errbuf, errlen);
    if (err) {
        free(copy->routes);
        free(copy->methods);
        return err;
    }
    copy->listen = hp__calloc(server->listen_count, sizeof *copy->listen);
    for (size_t i = 0; i < server->listen_count; i++)
        copy->listen[i] = written_address(server->listen[i], auto_ports && auto_ports[i]);
    copy->config = (hp_server_config){
        .name = server->name,
        .expose = server->expose,
        .listen = (const char *const *)copy->listen,
        .listen_count = server->listen_count,
        .hosts = (const char *const *)server->hosts,
        .host_count = server->host_count,
        .routes = copy->routes,
        .route_count = process ? 0 : server->route_count,
        .limits = server->limits,
        .access_log = server->access_log,
        .access_log_output = {.path = server->access_log_file
                                          ? hp__log_file_path(server->access_log_file)
                                          : NULL,
                              .format = server->access_log_format,
                              .buffer_bytes = server->access_log_buffer},
        .journal = server->journal_config,
        .fallback = server->fallback == pool_default ? NULL : server->fallback,
        .process = process,
        .max_in_flight = server->max_in_flight,
        .rate_limit = server->rate_guard ? hp__rate_guard_limit(server->rate_guard) : NULL,
        .compress = server->compress ? &server->compress->config : NULL,
        .headers = server->headers_written,
    };
    return 0;
}

void hp__server_copy_fini(hp__server_copy *copy)
{
    free_routes(copy, copy->config.route_count, !copy->handed_over);
    for (size_t i = 0; i < copy->config.listen_count; i++) free(copy->listen[i]);
    free(copy->listen);
    free(copy->routes);
    free(copy->methods);
}
