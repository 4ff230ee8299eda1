/* Clashes on shared listen addresses; see config_clash.h.
 *
 * Every listen entry that may be shared becomes a claim (its parsed address, its server and
 * entry). Sorted by address, then server, then entry, the claims of one address form a run in
 * document order, so each claim is checked against the ones before it in its run only. */
#include "config/config_clash.h"

#include "common/alloc.h"
#include "io/socket.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct claim {
    struct sockaddr_storage addr; /* zeroed, then parsed: its bytes compare as a whole */
    size_t server;                /* index in config->servers */
    size_t entry;                 /* index in that server's listen[] */
} claim;

typedef struct clash_check {
    const hp__config *config;
    const hp__config_server_nodes *nodes;
    const char *file;
    hp__config_errors *errs;
} clash_check;

static int compare_claims(const void *a, const void *b)
{
    const claim *x = a, *y = b;
    int c = memcmp(&x->addr, &y->addr, sizeof x->addr);
    if (c) return c;
    if (x->server != y->server) return x->server < y->server ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* The claims of every listen entry that may be shared (not "auto", not port 0), sorted. */
static claim *collect(const hp__config *config, size_t *count)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < config->server_count; i++) cap += config->servers[i].listen_count;
    claim *claims = hp__calloc(cap ? cap : 1, sizeof *claims);
    for (size_t i = 0; i < config->server_count; i++) {
        const hp__config_server *s = &config->servers[i];
        for (size_t e = 0; e < s->listen_count; e++) {
            claim *c = &claims[n];
            if (strcmp(s->listen[e], "auto") == 0 ||
                hp__socket_parse_address(s->listen[e], &c->addr) != 0 ||
                hp__socket_address_port(&c->addr) == 0)
                continue;
            c->server = i;
            c->entry = e;
            n++;
        }
    }
    qsort(claims, n, sizeof *claims, compare_claims);
    *count = n;
    return claims;
}

static const hp__config_server *server_of(const clash_check *k, const claim *c)
{
    return &k->config->servers[c->server];
}

static const char *address_of(const clash_check *k, const claim *c)
{
    return server_of(k, c)->listen[c->entry];
}

static void report(const clash_check *k, const hp__cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(const clash_check *k, const hp__cfg_node *at, const char *fmt, ...)
{
    char *path = hp__cfg_node_path(at);
    va_list ap;
    va_start(ap, fmt);
    hp__config_errors_vadd(k->errs, hp__cfg_node_file(at, k->file), at->line, at->column, path, fmt,
                           ap);
    va_end(ap);
    free(path);
}

/* "servers[1] (blue)": the other server, as an error names it. */
static const char *who(const clash_check *k, const claim *c, char *buf, size_t len)
{
    const hp__config_server *s = server_of(k, c);
    if (!s->name) return s->path;
    snprintf(buf, len, "%s (%s)", s->path, s->name);
    return buf;
}

/* run[i] is a server's second entry for one address: its first is just before it. */
static void check_twice(const clash_check *k, const claim *run, size_t i)
{
    size_t first = i - 1;
    while (first > 0 && run[first - 1].server == run[i].server) first--;
    const hp__config_server_nodes *where = &k->nodes[run[i].server];
    char *earlier = hp__cfg_node_path(where->listen[run[first].entry]);
    report(k, where->listen[run[i].entry], "listed twice: the same address as %s (%s)", earlier,
           address_of(k, &run[first]));
    free(earlier);
}

static void check_default(const clash_check *k, const claim *run, size_t i)
{
    if (server_of(k, &run[i])->host_count) return;
    for (size_t j = 0; j < i; j++) {
        if (server_of(k, &run[j])->host_count) continue;
        char buf[128];
        report(k, k->nodes[run[i].server].listen[run[i].entry],
               "%s already has a default server (one without hosts): %s", address_of(k, &run[j]),
               who(k, &run[j], buf, sizeof buf));
        return;
    }
}

/* The first claim before run[i] whose server claims `host`, or NULL. */
static const claim *claimant(const clash_check *k, const claim *run, size_t i, const char *host)
{
    for (size_t j = 0; j < i; j++) {
        const hp__config_server *other = server_of(k, &run[j]);
        for (size_t h = 0; h < other->host_count; h++)
            if (strcmp(other->hosts[h], host) == 0) return &run[j];
    }
    return NULL;
}

static void check_hosts(const clash_check *k, const claim *run, size_t i)
{
    const hp__config_server *s = server_of(k, &run[i]);
    for (size_t h = 0; h < s->host_count; h++) {
        const claim *other = claimant(k, run, i, s->hosts[h]);
        if (!other) continue;
        char buf[128];
        report(k, k->nodes[run[i].server].hosts[h], "\"%s\" on %s is already claimed by %s",
               s->hosts[h], address_of(k, other), who(k, other, buf, sizeof buf));
    }
}

/* The claims of one address, in document order. */
static void check_run(const clash_check *k, const claim *run, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && run[i - 1].server == run[i].server) {
            check_twice(k, run, i);
            continue;
        }
        check_default(k, run, i);
        check_hosts(k, run, i);
    }
}

void hp__config_check_clashes(const hp__config *config, const hp__config_server_nodes *nodes,
                              const char *file, hp__config_errors *errs)
{
    clash_check k = {.config = config, .nodes = nodes, .file = file, .errs = errs};
    size_t n;
    claim *claims = collect(config, &n);
    for (size_t from = 0, to; from < n; from = to) {
        to = from + 1;
        while (to < n && hp__socket_address_equal(&claims[to].addr, &claims[from].addr)) to++;
        check_run(&k, claims + from, to - from);
    }
    free(claims);
}
