/* The running config: the document the pool was built from, kept up to date by the admin
 * API's changes, and the reload that moves the pool to a new document.
 *
 * The document is JSON (a YAML file is held as hp__cfg_node_to_json gives it): GET /config
 * shows it, its ETag is a hash of its canonical text (keys sorted, compact). It is kept as a
 * tree for its top level and as canonical text per server, compared as text on a reload; the
 * config model behind it keeps only its top level once the pool has the servers. Adding, replacing
 * or removing a server through the API changes its entry in `servers`; starting and stopping
 * do not (the document says what exists, not what runs).
 *
 * A reload (SIGHUP, POST /reload: the file again; POST /config: a document in the body):
 *
 *   1. check the whole new document and build every server that is new or changed; any error
 *      and nothing changes, every error is reported;
 *   2. keys the running pool cannot take (workers, admin, ports, limits.max_servers, health,
 *      pid_file) must be unchanged, or that is an error too (they need a restart);
 *   3. per server name: equal JSON (and the same top-level limits and access_log, which every
 *      server inherits) is left alone, its connections untouched; a different one is replaced
 *      in place (hp_pool_replace: the same sockets, in-flight requests finish on the old
 *      version); one no longer there is removed (drained); a new one is added and started;
 *   4. the new document becomes the running one; the callback comes once every replaced and
 *      removed server's old version has drained, naming what failed on the way (a port taken
 *      by another process: that server fails alone, as at startup).
 *
 * One reload at a time. A reload of the file asked for meanwhile (SIGHUP, POST /reload) is
 * queued: when the running reload has called back, the file is read again and reloaded, and
 * everyone who asked meanwhile is called back with that one result (asking again while it
 * waits changes nothing: one queued reload, read after the last ask). So the pool ends on the
 * file's last version, whatever came in during a long drain. A document (POST /config) is not
 * queued: it gets HP_ESTATE while a reload runs, as its If-Match was checked against a running
 * config that the reload under way replaces. Control thread only. */
#ifndef HP_ADMIN_LIVE_CONFIG_H
#define HP_ADMIN_LIVE_CONFIG_H

#include "config/config.h"
#include "hostpool/pool.h"

#include <jansson.h>

typedef struct hp__live_config hp__live_config;

/* Takes `config` and `doc` (the loaded file `path`, which SIGHUP and POST /reload read
 * again); `self_name` is the admin server's, never touched by a reload. */
hp__live_config *hp__live_config_create(hp_pool *pool, const char *path, const char *self_name,
                                        hp__config *config, json_t *doc);
void hp__live_config_destroy(hp__live_config *live);
/* The admin keys the command line gave (`hostpool run --admin ADDR --token-file FILE`; NULL:
 * not given), already in the config: every reloaded config takes them instead of the file's,
 * as the first one did. The file's own admin keys are still compared file to file: a reload
 * that changes them is refused, like any key the running pool cannot take. */
void hp__live_config_override_admin(hp__live_config *live, const char *listen,
                                    const char *token_file);

/* The running config's top level: what a server added through the API inherits. */
const hp__config *hp__live_config_current(const hp__live_config *live);
/* The caller added the servers of the config given at creation to the pool: the running
 * config forgets their models (the document keeps what they are). */
void hp__live_config_servers_added(hp__live_config *live);

/* The running document (new: the caller owns it) and its ETag, quotes included
 * ("\"0123456789abcdef\""). */
json_t *hp__live_config_document(const hp__live_config *live);
void hp__live_config_etag(const hp__live_config *live, char out[24]);

/* The API added or replaced `server` (an object with a "name"), or removed `name`. */
void hp__live_config_put_server(hp__live_config *live, const json_t *server);
void hp__live_config_remove_server(hp__live_config *live, const char *name);
/* The API added or replaced an upstream: `upstream` (its checked JSON, with its "name") goes
 * into the document's `upstreams`, a copy of `model` into the running config's, where servers
 * added later find it. */
void hp__live_config_put_upstream(hp__live_config *live, const json_t *upstream,
                                  const hp__upstream_model *model);

typedef struct hp__reload_result {
    const hp__config_errors *errors; /* any: the reload was refused and nothing changed */
    size_t unchanged;
    hp_pool_strings replaced, added, removed;
    hp_pool_result failed; /* servers that could not be replaced, added or started */
} hp__reload_result;

/* Called once, possibly before the reload call returns (a refused reload). */
typedef void (*hp__reload_cb)(const hp__reload_result *result, void *data);

/* Reloads the file given at creation. While a reload runs it is queued (above): 0, and the
 * callback comes when the queued reload is done; `cb` with the same `data` waits once however
 * often it asks. HP_ESTATE (and no callback) only when 64 callers wait already. */
int hp__live_config_reload_file(hp__live_config *live, hp__reload_cb cb, void *data);
/* Is a reload under way (then a file reload asked for now is queued)? */
bool hp__live_config_reloading(const hp__live_config *live);
/* Is a file reload queued behind the one under way (or the one calling back now)? */
bool hp__live_config_reload_queued(const hp__live_config *live);
/* Reloads from JSON text; `label` names it in errors ("body"). HP_ESTATE as above. */
int hp__live_config_load_json(hp__live_config *live, const char *text, size_t len,
                              const char *label, hp__reload_cb cb, void *data);

#endif
