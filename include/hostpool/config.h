/* Config files, for programs that embed the library.
 *
 * The loader of `hostpool run` and `hostpool validate`: a YAML file, or JSON when its name
 * ends in ".json" (docs/CONFIG.md), checked completely, every problem reported as
 * `file:line:column: path: message`. Routes may name the built-in handlers and every kind
 * registered with hp_handler_kind_register() (hostpool/handler_kind.h) before the first load.
 * The daemon's own keys (admin, pid_file) are checked and not used here; the pool's (workers,
 * ports, max_servers, health) are the options the program gives hp_pool_create().
 *
 * Threads: load on any one thread at a time; add to a pool on its control loop. */
#ifndef HOSTPOOL_CONFIG_H
#define HOSTPOOL_CONFIG_H

#include "hostpool/pool.h"

typedef struct hp_config hp_config;

/* Loads and checks the file at `path` (with the files its `include` names, and ${NAME} in its
 * values expanded from the environment: docs/CONFIG.md). Returns 0 and a new config in *out (free
 * it with hp_config_destroy), or HP_ECONFIG with *out NULL and, when `errors` is not NULL, every
 * problem in *errors: one line each, ending in a newline, as `hostpool validate` prints them
 * (a file that cannot be read is one line). *errors is new (free() it), NULL on success. */
int hp_config_load_file(const char *path, hp_config **out, char **errors);

/* Frees a config; NULL is a no-op. Servers added from it do not depend on it. */
void hp_config_destroy(hp_config *config);

/* Adds every server of `config` to `pool`, stopped (start them with hp_pool_start_all).
 * Every server is built first, which makes its handlers (a file root that does not exist is
 * found here): on any problem none is added and HP_ECONFIG is returned with every problem in
 * *errors, as above. A server the pool then refuses (its name is taken, max_servers, no free
 * port) is a line "NAME: why" in *errors, the others are added, and the first such error is
 * returned. *errors (when `errors` is not NULL) is new (free() it), NULL when all were added. */
int hp_pool_add_config(hp_pool *pool, const hp_config *config, char **errors);

#endif
