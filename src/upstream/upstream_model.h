/* An upstream's settings, checked: what `upstreams:` entries, a proxy route's inline `to`
 * and the admin API's PUT /upstreams/{name} body mean (docs/PROXY.md, docs/CONFIG.md).
 *
 * One reader for every source: hp__upstream_model_read() reads the settings shared by a named
 * upstream and an inline proxy from a mapping, reporting every problem as config errors do
 * (file:line:column: path: message); the caller reads what differs (an upstream's `name` and
 * `targets`, a route's `to`) with hp__upstream_targets_read(). A model owns its strings;
 * hp__upstream_model_close() frees them.
 *
 * Optional blocks: `health` absent means no active checks; `breaker` absent means no breaker
 * (an operator opts in; each key then has the default below); `passive` is on by default
 * (max_fails 3 within 10 s, as nginx's passive checks are always on), `passive: { max_fails:
 * 0 }` turns it off. */
#ifndef HP_UPSTREAM_UPSTREAM_MODEL_H
#define HP_UPSTREAM_UPSTREAM_MODEL_H

#include "core/balance.h"
#include "core/breaker.h"
#include "core/passive.h"
#include "hostpool/handler_kind.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HP__UPSTREAM_MAX_TARGETS 64
#define HP__UPSTREAMS_MAX 1000 /* named upstreams in a pool: a config's, and those PUT adds */

typedef struct hp__upstream_target_model {
    char *address; /* as written: "host:port", "[v6]:port" or "unix:PATH" */
    struct sockaddr_storage addr;
    uint32_t weight; /* 1..HP__BALANCE_MAX_WEIGHT; 1 unless written */
} hp__upstream_target_model;

typedef struct hp__upstream_health_model {
    bool enabled;         /* the `health` key was given */
    char *path;           /* "/health" */
    uint32_t interval_ms; /* 2 s */
    uint32_t timeout_ms;  /* 1 s */
    uint32_t expect;      /* the status a healthy target answers: 200 */
    uint32_t rise, fall;  /* 2, 3 */
} hp__upstream_health_model;

typedef struct hp__upstream_model {
    char *name; /* [A-Za-z0-9._-]{1,64}; NULL for a route's inline targets */
    hp__upstream_target_model *targets;
    size_t target_count;            /* 1..HP__UPSTREAM_MAX_TARGETS */
    hp__balance_kind balance;       /* round_robin */
    char *hash_header;              /* hash_key "header:NAME": NAME; NULL: client_ip */
    uint32_t keepalive;             /* idle connections kept per target, per worker: 32 */
    uint32_t max_connections;       /* per target, per worker; 0: no limit */
    uint32_t max_requests;          /* requests per connection before it is closed; 0: no limit;
                                     * default 1000 (nginx's keepalive_requests) */
    uint64_t acquire_timeout_ms;    /* waiting for a connection at max_connections: 5 s */
    uint64_t connect_timeout_ms;    /* 5 s */
    uint64_t first_byte_timeout_ms; /* 60 s */
    uint64_t idle_timeout_ms;       /* between reads of a response body, and an idle
                                     * connection's life: 60 s */
    uint32_t retries;               /* idempotent requests, on connect failure, to another
                                     * target: 1 */
    uint32_t max_pending;   /* requests waiting for a connection, whole upstream; 0: no cap */
    uint32_t max_in_flight; /* requests being proxied, whole upstream; 0: no cap */
    hp__upstream_health_model health;
    hp__passive_config passive;
    bool breaker_enabled; /* the `breaker` key was given */
    hp__breaker_config breaker;
    hp_config_pos pos; /* where it was written (line 0: not from a file) */
} hp__upstream_model;

/* Every default above; no name, no targets. */
void hp__upstream_model_init(hp__upstream_model *m);
void hp__upstream_model_close(hp__upstream_model *m);
/* A deep copy of `from` into `to` (not initialized before). */
void hp__upstream_model_copy(hp__upstream_model *to, const hp__upstream_model *from);

/* Reads every setting key of `map` that an upstream and an inline proxy share (balance,
 * hash_key, keepalive, max_connections, max_requests, acquire_timeout, connect_timeout,
 * first_byte_timeout, idle_timeout, retries, max_pending, max_in_flight, health, passive,
 * breaker) into `m`, leaving the others to the caller (who checks the keys of `map` with
 * hp_config_keys, allowing HP__UPSTREAM_SETTING_KEYS and its own). Problems are reported. */
void hp__upstream_model_read(hp_config_check *c, hp_config_node *map, hp__upstream_model *m);
/* The setting keys read above, NULL-terminated. */
#define HP__UPSTREAM_SETTING_KEY_COUNT 15
extern const char *const HP__UPSTREAM_SETTING_KEYS[HP__UPSTREAM_SETTING_KEY_COUNT + 1];
/* Reads a list of targets ("127.0.0.1:9001", "unix:/run/app.sock", or
 * { address: "127.0.0.1:9001", weight: 3 }; one string is one target) into m->targets; an
 * address is listed once (a weight gives a target more). Problems are reported. */
void hp__upstream_targets_read(hp_config_check *c, hp_config_node *list, hp__upstream_model *m);

/* The model as the admin API shows it (GET /upstreams/{name}'s "settings"): every key with
 * its value in the config's own syntax (durations as "5s"), so it can be PUT back. */
json_t *hp__upstream_model_to_json(const hp__upstream_model *m);

#endif
