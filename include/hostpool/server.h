/* A server: one logical HTTP server with a name, listen addresses, routes and limits.
 *
 * A server is built from an hp_server_config, which is fully checked first: an invalid
 * config creates nothing and returns HP_ECONFIG. The server copies every string; on success
 * it takes ownership of the route handlers (and destroys them with itself); on failure the
 * caller still owns them. A server is immutable once created; it is run by an engine
 * (engine.h). */
#ifndef HOSTPOOL_SERVER_H
#define HOSTPOOL_SERVER_H

#include "hostpool/handler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hp_limits {
    uint64_t header_timeout_ms; /* whole request head must arrive within this: 408 (10 s) */
    uint64_t idle_timeout_ms;   /* keep-alive connection with no request: closed (75 s) */
    uint64_t write_timeout_ms;  /* no write progress to a slow reader: closed (30 s) */
    uint64_t drain_timeout_ms;  /* on stop, busy connections are closed after this (30 s) */
    uint64_t max_body_bytes;    /* 413 beyond (1 MiB) */
    uint32_t max_header_bytes;  /* request line + headers; 431 beyond (16 KiB) */
    uint32_t max_target_bytes;  /* request-target; 414 beyond (8 KiB) */
    uint32_t max_headers;       /* header count; 431 beyond (100) */
    uint32_t max_connections;   /* per worker: accepting pauses at the limit (10000) */
    /* A client address's open connections across the workers; a connection beyond is
     * answered 503 and closed (0: no cap, the default). The head server's of an address. */
    uint32_t max_connections_per_client;
} hp_limits;

/* The largest values of the limits that the engine can hold, and that make sense: the config
 * checker refuses more. The read buffer of a connection is max_header_bytes + 4 KiB (a 32-bit
 * size); a body is held in memory; a timeout is added to the loop's clock. */
#define HP_LIMIT_MAX_HEADER_BYTES (1024u * 1024u) /* max_header_bytes and max_target_bytes */
#define HP_LIMIT_MAX_HEADERS 10000u
#define HP_LIMIT_MAX_BODY_BYTES (1024ull * 1024u * 1024u)
#define HP_LIMIT_MAX_CONNECTIONS 1000000u
#define HP_LIMIT_MAX_TIMEOUT_MS (24ull * 3600u * 1000u) /* every timeout: a day */

/* Fills `limits` with the defaults above. */
void hp_limits_init(hp_limits *limits);

/* A rate limit (docs/GUARDS.md): each client may send `requests` per `per_ms` plus `burst`
 * at once (GCRA); a client refused stays refused for `block_for_ms` (0: not at all). The
 * client is its IP address, or, with `key_header`, the value of that request header (a
 * request without it is the client of the empty key). Ranges: requests 1..1000000, burst
 * 0..1000000, per_ms 1 ms..366 days, block_for_ms 0..366 days. */
typedef struct hp_rate_limit {
    uint32_t requests;
    uint32_t burst;
    uint64_t per_ms;
    uint64_t block_for_ms;
    const char *key_header; /* NULL: the client's IP address */
} hp_rate_limit;

/* Compression of answers (docs/HTTP.md "Compression"): gzip and brotli, chosen by the request's
 * Accept-Encoding, for a body of at least `min_bytes` whose Content-Type is one of `types`
 * (a type whose subtype is "*" matches every subtype of it). level: 1..9, gzip's level;
 * brotli's quality is the same number. `off`: a route's, to answer identity though its
 * server compresses. */
typedef struct hp_compress_config {
    const char *const *types; /* NULL (and type_count 0): HP_COMPRESS_DEFAULT_TYPES */
    size_t type_count;
    uint64_t min_bytes;
    int level;
    bool off;
} hp_compress_config;

#define HP_COMPRESS_DEFAULT_TYPES                                                                  \
    "text/*", "application/json", "application/javascript", "image/svg+xml"
#define HP_COMPRESS_DEFAULT_MIN_BYTES 256
#define HP_COMPRESS_DEFAULT_LEVEL 5
/* Response header rules (docs/CONFIG.md `headers`), applied to every answer of a route, its
 * errors included (a guard's 429, a file's 404, a proxy's 502): `remove` deletes the fields of
 * those names the answer has, `set` replaces them (remove, then add), `add` appends one more.
 * Names are header names (tokens), values have no control characters; the engine's own fields
 * (Date, Content-Length, Transfer-Encoding, Connection, X-Request-Id) cannot be named, nor a
 * name set twice or both set and removed: hp_server_create refuses them. Copied. */
typedef struct hp_header_rules {
    const char *const *set; /* name, value pairs: 2 * set_count strings */
    size_t set_count;
    const char *const *add; /* name, value pairs: 2 * add_count strings */
    size_t add_count;
    const char *const *remove; /* names */
    size_t remove_count;
} hp_header_rules;

/* Basic authentication of a route (RFC 7617; docs/CONFIG.md `basic_auth`): a request without
 * the credentials of a user of `users_file` is answered 401 with
 * `WWW-Authenticate: Basic realm="REALM", charset="UTF-8"`. The file holds `user:hash` lines,
 * hashes in crypt(3) formats: yescrypt ($y$), bcrypt ($2b$), sha512-crypt ($6$); `#` comments
 * and blank lines are skipped. hp_server_create reads it (HP_ECONFIG naming FILE:LINE of
 * each bad line); a new server (a replace, a reload) reads it again. The realm is 1 to 200
 * printable ASCII characters without '"' or '\'. Copied. */
typedef struct hp_basic_auth {
    const char *realm;
    const char *users_file;
} hp_basic_auth;

typedef struct hp_route_config {
    const char *path_prefix;    /* NULL or "" matches every path */
    const char *const *methods; /* NULL: every method; else `method_count` names */
    size_t method_count;
    hp_handler *handler;             /* required */
    const hp_rate_limit *rate_limit; /* NULL: the server's (if any) applies; copied */
    /* NULL: the server's (if any) applies; copied */
    const hp_compress_config *compress;
    const hp_header_rules *headers;  /* NULL: none; applied after the server's; copied */
    const hp_basic_auth *basic_auth; /* NULL: none */
} hp_route_config;

/* A server's request journal (docs/CONFIG.md `journal`): a bounded record of its last
 * requests, read over the admin API. capacity 0: none. */
typedef enum hp_journal_overflow {
    HP_JOURNAL_DROP_OLDEST, /* a full journal forgets its oldest entry */
    HP_JOURNAL_REJECT,      /* a full journal stores nothing more (counted as rejected) */
} hp_journal_overflow;

typedef struct hp_journal_config {
    uint32_t capacity; /* entries, split between the workers; 0: no journal */
    hp_journal_overflow overflow;
} hp_journal_config;

/* The line an access log writes per request (docs/CONFIG.md `access_log`). */
typedef enum hp_access_log_format {
    HP_ACCESS_LOG_DEFAULT,  /* hostpool's: client "request" status bytes seconds id server */
    HP_ACCESS_LOG_COMBINED, /* Apache/nginx combined, then "server" "host" */
    HP_ACCESS_LOG_JSON,     /* one JSON object per line, with named fields */
} hp_access_log_format;

/* Where and how a server's access log lines go, when `access_log` is on. */
typedef struct hp_access_log_output {
    /* NULL: stderr, each line written as its request ends. A path: a file opened (appending)
     * when the server is created, shared with every server naming the same path, reopened by
     * the daemon on SIGUSR1; each worker buffers its lines and writes them once per loop
     * iteration (a line that finds the buffer full is dropped and counted). Copied. */
    const char *path;
    hp_access_log_format format;
    size_t buffer_bytes; /* a worker's buffer for the file; 0: 64 KiB */
} hp_access_log_output;

typedef struct hp_server_config {
    const char *name;          /* required, unique in a pool */
    const char *expose;        /* optional public URL ("http://localhost:8080"), for listings */
    const char *const *listen; /* "127.0.0.1:8080", "[::1]:8080", port 0 = ephemeral */
    size_t listen_count;
    /* Host names this server answers for on its listen addresses: lowercase names or
     * "*.suffix" wildcards (any case is accepted and lowered). None: the server is the default
     * (catch-all) of its addresses. Servers may share an address when their host names differ
     * and at most one of them is the default; see docs/ARCHITECTURE.md "Virtual hosts". */
    const char *const *hosts;
    size_t host_count;
    const hp_route_config *routes; /* first match wins; no match: 404 (405 if only the */
    size_t route_count;            /* method differed) */
    hp_limits limits;
    bool access_log;      /* one line per request, on stderr unless access_log_output.path */
    hp_handler *fallback; /* answers what no route matches (NULL: 404); borrowed, so it must
                           * outlive the server (a pool's default handler) */
    /* A supervised process every request is proxied to (hostpool/process.h), or NULL. Only
     * for a server of a pool, which starts and stops it with the server; routes are then
     * refused (the process answers everything). Copied. */
    const struct hp_process_config *process;
    hp_journal_config journal;              /* none by default */
    hp_access_log_output access_log_output; /* stderr, the default format by default */
    /* Every request of the server that its route has no own limit for; NULL: none. Each
     * server (each version of it: a replace or a reload starts counting anew) keeps its own
     * client table. Copied. */
    const hp_rate_limit *rate_limit;
    /* Requests being answered at once across the workers (docs/GUARDS.md); beyond, 503 with
     * Retry-After: 1. 0: no cap; at most HP_LIMIT_MAX_CONNECTIONS. */
    uint32_t max_in_flight;
    /* Compression of every route's answers that has none of its own; NULL: none. Copied. */
    const hp_compress_config *compress;
    /* Header rules for every answer of the server: those of its routes (before a route's own)
     * and those no route gives (404, 405). NULL: none. Copied. */
    const hp_header_rules *headers;
} hp_server_config;

typedef struct hp_server hp_server;

/* Creates a server. On error returns HP_ECONFIG and writes every error into `errbuf` (when it
 * is not NULL), each naming its field ("listen[1]: ..."), joined with "; " and cut at the
 * buffer's end. */
int hp_server_create(const hp_server_config *config, hp_server **out, char *errbuf,
                     size_t errbuf_len);
void hp_server_destroy(hp_server *server);

const char *hp_server_name(const hp_server *server);
/* The expose URL, or NULL. */
const char *hp_server_expose(const hp_server *server);
size_t hp_server_listen_count(const hp_server *server);
/* The address as configured (the port it is bound to is the engine's to say:
 * hp_engine_bound_port). */
const char *hp_server_listen_address(const hp_server *server, size_t i);
size_t hp_server_host_count(const hp_server *server);
/* The i-th host pattern, lowercase; NULL past the end. */
const char *hp_server_host(const hp_server *server, size_t i);

#endif
