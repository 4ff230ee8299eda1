/* Loading a config: the document tree (node.h) checked against the schema and turned into
 * the model (config.h).
 *
 * The checker walks the whole tree once and never stops early: every check that fails adds
 * one error (config_errors.h) at the offending node and the walk goes on with the next
 * setting, so one run reports everything wrong with a file. Errors are sorted into document
 * order at the end, whatever order the checks ran in (the top-level limits are read before
 * the servers that inherit them, wherever they are written).
 *
 * The model is filled in while checking; if any error was added, it is thrown away and no
 * config is returned. Each scalar read is marked with what it was read as (node.h), so the
 * tree's JSON is the checked document: what the running config holds, never the raw input.
 * Rules that are the same everywhere:
 *   - every mapping is checked for unknown keys, at every level;
 *   - a scalar is a string unless a number or a boolean is expected: `body: 200` is "200",
 *     and so is JSON's `"body": 200` (one rule for YAML, JSON and the admin API, whose
 *     `hostpool add -f` turns a YAML file into JSON; the running config holds the string);
 *     null, a list or a mapping is not a string;
 *   - numbers must be plain (`status: "200"` is refused, as JSON would have it);
 *   - durations and sizes are strings or numbers (a bare number is seconds or bytes);
 *   - `listen` and `hosts` take one string or a list of them.
 * The typed reads and their errors are config_read.c's, shared with every handler kind: a
 * route's handler key and its settings belong to the kind the registry has for that key
 * (handlers/registry.h), so no handler is named here. */
#include "config/config.h"

#include "common/alloc.h"
#include "config/config_check.h"
#include "config/config_clash.h"
#include "config/config_env.h"
#include "config/config_include.h"
#include "config/config_journal.h"
#include "config/config_basic_auth.h"
#include "config/config_headers.h"
#include "config/config_rate_limit.h"
#include "config/config_compress.h"
#include "config/config_switchboards.h"
#include "config/config_upstreams.h"
#include "config/parse.h"
#include "core/health.h"
#include "core/host_name.h"
#include "core/url_path.h"
#include "handlers/registry.h"
#include "hostpool/errors.h"
#include "hostpool/request.h"
#include "io/socket.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <llhttp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct hp_config_check checker;

/* A null where one is allowed (`servers:` with every entry commented out). */
static bool null_of(hp__cfg_node *n)
{
    if (!hp__cfg_is_null(n)) return false;
    hp__config_read_as(n, HP__CFG_READ_NULL);
    return true;
}

static char *dup_string(checker *c, hp__cfg_node *n)
{
    const char *s = hp_config_string(c, n);
    return s ? hp__strdup(s) : NULL;
}

/* One string, or a list of strings: the nodes to read, borrowed. Returns the count, 0 after an
 * error. */
static size_t string_or_list(checker *c, hp__cfg_node *n, hp__cfg_node *const **items,
                             hp__cfg_node **single, const char *what)
{
    if (n->kind == HP__CFG_SCALAR) {
        *single = n;
        *items = single;
        return 1;
    }
    if (n->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, n, "a string or a list");
        return 0;
    }
    if (n->count == 0) hp_config_error(c, n, "at least one %s is required", what);
    *items = (hp__cfg_node *const *)n->items;
    return n->count;
}

/* ---- addresses and names ---- */

/* A listen address in the syntax every part of hostpool reads (io/socket.h: HOST:PORT, a port
 * alone, [IPV6]:PORT, unix:PATH). *loopback tells whether it is a loopback address. */
static bool check_address(checker *c, hp__cfg_node *n, bool *loopback)
{
    struct sockaddr_storage a;
    char why[160];
    if (hp__socket_check_address(n->text, &a, why, sizeof why) != 0) {
        hp_config_error(c, n, "%s", why);
        return false;
    }
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a;
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a;
    *loopback = (a.ss_family == AF_INET && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) ||
                (a.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    return true;
}

/* "http://host[:port]" or "https://...", an optional "/" at the end. */
static bool valid_url(const char *s)
{
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    else if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else
        return false;
    size_t host;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        char buf[64];
        struct in6_addr a;
        if (!close || (size_t)(close - s - 1) >= sizeof buf) return false;
        memcpy(buf, s + 1, (size_t)(close - s - 1));
        buf[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, buf, &a) != 1) return false;
        host = (size_t)(close - s) + 1;
    } else {
        host = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");
        if (host == 0) return false;
    }
    s += host;
    if (*s == ':') {
        size_t digits = strspn(s + 1, "0123456789");
        if (digits == 0 || digits > 5) return false;
        int port = atoi(s + 1);
        if (port < 1 || port > 65535) return false;
        s += 1 + digits;
    }
    return strcmp(s, "") == 0 || strcmp(s, "/") == 0;
}

static bool known_method(const char *name)
{
#define HP_METHOD_KNOWN(num, id, text)                                                             \
    if (strcmp(name, #text) == 0) return true;
    HTTP_METHOD_MAP(HP_METHOD_KNOWN)
#undef HP_METHOD_KNOWN
    return false;
}

/* ---- limits ---- */

/* Every limit is bounded by what the code that uses it can hold (hostpool/server.h says why),
 * so a value the checker takes never wraps a field or the arithmetic done on it later: the
 * read buffer is max_header_bytes + 4 KiB in 32 bits, timeouts are added to the loop's
 * 64-bit clock, health.interval is 32 bits of milliseconds. */
_Static_assert(HP_LIMIT_MAX_HEADER_BYTES + 4096ull <= UINT32_MAX, "the read buffer size");
_Static_assert(HP_LIMIT_MAX_HEADERS <= UINT32_MAX / 2, "the header array doubles");
_Static_assert(HP_LIMIT_MAX_TIMEOUT_MS <= UINT32_MAX, "health.interval_ms");
_Static_assert(HP__CONFIG_MAX_SERVERS_LIMIT <= UINT32_MAX, "max_servers");

typedef struct limit_key {
    const char *name;
    hp__config_amount_kind kind;
    size_t offset, size; /* the field in hp_limits: uint64_t or uint32_t */
    uint64_t min, max;
} limit_key;

#define LIMIT(field, key, kind, min, max)                                                          \
    {                                                                                              \
        key, kind, offsetof(hp_limits, field), sizeof(((hp_limits *)0)->field), min, max           \
    }
static const limit_key limit_keys[] = {
    LIMIT(header_timeout_ms, "header_timeout", HP__CONFIG_DURATION, 1, HP_LIMIT_MAX_TIMEOUT_MS),
    LIMIT(idle_timeout_ms, "idle_timeout", HP__CONFIG_DURATION, 1, HP_LIMIT_MAX_TIMEOUT_MS),
    LIMIT(write_timeout_ms, "write_timeout", HP__CONFIG_DURATION, 1, HP_LIMIT_MAX_TIMEOUT_MS),
    LIMIT(drain_timeout_ms, "drain_timeout", HP__CONFIG_DURATION, 0, HP_LIMIT_MAX_TIMEOUT_MS),
    LIMIT(max_header_bytes, "max_header_bytes", HP__CONFIG_SIZE, 1, HP_LIMIT_MAX_HEADER_BYTES),
    LIMIT(max_target_bytes, "max_target_bytes", HP__CONFIG_SIZE, 1, HP_LIMIT_MAX_HEADER_BYTES),
    LIMIT(max_headers, "max_headers", HP__CONFIG_COUNT, 1, HP_LIMIT_MAX_HEADERS),
    LIMIT(max_body_bytes, "max_body_bytes", HP__CONFIG_SIZE, 1, HP_LIMIT_MAX_BODY_BYTES),
    LIMIT(max_connections, "max_connections", HP__CONFIG_COUNT, 1, HP_LIMIT_MAX_CONNECTIONS),
    LIMIT(max_connections_per_client, "max_connections_per_client", HP__CONFIG_COUNT, 0,
          HP_LIMIT_MAX_CONNECTIONS),
};
#undef LIMIT
#define LIMIT_COUNT (sizeof limit_keys / sizeof limit_keys[0])

static void set_limit(hp_limits *limits, const limit_key *k, uint64_t v)
{
    char *field = (char *)limits + k->offset;
    if (k->size == sizeof(uint32_t)) {
        uint32_t v32 = (uint32_t)v; /* at most k->max, which fits */
        memcpy(field, &v32, sizeof v32);
    } else {
        memcpy(field, &v, sizeof v);
    }
}

/* Reads a `limits` mapping over `limits` (which holds the defaults). `max_servers` is read at
 * the top level only (NULL for a server's limits). */
static void check_limits(checker *c, hp__cfg_node *map, hp_limits *limits, uint32_t *max_servers)
{
    if (!hp_config_expect_mapping(c, map)) return;
    for (size_t i = 0; i < map->count; i++) {
        hp__cfg_node *key = map->keys[i], *value = map->items[i];
        uint64_t v;
        if (strcmp(key->text, "max_servers") == 0) {
            if (!max_servers) {
                hp__config_fail_at(c, map, key,
                                   "max_servers is a pool limit: set it in the top-level limits");
            } else if (hp__config_amount(c, value, HP__CONFIG_COUNT, 1,
                                         HP__CONFIG_MAX_SERVERS_LIMIT, &v)) {
                *max_servers = (uint32_t)v;
            }
            continue;
        }
        const limit_key *k = NULL;
        for (size_t j = 0; j < LIMIT_COUNT && !k; j++)
            if (strcmp(key->text, limit_keys[j].name) == 0) k = &limit_keys[j];
        if (!k) {
            const char *names[LIMIT_COUNT + 2] = {0};
            for (size_t j = 0; j < LIMIT_COUNT; j++) names[j] = limit_keys[j].name;
            names[LIMIT_COUNT] = max_servers ? "max_servers" : NULL;
            hp__config_fail_unknown_key(c, map, key, names);
            continue;
        }
        if (hp__config_amount(c, value, k->kind, k->min, k->max, &v)) set_limit(limits, k, v);
    }
}

/* ---- routes ---- */

/* Does `path` have a normalized form (core/url_path.h), the one requests are matched in? */
static bool path_valid(const char *path)
{
    size_t len = strlen(path), out_len;
    char *out = hp__malloc(HP__URL_PATH_MAX(len));
    int status = hp__url_path_normalize((hp_str){path, len}, out, HP__URL_PATH_MAX(len), &out_len);
    free(out);
    return status == 0;
}

static void check_match(checker *c, hp__cfg_node *map, hp__config_route *r)
{
    static const char *const keys[] = {"path", "methods", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "path"))) {
        const char *path = hp_config_string(c, n);
        if (path && path[0] != '/')
            hp_config_error(c, n, "must start with \"/\"");
        else if (path && !path_valid(path))
            hp_config_error(c, n,
                            "not a path: a '%%' must start an escape (%%25 for itself), no %%00, "
                            "and \"..\" must not climb above \"/\"");
        else if (path)
            r->path_prefix = hp__strdup(path);
    }
    if ((n = hp__cfg_mapping_get(map, "methods"))) {
        hp__cfg_node *const *items, *single;
        size_t count = string_or_list(c, n, &items, &single, "method");
        r->methods = hp__calloc(count ? count : 1, sizeof *r->methods);
        for (size_t i = 0; i < count; i++) {
            const char *m = hp_config_string(c, items[i]);
            if (m && !known_method(m))
                hp_config_error(c, items[i], "unknown method \"%.*s\"", HP_CONFIG_QUOTE_MAX, m);
            else if (m)
                r->methods[r->method_count++] = hp__strdup(m);
        }
    }
}

/* A second handler key's model replaces the first one's: the route is an error either way. */
static void route_drop_model(hp__config_route *r)
{
    if (r->model && r->kind->free_model) r->kind->free_model(r->model);
    r->model = NULL;
}

/* A route: its `match`, then exactly one handler key, whose settings the kind of that key
 * checks (handlers/registry.h: the config lists no handler of its own). */
static void check_route(checker *c, hp__cfg_node *map, hp__config_route *r)
{
    size_t kinds = hp__handler_kinds_count();
    const char *keys[HP__HANDLER_KINDS_MAX + 6] = {"match", "rate_limit", "compress", "headers",
                                                   "basic_auth"};
    for (size_t i = 0; i < kinds; i++) keys[i + 5] = hp__handler_kind_at(i)->key;
    r->pos = (hp__config_pos){map->line, map->column};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "match"))) check_match(c, n, r);
    if ((n = hp__cfg_mapping_get(map, "rate_limit")))
        r->rate_limit = hp__config_read_rate_limit(c, n);
    if ((n = hp__cfg_mapping_get(map, "compress")))
        r->compress = hp__config_read_compress(c, n, true);
    if ((n = hp__cfg_mapping_get(map, "headers"))) r->headers = hp__config_read_headers(c, n);
    if ((n = hp__cfg_mapping_get(map, "basic_auth")))
        r->basic_auth = hp__config_read_basic_auth(c, n);
    unsigned handlers = 0;
    for (size_t i = 0; i < kinds; i++) {
        const hp_handler_kind *kind = hp__handler_kind_at(i);
        if (!(n = hp__cfg_mapping_get(map, kind->key))) continue;
        handlers++;
        route_drop_model(r);
        r->kind = kind;
        r->model = kind->check(c, n);
    }
    if (handlers != 1)
        hp_config_error(c, map, "exactly one of %s is required", hp__handler_kinds_list());
}

/* ---- servers ---- */

/* Reads the listen entries into s->listen and where each is written into where->listen. */
static void check_listen(checker *c, hp__cfg_node *n, hp__config_server *s,
                         hp__config_server_nodes *where)
{
    hp__cfg_node *const *items, *single;
    size_t count = string_or_list(c, n, &items, &single, "address");
    s->listen = hp__calloc(count ? count : 1, sizeof *s->listen);
    where->listen = hp__calloc(count ? count : 1, sizeof *where->listen);
    for (size_t i = 0; i < count; i++) {
        const char *text = hp_config_string(c, items[i]);
        bool loopback;
        if (!text || (strcmp(text, "auto") != 0 && !check_address(c, items[i], &loopback)))
            continue;
        where->listen[s->listen_count] = items[i];
        s->listen[s->listen_count++] = hp__strdup(text);
    }
}

/* Reads the host patterns into s->hosts and where each is written into where->hosts. */
static void check_hosts(checker *c, hp__cfg_node *n, hp__config_server *s,
                        hp__config_server_nodes *where)
{
    hp__cfg_node *const *items, *single;
    size_t count = string_or_list(c, n, &items, &single, "host name");
    s->hosts = hp__calloc(count ? count : 1, sizeof *s->hosts);
    where->hosts = hp__calloc(count ? count : 1, sizeof *where->hosts);
    for (size_t i = 0; i < count; i++) {
        const char *text = hp_config_string(c, items[i]);
        if (!text) continue;
        char *host = hp__strdup(text);
        for (char *p = host; *p; p++) *p = (char)tolower((unsigned char)*p);
        if (hp__host_pattern_valid(host)) {
            where->hosts[s->host_count] = items[i];
            s->hosts[s->host_count++] = host;
        } else {
            hp_config_error(c, items[i], "\"%.*s\" is not a host name or a *.suffix wildcard",
                            HP_CONFIG_QUOTE_MAX, text);
            free(host);
        }
    }
}

static void check_server(checker *c, hp__cfg_node *map, const hp__config *config,
                         hp__config_server *s, hp__config_server_nodes *where)
{
    static const char *const keys[] = {
        "name",    "listen",     "expose",        "hosts",      "limits",   "routes",  "process",
        "journal", "rate_limit", "max_in_flight", "access_log", "compress", "headers", NULL};
    s->limits = config->limits;
    s->access_log = config->access_log;
    hp__config_access_log_copy(&s->access_log_output, &config->access_log_output);
    const char *file = hp__cfg_node_file(map, c->file);
    s->file = file ? hp__strdup(file) : NULL;
    s->path = hp__cfg_node_path(map);
    s->pos = (hp__config_pos){map->line, map->column};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    if (!(n = hp__cfg_mapping_get(map, "name"))) {
        hp_config_error(c, map, "\"name\" is required");
    } else if ((s->name = dup_string(c, n)) && !hp__config_name_valid(s->name)) {
        hp_config_error(c, n, "\"%.*s\" is not a valid name: 1 to %d of A-Z a-z 0-9 . _ -",
                        HP_CONFIG_QUOTE_MAX, s->name, HP__CONFIG_NAME_MAX);
    } else if (s->name && strcmp(s->name, HP__CONFIG_ADMIN_SERVER) == 0) {
        hp_config_error(c, n, "\"%s\" is the name of the admin API's own server", s->name);
    }
    if (!(n = hp__cfg_mapping_get(map, "listen")))
        hp_config_error(c, map, "\"listen\" is required");
    else
        check_listen(c, n, s, where);
    if ((n = hp__cfg_mapping_get(map, "expose")) && (s->expose = dup_string(c, n)) &&
        !valid_url(s->expose))
        hp_config_error(c, n, "expected http:// or https:// followed by host[:port], got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, s->expose);
    if ((n = hp__cfg_mapping_get(map, "hosts"))) check_hosts(c, n, s, where);
    if ((n = hp__cfg_mapping_get(map, "limits"))) check_limits(c, n, &s->limits, NULL);
    if ((n = hp__cfg_mapping_get(map, "access_log")))
        hp__config_read_access_log(c, n, &s->access_log, &s->access_log_output);
    if ((n = hp__cfg_mapping_get(map, "journal")))
        hp__config_read_journal(c, n, config->workers, &s->journal);
    if ((n = hp__cfg_mapping_get(map, "rate_limit")))
        s->rate_limit = hp__config_read_rate_limit(c, n);
    if ((n = hp__cfg_mapping_get(map, "compress")))
        s->compress = hp__config_read_compress(c, n, false);
    uint64_t cap;
    if ((n = hp__cfg_mapping_get(map, "max_in_flight")) &&
        hp__config_amount(c, n, HP__CONFIG_COUNT, 0, HP_LIMIT_MAX_CONNECTIONS, &cap))
        s->max_in_flight = (uint32_t)cap;
    if ((n = hp__cfg_mapping_get(map, "headers"))) s->headers = hp__config_read_headers(c, n);
    if ((n = hp__cfg_mapping_get(map, "process"))) {
        s->process = HP_NEW(hp__process_model);
        hp__config_read_process(c, n, false, s->process);
        if ((n = hp__cfg_mapping_get(map, "routes")))
            hp__config_fail_at(c, map, hp__cfg_mapping_key(map, "routes", 6),
                               "a process server has no routes: its process answers every request");
        if (s->compress)
            hp__config_fail_at(c, map, hp__cfg_mapping_key(map, "compress", 8),
                               "a process server's answers are its process's: compress them there");
        return;
    }
    if ((n = hp__cfg_mapping_get(map, "routes")) && !null_of(n)) {
        if (n->kind != HP__CFG_SEQUENCE) {
            hp__config_fail_type(c, n, "a list");
            return;
        }
        s->routes = hp__calloc(n->count ? n->count : 1, sizeof *s->routes);
        s->route_count = n->count;
        for (size_t i = 0; i < n->count; i++) check_route(c, n->items[i], &s->routes[i]);
    }
}

/* servers[i]'s name is not the name of a server before it. */
static void check_name_unique(checker *c, hp__cfg_node *map, const hp__config *config, size_t i)
{
    const char *name = config->servers[i].name;
    for (size_t j = 0; name && j < i; j++) {
        if (config->servers[j].name && strcmp(config->servers[j].name, name) == 0) {
            hp_config_error(c, hp__cfg_mapping_get(map, "name"), "\"%s\" is already used by %s",
                            name, config->servers[j].path);
            return;
        }
    }
}

static void check_servers(checker *c, hp__cfg_node *n, hp__config *config)
{
    if (null_of(n)) return; /* `servers:` with every server commented out */
    if (n->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, n, "a list");
        return;
    }
    if (n->count > config->max_servers)
        hp_config_error(c, n, "%zu servers, more than limits.max_servers (%" PRIu32 ")", n->count,
                        config->max_servers);
    config->servers = hp__calloc(n->count ? n->count : 1, sizeof *config->servers);
    config->server_count = n->count;
    hp__config_server_nodes *nodes = hp__calloc(n->count ? n->count : 1, sizeof *nodes);
    for (size_t i = 0; i < n->count; i++) {
        check_server(c, n->items[i], config, &config->servers[i], &nodes[i]);
        check_name_unique(c, n->items[i], config, i);
    }
    hp__config_check_clashes(config, nodes, c->file, c->errs);
    for (size_t i = 0; i < n->count; i++) {
        free(nodes[i].listen);
        free(nodes[i].hosts);
    }
    free(nodes);
}

/* ---- the top level ---- */

static void check_workers(checker *c, hp__cfg_node *n, hp__config *config)
{
    long long v;
    if (n->kind == HP__CFG_SCALAR && strcmp(n->text, "auto") == 0) {
        hp__config_read_as(n, HP__CFG_READ_STRING);
        config->workers = 0;
    } else if (!hp__config_plain_integer(n)) {
        hp__config_fail_type(c, n, "auto or a number of workers");
    } else if (hp_config_integer(c, n, 1, HP_MAX_WORKERS, &v)) {
        config->workers = (unsigned)v;
    }
}

static void check_admin(checker *c, hp__cfg_node *map, hp__config *config)
{
    static const char *const keys[] = {"listen", "token_file", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n, *listen = hp__cfg_mapping_get(map, "listen");
    if ((n = hp__cfg_mapping_get(map, "token_file")) &&
        (config->admin.token_file = dup_string(c, n)) && !config->admin.token_file[0])
        hp_config_error(c, n, "must not be empty");
    const char *text;
    if (!listen || !(text = hp_config_string(c, listen))) return;
    bool loopback = false;
    if (!check_address(c, listen, &loopback)) return;
    if (strncmp(text, "unix:", 5) != 0 && !config->admin.token_file)
        hp_config_error(c, listen, "a TCP admin address requires admin.token_file%s",
                        loopback ? "" : " (and it is not on loopback)");
    free(config->admin.listen);
    config->admin.listen = hp__strdup(text);
}

/* The port written at `text`, its digits counted in *len; 0 (out of range) past 5 digits. */
static long range_port(const char *text, size_t *len)
{
    *len = strspn(text, "0123456789");
    return *len <= 5 ? strtol(text, NULL, 10) : 0;
}

static void check_ports(checker *c, hp__cfg_node *map, hp__config *config)
{
    static const char *const keys[] = {"range", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n = hp__cfg_mapping_get(map, "range");
    const char *text;
    if (!n || !(text = hp_config_string(c, n))) return;
    size_t lo_len, hi_len = 0;
    long lo = range_port(text, &lo_len), hi = 0;
    bool shape = lo_len > 0 && text[lo_len] == '-';
    if (shape) hi = range_port(text + lo_len + 1, &hi_len);
    if (!shape || hi_len == 0 || text[lo_len + 1 + hi_len]) {
        hp_config_error(c, n, "expected a port range LO-HI (20000-20999), got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, text);
    } else if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
        bool first = lo < 1 || lo > 65535;
        hp_config_error(c, n, "port %.*s out of range (1-65535)", (int)(first ? lo_len : hi_len),
                        first ? text : text + lo_len + 1);
    } else if (lo > hi) {
        hp_config_error(c, n, "the first port is above the last");
    } else {
        config->ports.lo = (uint16_t)lo;
        config->ports.hi = (uint16_t)hi;
    }
}

static void check_health_count(checker *c, hp__cfg_node *n, uint32_t *out)
{
    long long v;
    if (hp_config_integer(c, n, 1, 1000, &v)) *out = (uint32_t)v;
}

static void check_health(checker *c, hp__cfg_node *map, hp__config *config)
{
    static const char *const keys[] = {"interval", "rise", "fall", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    uint64_t v;
    if ((n = hp__cfg_mapping_get(map, "interval")) &&
        hp__config_amount(c, n, HP__CONFIG_DURATION, 1, HP_LIMIT_MAX_TIMEOUT_MS, &v))
        config->health.interval_ms = (uint32_t)v;
    if ((n = hp__cfg_mapping_get(map, "rise"))) check_health_count(c, n, &config->health.rise);
    if ((n = hp__cfg_mapping_get(map, "fall"))) check_health_count(c, n, &config->health.fall);
}

static void check_config(checker *c, hp__cfg_node *root, hp__config *config)
{
    static const char *const keys[] = {
        "workers", "admin",     "ports",        "limits",  "health",    "access_log", "pid_file",
        "servers", "upstreams", "switchboards", "include", "error_log", NULL};
    if (!hp_config_expect_mapping(c, root)) return;
    hp_config_keys(c, root, keys);
    hp__cfg_node *n;
    /* A file's includes were merged and the key removed (config_include.h): here it is in a
     * document the admin API was given. */
    if (hp__cfg_mapping_get(root, "include"))
        hp__config_fail_at(c, root, hp__cfg_mapping_key(root, "include", 7),
                           "include is read only from a config file: the admin API takes the "
                           "whole document (GET /config shows it merged)");
    if ((n = hp__cfg_mapping_get(root, "workers"))) check_workers(c, n, config);
    if ((n = hp__cfg_mapping_get(root, "admin"))) check_admin(c, n, config);
    if ((n = hp__cfg_mapping_get(root, "ports"))) check_ports(c, n, config);
    if ((n = hp__cfg_mapping_get(root, "limits")))
        check_limits(c, n, &config->limits, &config->max_servers);
    if ((n = hp__cfg_mapping_get(root, "health"))) check_health(c, n, config);
    if ((n = hp__cfg_mapping_get(root, "access_log")))
        hp__config_read_access_log(c, n, &config->access_log, &config->access_log_output);
    if ((n = hp__cfg_mapping_get(root, "error_log")))
        hp__config_read_error_log(c, n, &config->error_log);
    if ((n = hp__cfg_mapping_get(root, "pid_file")) && (config->pid_file = dup_string(c, n)) &&
        !config->pid_file[0])
        hp_config_error(c, n, "must not be empty");
    if ((n = hp__cfg_mapping_get(root, "upstreams"))) hp__config_check_upstreams(c, n, config);
    /* Servers last: they inherit the limits and access_log read above, and their routes
     * name the upstreams. */
    if ((n = hp__cfg_mapping_get(root, "servers"))) {
        check_servers(c, n, config);
        for (size_t i = 0; i < config->server_count; i++)
            hp__config_check_upstream_refs(c, n->items[i], &config->servers[i], config->upstreams,
                                           config->upstream_count);
    }
    /* Switchboards after the servers, whose names theirs must not take. */
    if ((n = hp__cfg_mapping_get(root, "switchboards")))
        hp__config_check_switchboards(c, n, config);
}

int hp__config_load_node(hp__cfg_node *root, const char *file, hp__config **out,
                         hp__config_errors *errs)
{
    size_t before = errs->count;
    checker c = {.file = file, .errs = errs};
    hp__config *config = HP_NEW(hp__config);
    config->admin.listen = hp__strdup(HP__CONFIG_ADMIN_LISTEN);
    config->ports.lo = HP__CONFIG_PORT_LO;
    config->ports.hi = HP__CONFIG_PORT_HI;
    hp_limits_init(&config->limits);
    config->max_servers = HP__CONFIG_MAX_SERVERS;
    config->access_log = true;
    config->error_log.level = HP_LOG_INFO;
    config->health.interval_ms = HP__HEALTH_DEFAULT_INTERVAL_MS;
    config->health.rise = HP__HEALTH_DEFAULT_RISE;
    config->health.fall = HP__HEALTH_DEFAULT_FALL;
    check_config(&c, root, config);
    *out = NULL;
    if (errs->count == before) {
        *out = config;
        return 0;
    }
    hp__config_errors_sort(errs, before);
    hp__config_destroy(config);
    return HP_ECONFIG;
}

int hp__config_load_server_node(hp__cfg_node *map, const hp__config *defaults,
                                hp__config_server **out, hp__config_errors *errs)
{
    size_t before = errs->count;
    checker c = {.errs = errs};
    hp__config_server *s = HP_NEW(hp__config_server);
    hp__config_server_nodes where = {0};
    check_server(&c, map, defaults, s, &where);
    hp__config_check_upstream_refs(&c, map, s, defaults->upstreams, defaults->upstream_count);
    free(where.listen);
    free(where.hosts);
    *out = NULL;
    if (errs->count == before) {
        *out = s;
        return 0;
    }
    hp__config_errors_sort(errs, before);
    hp__config_server_destroy(s);
    return HP_ECONFIG;
}

int hp__config_set_admin_listen(hp__config *config, const char *listen, hp__config_errors *errs)
{
    size_t before = errs->count;
    checker c = {.file = "--admin", .errs = errs};
    hp__cfg_node *root = hp__cfg_collection_create(HP__CFG_MAPPING, 0, 0);
    hp__cfg_node *admin = hp__cfg_collection_create(HP__CFG_MAPPING, 0, 0);
    hp__cfg_mapping_append(root, hp__cfg_scalar_create("admin", 5, false, 0, 0), admin);
    hp__cfg_mapping_append(admin, hp__cfg_scalar_create("listen", 6, false, 0, 0),
                           hp__cfg_scalar_create(listen, strlen(listen), true, 0, 0));
    check_admin(&c, admin, config);
    hp__cfg_node_destroy(root);
    return errs->count == before ? 0 : HP_ECONFIG;
}

/* Checks a parsed tree and frees it. Errors the parser reported without giving up (repeated
 * keys: those added since `before`) are kept, the rest of the document is still checked, and
 * they fail the load. */
static int load_parsed(hp__cfg_node *root, const char *file, size_t before, hp__config **out,
                       json_t **doc, hp__config_errors *errs)
{
    size_t parse_errors = errs->count - before;
    int err = hp__config_load_node(root, file, out, errs);
    if (parse_errors) {
        hp__config_destroy(*out);
        *out = NULL;
        hp__config_errors_sort(errs, before);
        err = HP_ECONFIG;
    }
    if (!err && doc) *doc = hp__cfg_node_to_json(root);
    hp__cfg_node_destroy(root);
    return err;
}

int hp__config_load_file_doc(const char *path, hp__config **out, json_t **doc,
                             hp__config_errors *errs)
{
    size_t before = errs->count;
    *out = NULL;
    if (doc) *doc = NULL;
    hp__cfg_node *root = hp__cfg_parse_file(path, errs);
    if (!root) return HP_ECONFIG;
    /* The include paths first (they may name variables), then the merged document, where the
     * include key is no more: each value is expanded once. */
    hp__cfg_node *include =
        root->kind == HP__CFG_MAPPING ? hp__cfg_mapping_get(root, "include") : NULL;
    if (include) hp__config_expand_env(include, path, errs);
    hp__config_read_includes(root, path, errs);
    hp__config_expand_env(root, path, errs);
    return load_parsed(root, path, before, out, doc, errs);
}

int hp__config_load_file(const char *path, hp__config **out, hp__config_errors *errs)
{
    return hp__config_load_file_doc(path, out, NULL, errs);
}

int hp__config_load_json_doc(const char *text, size_t len, const char *label, hp__config **out,
                             json_t **doc, hp__config_errors *errs)
{
    size_t before = errs->count;
    *out = NULL;
    *doc = NULL;
    hp__cfg_node *root = hp__cfg_parse_json(text, len, label, errs);
    return root ? load_parsed(root, label, before, out, doc, errs) : HP_ECONFIG;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void route_close(hp__config_route *r)
{
    free(r->path_prefix);
    free_strings(r->methods, r->method_count);
    hp__config_rate_limit_free(r->rate_limit);
    hp__config_compress_free(r->compress);
    hp__config_headers_free(r->headers);
    hp__config_basic_auth_free(r->basic_auth);
    route_drop_model(r);
}

static void server_close(hp__config_server *s)
{
    free(s->name);
    free_strings(s->listen, s->listen_count);
    free(s->expose);
    free_strings(s->hosts, s->host_count);
    for (size_t i = 0; i < s->route_count; i++) route_close(&s->routes[i]);
    free(s->routes);
    if (s->process) hp__process_model_free(s->process);
    free(s->process);
    hp__config_rate_limit_free(s->rate_limit);
    hp__config_access_log_close(&s->access_log_output);
    hp__config_compress_free(s->compress);
    hp__config_headers_free(s->headers);
    free(s->file);
    free(s->path);
}

void hp__config_server_destroy(hp__config_server *server)
{
    if (!server) return;
    server_close(server);
    free(server);
}

void hp__config_forget_server(hp__config *config, size_t i)
{
    server_close(&config->servers[i]);
    config->servers[i] = (hp__config_server){0};
}

void hp__config_drop_servers(hp__config *config)
{
    for (size_t i = 0; i < config->server_count; i++) server_close(&config->servers[i]);
    free(config->servers);
    config->servers = NULL;
    config->server_count = 0;
}

void hp__config_destroy(hp__config *config)
{
    if (!config) return;
    free(config->admin.listen);
    free(config->admin.token_file);
    free(config->pid_file);
    hp__config_access_log_close(&config->access_log_output);
    free(config->error_log.path);
    for (size_t i = 0; i < config->server_count; i++) server_close(&config->servers[i]);
    free(config->servers);
    for (size_t i = 0; i < config->upstream_count; i++)
        hp__upstream_model_close(&config->upstreams[i]);
    free(config->upstreams);
    for (size_t i = 0; i < config->switchboard_count; i++)
        hp__switchboard_model_close(&config->switchboards[i]);
    free(config->switchboards);
    free(config);
}
