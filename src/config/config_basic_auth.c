#include "config/config_basic_auth.h"

#include "common/alloc.h"
#include "core/users_file.h"
#include "http/basic_auth.h"

#include <stdlib.h>

hp_basic_auth *hp__config_read_basic_auth(hp_config_check *c, hp__cfg_node *map)
{
    static const char *const keys[] = {"realm", "users", NULL};
    if (!hp_config_expect_mapping(c, map)) return NULL;
    hp_config_keys(c, map, keys);
    const char *realm = HP__CONFIG_DEFAULT_REALM, *users = NULL, *problem;
    bool ok = true;
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "realm")) &&
        (ok &= (realm = hp_config_string(c, n)) != NULL) &&
        (problem = hp__basic_auth_realm_problem(realm))) {
        hp_config_error(c, n, "%s", problem);
        ok = false;
    }
    if (!(n = hp__cfg_mapping_get(map, "users"))) {
        hp_config_error(c, map, "\"users\" (the users file) is required");
        ok = false;
    } else if ((users = hp_config_string(c, n)) && !users[0]) {
        hp_config_error(c, n, "must not be empty");
        ok = false;
    }
    if (!ok || !users) return NULL;
    hp_basic_auth *auth = HP_NEW(hp_basic_auth);
    auth->realm = hp__strdup(realm);
    auth->users_file = hp__strdup(users);
    return auth;
}

void hp__config_basic_auth_free(hp_basic_auth *auth)
{
    if (!auth) return;
    free((char *)auth->realm);
    free((char *)auth->users_file);
    free(auth);
}

typedef struct users_errors {
    const hp_basic_auth *auth;
    const char *path;
    hp__config_errors *errs;
} users_errors;

static void users_error(void *data, int line, const char *message)
{
    users_errors *e = data;
    hp__config_errors_add(e->errs, e->auth->users_file, line, 0, e->path, "%s", message);
}

bool hp__config_check_users_file(const hp_basic_auth *auth, const char *path,
                                 hp__config_errors *errs)
{
    users_errors e = {auth, path, errs};
    hp__users *users = hp__users_load(auth->users_file, users_error, &e);
    hp__users_free(users);
    return users != NULL;
}

bool hp__config_server_reads_users(const hp__config_server *server)
{
    for (size_t i = 0; i < server->route_count; i++)
        if (server->routes[i].basic_auth) return true;
    return false;
}
