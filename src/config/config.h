/* The config model: what a hostpool config file means, checked completely.
 *
 * One model for both sources: a YAML file, a JSON file (the same objects), and later the
 * admin API's JSON bodies (through hp__cfg_node_from_json and hp__config_load_node). Loading
 * walks the whole document and reports every problem it finds (config_errors.h), never only
 * the first; on any error no config is returned.
 *
 * The loader only records settings: it creates no handler and opens no file. One validated
 * server becomes an hp_server_config, with its handlers created, through
 * hp__config_build_server(), which the pool calls when it starts the server.
 *
 * Ownership: an hp__config owns every string and array in it; hp__config_destroy() frees it
 * all. Servers are plain values inside it (servers[i]). */
#ifndef HP_CONFIG_CONFIG_H
#define HP_CONFIG_CONFIG_H

#include "config/config_errors.h"
#include "config/config_logs.h"
#include "config/config_process.h"
#include "config/node.h"
#include "hostpool/handler_kind.h"
#include "hostpool/server.h"
#include "switch/switchboard.h"
#include "upstream/upstream_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__CONFIG_ADMIN_LISTEN "unix:hostpool.sock"
#define HP__CONFIG_ADMIN_SERVER "admin" /* the name of the server of the admin listener */
#define HP__CONFIG_PORT_LO 20000
#define HP__CONFIG_PORT_HI 20999
#define HP__CONFIG_MAX_SERVERS 1000          /* the default of limits.max_servers */
#define HP__CONFIG_MAX_SERVERS_LIMIT 1000000 /* its largest value */

typedef hp_config_pos hp__config_pos; /* 1-based line and column; 0 when unknown */

typedef struct hp__config_route {
    char *path_prefix; /* match.path; NULL: every path */
    char **methods;    /* match.methods; method_count 0: every method */
    size_t method_count;
    const hp_handler_kind *kind; /* the route's handler key (handlers/registry.h) */
    void *model;                 /* what kind->check made of its settings; freed with the route */
    hp_rate_limit *rate_limit;   /* its own `rate_limit`, or NULL */
    /* its own `compress`, or NULL */
    hp_compress_config *compress;
    hp_header_rules *headers;  /* its own `headers`, or NULL */
    hp_basic_auth *basic_auth; /* `basic_auth`, or NULL */
    hp__config_pos pos;
} hp__config_route;

typedef struct hp__config_server {
    char *name;    /* [A-Za-z0-9._-]{1,64}, unique */
    char **listen; /* "host:port", "[v6]:port" or "auto" (a port from ports.range) */
    size_t listen_count;
    char *expose; /* "http[s]://host[:port]", or NULL */
    char **hosts; /* lowercase names; "*.suffix" wildcards */
    size_t host_count;
    hp_limits limits; /* the top-level limits with this server's overrides applied */
    bool access_log;  /* its own `access_log`, else the top level's */
    hp__config_access_log access_log_output; /* the same */
    hp__config_route *routes;
    size_t route_count;
    hp__process_model *process; /* `process`: a supervised process it proxies to, or NULL */
    hp_journal_config journal;  /* `journal`: capacity 0 when none */
    hp_rate_limit *rate_limit;  /* `rate_limit`, or NULL */
    uint32_t max_in_flight;     /* `max_in_flight`; 0: no cap */
    /* `compress`, or NULL */
    hp_compress_config *compress;
    hp_header_rules *headers; /* `headers`, or NULL */
    /* Where it was written, for errors found when it is built. */
    char *file; /* NULL when not from a file */
    char *path; /* "servers[2]" */
    hp__config_pos pos;
} hp__config_server;

/* hp_config in the public API (hostpool/config.h). */
typedef struct hp_config {
    unsigned workers; /* 0: auto (one per CPU) */
    struct {
        char *listen;     /* "unix:PATH" or a loopback "host:port" */
        char *token_file; /* NULL when not set; required for a TCP listen address */
    } admin;
    struct {
        uint16_t lo, hi; /* ports.range, inclusive */
    } ports;
    char *pid_file;       /* pid_file: where the daemon writes its pid; NULL when not set */
    hp_limits limits;     /* defaults for every server */
    uint32_t max_servers; /* limits.max_servers */
    bool access_log;
    hp__config_access_log access_log_output; /* access_log's path, format and buffer */
    hp__config_error_log error_log;          /* error_log: path NULL, level info when not set */
    struct {
        uint32_t interval_ms; /* health.interval: between two TCP checks of a running server */
        uint32_t rise;        /* health.rise: successes in a row to become OK */
        uint32_t fall;        /* health.fall: failures in a row to become KO */
    } health;
    hp__config_server *servers;
    size_t server_count;
    hp__upstream_model *upstreams; /* `upstreams`, in document order; names unique */
    size_t upstream_count;
    hp__switchboard_model *switchboards; /* `switchboards`, in document order */
    size_t switchboard_count;
} hp__config;

/* Loads and checks `path` (YAML, or JSON when its name ends in ".json"). Returns 0 and sets
 * *out to a new config, or returns HP_ECONFIG with every problem appended to `errs` (a file
 * that cannot be read is one error without a position) and *out set to NULL. */
int hp__config_load_file(const char *path, hp__config **out, hp__config_errors *errs);
/* The same, and on success the document as JSON in *doc (hp__cfg_node_to_json; new
 * reference): what the admin API shows as the running config. */
int hp__config_load_file_doc(const char *path, hp__config **out, json_t **doc,
                             hp__config_errors *errs);
/* The same from JSON text (the admin API's POST /config); `label` names it in errors. */
int hp__config_load_json_doc(const char *text, size_t len, const char *label, hp__config **out,
                             json_t **doc, hp__config_errors *errs);

/* Checks a document tree (borrowed) and builds the config from it, as above. `file` names
 * the source in errors and may be NULL. Each scalar read is marked with what it was read as
 * (node.h), so hp__cfg_node_to_json(root) is then the checked form of the document. */
int hp__config_load_node(hp__cfg_node *root, const char *file, hp__config **out,
                         hp__config_errors *errs);

void hp__config_destroy(hp__config *config);
/* Frees the servers' models, keeping the top level, upstreams included (what the running config
 * needs of them once the pool has them). */
void hp__config_drop_servers(hp__config *config);
/* Frees the model of servers[i] alone, leaving an empty entry (hp__config_drop_servers and
 * hp__config_destroy free the rest). */
void hp__config_forget_server(hp__config *config, size_t i);

/* Replaces admin.listen with `listen` (the --admin option), checked as the config key is: a
 * TCP address needs the config's admin.token_file. HP_ECONFIG with the error in `errs`. */
int hp__config_set_admin_listen(hp__config *config, const char *listen, hp__config_errors *errs);

/* Checks one server object (the admin API's body) as an entry of `servers` would be, with
 * the top-level limits and access_log of `defaults`; error paths are relative to the object
 * ("listen", "routes[0].respond.status"). Returns 0 and a new server in *out, or HP_ECONFIG
 * with every problem in `errs`. Clashes with other servers are the pool's to find. As above,
 * hp__cfg_node_to_json(map) is then the checked server, what the running config holds. */
int hp__config_load_server_node(hp__cfg_node *map, const hp__config *defaults,
                                hp__config_server **out, hp__config_errors *errs);
void hp__config_server_destroy(hp__config_server *server);

/* Checks one upstream object (the body of the admin API's PUT /upstreams/{name}) as an entry
 * of `upstreams` named `name` would be: the body is the entry without `name`, or with the same
 * name. Error paths are relative to the body ("targets[1]", "health.timeout"). Returns 0 with
 * the model in *out (the caller closes it: hp__upstream_model_close), or HP_ECONFIG with
 * every problem in `errs` and nothing in *out to free. Marks what it read, as above, so
 * hp__cfg_node_to_json(map) is the checked body. */
int hp__config_load_upstream_node(hp__cfg_node *map, const char *name, hp__upstream_model *out,
                                  hp__config_errors *errs);

/* Turns one validated server into `out`, creating one handler per route. Strings in `out`
 * (name, listen, path prefixes, methods) are borrowed from `server`, which must outlive
 * hp_server_create() (the server copies them); the route array belongs to `out`. "auto"
 * listen entries are passed as they are: the pool replaces them with a port from
 * ports.range before creating the server.
 *
 * Returns 0, or HP_ECONFIG with one error per route whose handler could not be created
 * (a file root that is missing: "servers[1].routes[0].file.root: cannot open root ...");
 * then nothing is left to close. */
int hp__config_build_server(const hp__config_server *server, hp_server_config *out,
                            hp__config_errors *errs);

/* Frees what hp__config_build_server() allocated. With `handlers`, also destroys the route
 * handlers: do so unless hp_server_create() succeeded, since the server then owns them. */
void hp__config_server_config_close(hp_server_config *config, bool handlers);

#endif
