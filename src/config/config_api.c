/* The public face of config loading (hostpool/config.h): the loader and builder the daemon
 * uses, for programs that embed the library, with errors as text.
 *
 * hp_pool_add_config does what `hostpool run` does with a loaded config (cli/daemon.c): build
 * every server, and add them only when all built. It is the one file of src/config that knows
 * the pool, to hand it servers; handlers are found through the registry, never here. */
#include "hostpool/config.h"

#include "common/alloc.h"
#include "config/config.h"
#include "hostpool/errors.h"
#include "pool/pool_internal.h"
#include "upstream/upstreams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends `line` and a newline to *text (NULL when empty). */
static void append_line(char **text, const char *line)
{
    size_t used = *text ? strlen(*text) : 0, len = strlen(line);
    *text = hp__realloc(*text, used + len + 2);
    memcpy(*text + used, line, len);
    memcpy(*text + used + len, "\n", 2);
}

static char *errors_text(const hp__config_errors *errs)
{
    char *text = NULL;
    for (size_t i = 0; i < errs->count; i++) {
        char *line = hp__config_error_format(&errs->items[i]);
        append_line(&text, line);
        free(line);
    }
    return text;
}

int hp_config_load_file(const char *path, hp_config **out, char **errors)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    int rc = hp__config_load_file(path, out, &errs);
    if (errors) *errors = errors_text(&errs);
    hp__config_errors_close(&errs);
    return rc;
}

void hp_config_destroy(hp_config *config)
{
    hp__config_destroy(config);
}

/* Builds every server into built[] (config->server_count of them); all or none. */
static int build_all(const hp_config *config, hp_server_config *built, char **errors)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    for (size_t i = 0; i < config->server_count; i++)
        hp__config_build_server(&config->servers[i], &built[i], &errs);
    int rc = errs.count ? HP_ECONFIG : 0;
    if (rc)
        for (size_t i = 0; i < config->server_count; i++)
            hp__config_server_config_close(&built[i], true);
    if (errors) *errors = errors_text(&errs);
    hp__config_errors_close(&errs);
    return rc;
}

int hp_pool_add_config(hp_pool *pool, const hp_config *config, char **errors)
{
    hp_server_config *built = hp__calloc(config->server_count + 1, sizeof *built);
    int rc = build_all(config, built, errors);
    if (rc) {
        free(built);
        return rc;
    }
    /* Upstreams first: a proxy route resolves its upstream by name from its first request. */
    for (size_t i = 0; i < config->upstream_count; i++)
        hp__upstreams_put(hp__pool_upstreams(pool), &config->upstreams[i]);
    for (size_t i = 0; i < config->server_count; i++) {
        char why[256], line[320];
        int err = hp_pool_add(pool, &built[i], why, sizeof why);
        hp__config_server_config_close(&built[i], err != 0); /* the pool owns them on success */
        if (!err) continue;
        snprintf(line, sizeof line, "%s: %s", config->servers[i].name, why);
        if (errors) append_line(errors, line);
        if (!rc) rc = err;
    }
    free(built);
    return rc;
}
