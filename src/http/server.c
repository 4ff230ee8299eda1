#include "http/server.h"

#include "common/alloc.h"
#include "common/block.h"
#include "common/str.h"
#include "core/host_name.h"
#include "core/url_path.h"
#include "hostpool/errors.h"
#include "io/log_file.h"
#include "io/socket.h"

#include <ctype.h>
#include <llhttp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void hp_limits_init(hp_limits *limits)
{
    *limits = (hp_limits){
        .header_timeout_ms = 10 * 1000,
        .idle_timeout_ms = 75 * 1000,
        .write_timeout_ms = 30 * 1000,
        .drain_timeout_ms = 30 * 1000,
        .max_body_bytes = 1024 * 1024,
        .max_header_bytes = 16 * 1024,
        .max_target_bytes = 8 * 1024,
        .max_headers = 100,
        .max_connections = 10000,
    };
}

/* The llhttp number of a request method name, or -1. Every llhttp method number is < 64. */
static int method_number(const char *name)
{
#define HP_METHOD_NUMBER(num, id, text)                                                            \
    if (strcmp(name, #text) == 0) return num;
    HTTP_METHOD_MAP(HP_METHOD_NUMBER)
#undef HP_METHOD_NUMBER
    return -1;
}

/* The errors of one config, joined with "; " into the caller's buffer (as many as fit). */
typedef struct config_errors {
    char *buf;
    size_t len;
    size_t used;
    unsigned count;
} config_errors;

static void config_error(config_errors *e, const char *fmt, ...)
{
    e->count++;
    if (!e->buf || e->used + 1 >= e->len) return;
    if (e->count > 1) e->used += (size_t)snprintf(e->buf + e->used, e->len - e->used, "; ");
    if (e->used + 1 >= e->len) return;
    va_list ap;
    va_start(ap, fmt);
    e->used += (size_t)vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
    va_end(ap);
    if (e->used >= e->len) e->used = e->len - 1;
}

static void check_listen(const hp_server_config *c, config_errors *e)
{
    if (c->listen_count == 0) config_error(e, "listen: at least one address required");
    for (size_t i = 0; i < c->listen_count; i++) {
        struct sockaddr_storage addr;
        if (!c->listen[i] || hp__socket_parse_address(c->listen[i], &addr) != 0)
            config_error(e, "listen[%zu]: \"%s\" is not an address (host:port)", i,
                         c->listen[i] ? c->listen[i] : "");
    }
}

static void check_hosts(const hp_server_config *c, config_errors *e)
{
    for (size_t i = 0; i < c->host_count; i++) {
        char lower[256];
        size_t n = c->hosts[i] ? strlen(c->hosts[i]) : 0;
        for (size_t k = 0; k < n && k < sizeof lower - 1; k++)
            lower[k] = (char)tolower((unsigned char)c->hosts[i][k]);
        lower[n < sizeof lower ? n : sizeof lower - 1] = '\0';
        if (n >= sizeof lower || !hp__host_pattern_valid(lower))
            config_error(e, "hosts[%zu]: \"%s\" is not a host name or *.suffix", i,
                         c->hosts[i] ? c->hosts[i] : "");
    }
}

/* A route's prefix in the normalized form requests are compared in (core/url_path.h), so
 * "/%73ecret/" guards what "/secret/" names; NULL when it is no path. An empty or NULL prefix
 * stays "" and matches every path. Owned by the caller. */
static char *route_prefix(const char *prefix)
{
    if (!prefix || !*prefix) return hp__strdup("");
    size_t len = strlen(prefix), out_len;
    char *out = hp__malloc(HP__URL_PATH_MAX(len));
    if (hp__url_path_normalize(hp__str(prefix, len), out, HP__URL_PATH_MAX(len), &out_len)) {
        free(out);
        return NULL;
    }
    return out;
}

/* The normalized prefix of each route of `c` (NULL for one that is no path), made once for
 * the check and the server. Free with free_prefixes. */
static char **route_prefixes(const hp_server_config *c)
{
    char **prefixes = hp__calloc(c->route_count, sizeof *prefixes);
    for (size_t i = 0; i < c->route_count; i++)
        prefixes[i] = route_prefix(c->routes[i].path_prefix);
    return prefixes;
}

static void free_prefixes(char **prefixes, size_t count)
{
    for (size_t i = 0; i < count; i++) free(prefixes[i]);
    free(prefixes);
}

/* A route's RateLimit-Policy name: "SERVER/INDEX"; the server's limit is named after it. */
#define POLICY_NAME_MAX 128
static void route_policy(char policy[POLICY_NAME_MAX], const char *server, size_t i)
{
    snprintf(policy, POLICY_NAME_MAX, "%s/%zu", server ? server : "", i);
}

static void check_routes(const hp_server_config *c, char *const *prefixes, config_errors *e)
{
    for (size_t i = 0; i < c->route_count; i++) {
        if (!c->routes[i].handler) config_error(e, "routes[%zu]: a handler is required", i);
        if (!prefixes[i])
            config_error(e,
                         "routes[%zu].path_prefix: \"%s\" is not a path (it must start with "
                         "'/', stay under the root, and escape '%%' as %%25)",
                         i, c->routes[i].path_prefix);
        for (size_t m = 0; m < c->routes[i].method_count; m++)
            if (method_number(c->routes[i].methods[m]) < 0)
                config_error(e, "routes[%zu].methods[%zu]: unknown method %s", i, m,
                             c->routes[i].methods[m]);
        char why[160], policy[POLICY_NAME_MAX];
        route_policy(policy, c->name, i);
        if (c->routes[i].rate_limit &&
            hp__rate_guard_check_limit(c->routes[i].rate_limit, policy, why, sizeof why))
            config_error(e, "routes[%zu].%s", i, why);
        const char *problem =
            c->routes[i].compress ? hp__compress_config_problem(c->routes[i].compress) : NULL;
        if (problem) config_error(e, "routes[%zu].compress.%s", i, problem);
        if (hp__header_rules_check(c->routes[i].headers, why, sizeof why))
            config_error(e, "routes[%zu].headers.%s", i, why);
        const hp_basic_auth *auth = c->routes[i].basic_auth;
        problem = auth ? hp__basic_auth_realm_problem(auth->realm) : NULL;
        if (problem) config_error(e, "routes[%zu].basic_auth.realm: %s", i, problem);
        if (auth && !auth->users_file)
            config_error(e, "routes[%zu].basic_auth.users_file: required", i);
    }
}

/* Each limit is positive and at most what the engine can hold (HP_LIMIT_*), whoever built the
 * config: the checker of a config file bounds them the same way, this holds for C callers and
 * the command line's options. */
static void check_limits(const hp_limits *l, config_errors *e)
{
    if (!l->max_header_bytes || !l->max_target_bytes || !l->max_headers || !l->max_connections)
        config_error(e, "limits: sizes and counts must be positive");
    if (l->max_header_bytes > HP_LIMIT_MAX_HEADER_BYTES ||
        l->max_target_bytes > HP_LIMIT_MAX_HEADER_BYTES)
        config_error(e, "limits: max_header_bytes and max_target_bytes are at most %u",
                     HP_LIMIT_MAX_HEADER_BYTES);
    if (l->max_headers > HP_LIMIT_MAX_HEADERS)
        config_error(e, "limits: max_headers is at most %u", HP_LIMIT_MAX_HEADERS);
    if (l->max_body_bytes > HP_LIMIT_MAX_BODY_BYTES)
        config_error(e, "limits: max_body_bytes is at most %llu",
                     (unsigned long long)HP_LIMIT_MAX_BODY_BYTES);
    if (l->max_connections_per_client > HP_LIMIT_MAX_CONNECTIONS)
        config_error(e, "limits: max_connections_per_client is at most %u",
                     HP_LIMIT_MAX_CONNECTIONS);
    if (l->max_connections > HP_LIMIT_MAX_CONNECTIONS)
        config_error(e, "limits: max_connections is at most %u", HP_LIMIT_MAX_CONNECTIONS);
    const uint64_t timeouts[] = {l->header_timeout_ms, l->idle_timeout_ms, l->write_timeout_ms,
                                 l->drain_timeout_ms};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++)
        if (timeouts[i] > HP_LIMIT_MAX_TIMEOUT_MS) {
            config_error(e, "limits: timeouts are at most %llu ms",
                         (unsigned long long)HP_LIMIT_MAX_TIMEOUT_MS);
            break;
        }
}

/* Checks everything and reports every error, not only the first. */
static int check_config(const hp_server_config *c, char *const *prefixes, char *errbuf, size_t len)
{
    config_errors e = {.buf = len ? errbuf : NULL, .len = len};
    if (e.buf) e.buf[0] = '\0';
    if (!c->name || !*c->name) config_error(&e, "name: required");
    if (c->process) config_error(&e, "process: only a pool runs a process server (hp_pool_add)");
    check_listen(c, &e);
    check_hosts(c, &e);
    check_routes(c, prefixes, &e);
    check_limits(&c->limits, &e);
    if (c->max_in_flight > HP_LIMIT_MAX_CONNECTIONS)
        config_error(&e, "max_in_flight: at most %u", HP_LIMIT_MAX_CONNECTIONS);
    const char *problem = c->compress ? hp__compress_config_problem(c->compress) : NULL;
    if (problem) config_error(&e, "compress.%s", problem);
    char why[160];
    if (c->rate_limit &&
        hp__rate_guard_check_limit(c->rate_limit, c->name ? c->name : "", why, sizeof why))
        config_error(&e, "%s", why);
    if (hp__header_rules_check(c->headers, why, sizeof why)) config_error(&e, "headers.%s", why);
    return e.count ? HP_ECONFIG : 0;
}

/* A server is one allocation (common/block.h): the struct, then its arrays, then its strings.
 * Only its handlers and its counters live apart. */
static char *take_string(hp__block *b, const char *text)
{
    return hp__block_copy(b, text, strlen(text));
}

static size_t strings_size(const char *const *texts, size_t count)
{
    size_t size = 0;
    for (size_t i = 0; i < count; i++) size += strlen(texts[i]) + 1;
    return size;
}

static size_t server_size(const hp_server_config *c, char *const *prefixes)
{
    return sizeof(hp_server) + c->route_count * sizeof(hp__route) +
           c->listen_count * sizeof(char *) + c->host_count * sizeof(char *) + strlen(c->name) + 1 +
           (c->expose ? strlen(c->expose) + 1 : 0) + strings_size(c->listen, c->listen_count) +
           strings_size(c->hosts, c->host_count) +
           strings_size((const char *const *)prefixes, c->route_count);
}

static void route_init(hp__route *r, const hp_route_config *c, char *prefix)
{
    r->path_prefix = prefix;
    r->prefix_len = strlen(prefix);
    r->handler = c->handler;
    r->method_mask = c->method_count ? 0 : ~(uint64_t)0;
    for (size_t m = 0; m < c->method_count; m++)
        r->method_mask |= (uint64_t)1 << method_number(c->methods[m]);
}

bool hp__handler_hooked(const hp_handler *h)
{
    return h && (h->vt->worker_start || h->vt->worker_drain || h->vt->worker_stop);
}

/* Workers record only the servers whose handlers have per-worker hooks (io/worker_handlers.h). */
static bool has_worker_hooks(const hp_server *s)
{
    for (size_t i = 0; i < s->route_count; i++)
        if (hp__handler_hooked(s->routes[i].handler)) return true;
    return hp__handler_hooked(s->fallback);
}

/* Sets `guarded` too: the request path of a server without a guard tests that only. */
static void create_guards(hp_server *s, const hp_server_config *c)
{
    s->guarded = c->max_in_flight > 0;
    if (c->rate_limit) s->rate_guard = hp__rate_guard_create(c->rate_limit, s->name);
    s->guarded |= s->rate_guard != NULL;
    for (size_t i = 0; i < c->route_count; i++) {
        if (!c->routes[i].rate_limit) continue;
        s->guarded = true;
        char policy[POLICY_NAME_MAX];
        route_policy(policy, s->name, i);
        s->routes[i].rate_guard = hp__rate_guard_create(c->routes[i].rate_limit, policy);
    }
}

/* The server's policy and each route's own; each route's effective one (its own, else the
 * server's; none for a route whose own is `off`). */
static void create_compress(hp_server *s, const hp_server_config *c)
{
    if (c->compress && !c->compress->off) s->compress = hp__compress_create(c->compress);
    for (size_t i = 0; i < c->route_count; i++) {
        const hp_compress_config *own = c->routes[i].compress;
        hp__route *r = &s->routes[i];
        if (own && !own->off) r->own_compress = hp__compress_create(own);
        r->compress = own ? r->own_compress : s->compress;
    }
}

/* The basic_auth gate of each route that has one (the users files read), into auths[]; on
 * a failure none is left and the error is in errbuf. */
static int create_auths(const hp_server_config *c, hp__basic_auth **auths, char *errbuf, size_t len)
{
    for (size_t i = 0; i < c->route_count; i++) {
        if (!c->routes[i].basic_auth) continue;
        char why[1024];
        auths[i] =
            hp__basic_auth_create(c->routes[i].basic_auth, c->routes[i].handler, why, sizeof why);
        if (auths[i]) continue;
        if (len) snprintf(errbuf, len, "routes[%zu].basic_auth.users_file: %s", i, why);
        for (size_t k = 0; k < i; k++) hp__basic_auth_destroy(auths[k]);
        return HP_ECONFIG;
    }
    return 0;
}

int hp_server_create(const hp_server_config *c, hp_server **out, char *errbuf, size_t errbuf_len)
{
    char **prefixes = route_prefixes(c);
    hp__basic_auth **auths = hp__calloc(c->route_count ? c->route_count : 1, sizeof *auths);
    struct hp__log_file *log_file = NULL;
    int err = check_config(c, prefixes, errbuf, errbuf_len);
    if (!err && c->access_log && c->access_log_output.path)
        err = hp__log_file_open(c->access_log_output.path, &log_file, errbuf, errbuf_len);
    if (!err) err = create_auths(c, auths, errbuf, errbuf_len);
    if (err) {
        hp__log_file_release(log_file);
        free_prefixes(prefixes, c->route_count);
        free(auths);
        return err;
    }
    hp_server *s = hp__calloc(1, server_size(c, prefixes));
    hp__block b = {(char *)(s + 1)};
    s->routes = hp__block_take(&b, c->route_count * sizeof *s->routes);
    s->listen = hp__block_take(&b, c->listen_count * sizeof *s->listen);
    s->hosts = c->host_count ? hp__block_take(&b, c->host_count * sizeof *s->hosts) : NULL;
    s->name = take_string(&b, c->name);
    s->expose = c->expose ? take_string(&b, c->expose) : NULL;
    s->listen_count = c->listen_count;
    for (size_t i = 0; i < c->listen_count; i++) s->listen[i] = take_string(&b, c->listen[i]);
    s->host_count = c->host_count;
    for (size_t i = 0; i < c->host_count; i++) {
        s->hosts[i] = take_string(&b, c->hosts[i]);
        for (char *p = s->hosts[i]; *p; p++) *p = (char)tolower((unsigned char)*p);
    }
    s->route_count = c->route_count;
    for (size_t i = 0; i < c->route_count; i++)
        route_init(&s->routes[i], &c->routes[i], take_string(&b, prefixes[i]));
    free_prefixes(prefixes, c->route_count);
    s->limits = c->limits;
    s->access_log = c->access_log;
    s->access_log_format = c->access_log_output.format;
    s->access_log_file = log_file;
    s->access_log_buffer = c->access_log_output.buffer_bytes;
    s->journal_config = c->journal;
    s->fallback = c->fallback;
    s->worker_hooks = has_worker_hooks(s);
    s->max_in_flight = c->max_in_flight;
    create_guards(s, c);
    create_compress(s, c);
    s->headers = hp__header_rules_create(c->headers, NULL);
    s->headers_written = hp__header_rules_config_copy(c->headers);
    for (size_t i = 0; i < c->route_count; i++) {
        s->routes[i].headers = hp__header_rules_create(c->headers, c->routes[i].headers);
        s->routes[i].headers_written = hp__header_rules_config_copy(c->routes[i].headers);
        s->routes[i].auth = auths[i];
        s->routes[i].gate = auths[i] ? hp__basic_auth_gate(auths[i]) : NULL;
    }
    free(auths);
    *out = s;
    return 0;
}

void hp_server_destroy(hp_server *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->route_count; i++) {
        hp_handler_destroy(s->routes[i].handler);
        hp__rate_guard_destroy(s->routes[i].rate_guard);
        hp__compress_destroy(s->routes[i].own_compress);
        hp__header_rules_destroy(s->routes[i].headers);
        hp__header_rules_config_free(s->routes[i].headers_written);
        hp__basic_auth_destroy(s->routes[i].auth);
    }
    hp__header_rules_destroy(s->headers);
    hp__header_rules_config_free(s->headers_written);
    hp__rate_guard_destroy(s->rate_guard);
    hp__compress_destroy(s->compress);
    hp__server_stats_release(s->stats);
    hp__server_journal_release(s->journal);
    hp__log_file_release(s->access_log_file);
    free(s);
}

void hp__server_attach_stats(hp_server *s, unsigned workers)
{
    if (s->stats && s->stats->workers >= workers) return;
    hp__server_stats_release(s->stats); /* sized for an engine with fewer workers */
    s->stats = hp__server_stats_create(workers);
}

void hp__server_share_stats(hp_server *s, const hp_server *from)
{
    hp__server_stats_release(s->stats);
    s->stats = from->stats ? hp__server_stats_share(from->stats) : NULL;
}

void hp__server_disown_handlers(hp_server *s)
{
    for (size_t i = 0; i < s->route_count; i++) s->routes[i].handler = NULL;
}

const char *hp_server_name(const hp_server *s)
{
    return s->name;
}

const char *hp_server_expose(const hp_server *s)
{
    return s->expose;
}

size_t hp_server_listen_count(const hp_server *s)
{
    return s->listen_count;
}

const char *hp_server_listen_address(const hp_server *s, size_t i)
{
    return i < s->listen_count ? s->listen[i] : NULL;
}

size_t hp_server_host_count(const hp_server *s)
{
    return s->host_count;
}

const char *hp_server_host(const hp_server *s, size_t i)
{
    return i < s->host_count ? s->hosts[i] : NULL;
}

/* Prefixes are compared byte for byte with the request's normalized path: both are in the one
 * form (core/url_path.h), so no spelling of a path ("//a", "/x/../a", "/%61") escapes a route
 * that "/a" matches. */
const hp__route *hp__server_route(const hp_server *s, const hp_request *req, bool *method_mismatch)
{
    *method_mismatch = false;
    for (size_t i = 0; i < s->route_count; i++) {
        const hp__route *r = &s->routes[i];
        if (req->path.len < r->prefix_len || memcmp(req->path.base, r->path_prefix, r->prefix_len))
            continue;
        if (r->method_mask & ((uint64_t)1 << (req->method_id & 63))) return r;
        *method_mismatch = true;
    }
    return NULL;
}
