/* The `basic_auth` key of a route (docs/CONFIG.md):
 *   basic_auth: { realm: "...", users: ./users }
 * `users` is required; `realm` is "restricted" by default. Loading checks the realm and
 * opens no file; building the server reads the users file and reports each bad line of it at
 * its own FILE:LINE (core/users_file.h), every one of them. */
#ifndef HP_CONFIG_BASIC_AUTH_H
#define HP_CONFIG_BASIC_AUTH_H

#include "config/config.h"
#include "config/config_check.h"
#include "hostpool/server.h"

#define HP__CONFIG_DEFAULT_REALM "restricted"

/* The settings `map` says, allocated, or NULL after reporting its errors. */
hp_basic_auth *hp__config_read_basic_auth(hp_config_check *c, hp__cfg_node *map);
/* NULL: no-op. */
void hp__config_basic_auth_free(hp_basic_auth *auth);

/* Reads the users file of `auth`, adding an error to `errs` for each problem (the users file's
 * name and line; `path` the route's key, "servers[0].routes[1].basic_auth"); false if any. */
bool hp__config_check_users_file(const hp_basic_auth *auth, const char *path,
                                 hp__config_errors *errs);

/* Does a route of `server` have basic_auth? A reload then builds the server anew even when its
 * config text is unchanged, so that its users files are read again. */
bool hp__config_server_reads_users(const hp__config_server *server);

#endif
