/* The internal shape of hp_server (include/hostpool/server.h), read by worker loops.
 * Immutable after hp_server_create() except `stats`, set on the control thread before the
 * server first starts (workers write the counters in it, see stats.h). What an engine knows
 * of a started server (its sockets, its bound ports) the engine keeps (io/engine.c). */
#ifndef HP_HTTP_SERVER_H
#define HP_HTTP_SERVER_H

#include "hostpool/server.h"
#include "http/compress.h"
#include "http/basic_auth.h"
#include "http/header_rules.h"
#include "http/server_journal.h"
#include "http/rate_guard.h"
#include "http/stats.h"

typedef struct hp__route {
    char *path_prefix;
    size_t prefix_len;
    uint64_t method_mask; /* bit per llhttp method number; all bits set = any */
    hp_handler *handler;
    hp__rate_guard *rate_guard;   /* its own rate limit, or NULL: the server's applies */
    const hp__compress *compress; /* its own policy or its server's; NULL: none */
    hp__compress *own_compress;   /* its own, owned */
    /* The server's and its own response header rules, or NULL; its own as given (for a copy of
     * the server), or NULL. */
    hp__header_rules *headers;
    hp_header_rules *headers_written;
    /* Its basic_auth, or NULL; then its gate, which the exchange calls in place of `handler`. */
    hp__basic_auth *auth;
    hp_handler *gate;
} hp__route;

struct hp_server {
    char *name;
    char *expose;
    char **listen;
    size_t listen_count;
    char **hosts; /* lowercase patterns */
    size_t host_count;
    hp__route *routes;
    size_t route_count;
    hp_limits limits;
    bool access_log;
    hp_access_log_format access_log_format;
    struct hp__log_file *access_log_file; /* a reference (io/log_file.h); NULL: stderr */
    size_t access_log_buffer;             /* a worker's buffer for the file; 0: the default */
    bool worker_hooks;                    /* a route handler or the fallback has per-worker hooks */
    hp_handler *fallback;                 /* borrowed */
    hp__server_stats *stats;              /* NULL until it first starts; shared by its versions */
    hp_journal_config journal_config;
    hp__server_journal *journal; /* NULL: none, or not started yet (server_journal.h) */
    hp__rate_guard *rate_guard;  /* the server's rate limit, or NULL */
    uint32_t max_in_flight;      /* 0: no cap (counted in stats->answering) */
    bool guarded;                /* a rate limit (its own or a route's) or max_in_flight */
    hp__compress *compress;      /* the routes' policy where they have none, or NULL */
    hp__header_rules *headers;   /* its own header rules, for answers no route gives; or NULL */
    hp_header_rules *headers_written; /* its own rules as given (for a copy), or NULL */
};

/* The route for a request: NULL when none matches; *method_mismatch says whether some route
 * matched the path but not the method (405 rather than 404). */
const hp__route *hp__server_route(const hp_server *server, const hp_request *req,
                                  bool *method_mismatch);

/* Does `handler` (may be NULL) declare per-worker hooks (hostpool/handler.h)? */
bool hp__handler_hooked(const hp_handler *handler);

/* Forgets the route handlers, so hp_server_destroy() leaves them to their owner (a failed
 * replace gives them back to its caller). */
void hp__server_disown_handlers(hp_server *server);

/* Gives `server` counters for `workers` workers unless it has them (the engine, when it starts
 * the server; tests that drive sessions without an engine). Not while it runs. */
void hp__server_attach_stats(hp_server *server, unsigned workers);
/* `server`, a new version of `from` that has not started, counts on in `from`'s counters. */
void hp__server_share_stats(hp_server *server, const hp_server *from);

#endif
