/* The daemon's admin listener: a server of the pool named "admin" whose one route is the
 * admin API (src/admin), on the config's admin.listen, with the bearer token of
 * admin.token_file when there is one. */
#include "cli/cli.h"

#include "admin/admin.h"
#include "hostpool/errors.h"
#include "io/engine_reserve.h"
#include "pool/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The token: the file's first line without surrounding blanks. NULL (and `err`) when it cannot
 * be read or is empty. */
static char *read_token(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[512] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        snprintf(err, errlen, "admin.token_file %s: cannot be read", path);
        if (f) fclose(f);
        return NULL;
    }
    fclose(f);
    char *start = line + strspn(line, " \t");
    size_t len = strcspn(start, "\r\n");
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t')) len--;
    if (len == 0) {
        snprintf(err, errlen, "admin.token_file %s: the first line is empty", path);
        return NULL;
    }
    start[len] = '\0';
    return strdup(start);
}

int hp__daemon_add_admin(hp_pool *pool, hp__live_config *live, char *err, size_t errlen)
{
    const hp__config *config = hp__live_config_current(live);
    char *token = NULL;
    if (config->admin.token_file && !(token = read_token(config->admin.token_file, err, errlen)))
        return HP_ECONFIG;
    hp__admin_options o = {
        .pool = pool, .self_name = HP__CONFIG_ADMIN_SERVER, .token = token, .live = live};
    hp_route_config route = {.handler = hp__admin_handler_create(&o)};
    free(token);
    const char *listen = config->admin.listen;
    hp__engine_reserve_for(hp__pool_engine(pool), listen); /* answers when descriptors run out */
    hp_server_config c = {.name = HP__CONFIG_ADMIN_SERVER,
                          .listen = &listen,
                          .listen_count = 1,
                          .routes = &route,
                          .route_count = 1,
                          .limits = config->limits,
                          .access_log = config->access_log,
                          .access_log_output =
                              hp__config_access_log_output(&config->access_log_output)};
    int rc = hp_pool_add(pool, &c, err, errlen);
    if (rc) {
        hp_handler_destroy(route.handler);
        return rc;
    }
    rc = hp_pool_start(pool, HP__CONFIG_ADMIN_SERVER, err, errlen);
    if (rc) hp_pool_remove(pool, HP__CONFIG_ADMIN_SERVER, NULL, NULL);
    return rc;
}
