#include "http/vhosts.h"

#include "common/alloc.h"
#include "common/str.h"
#include "core/host_name.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static int compare_names(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

static int compare_exact(const void *a, const void *b)
{
    const hp__vhost_name *x = a, *y = b;
    return compare_names(x->pattern, x->len, y->pattern, y->len);
}

static int compare_wildcards(const void *a, const void *b)
{
    const hp__vhost_name *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return compare_exact(a, b);
}

static size_t count_patterns(const hp_server *const *servers, size_t count, bool wildcard)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        for (size_t h = 0; h < servers[i]->host_count; h++)
            n += (servers[i]->hosts[h][0] == '*') == wildcard;
    return n;
}

static void fill_names(hp__vhosts *v)
{
    size_t e = 0, w = 0;
    for (size_t i = 0; i < v->server_count; i++) {
        const hp_server *s = v->servers[i];
        for (size_t h = 0; h < s->host_count; h++) {
            const char *p = s->hosts[h];
            hp__vhost_name name = {p, strlen(p), s};
            if (p[0] == '*')
                v->wildcards[w++] = name;
            else
                v->exact[e++] = name;
        }
    }
    qsort(v->exact, v->exact_count, sizeof *v->exact, compare_exact);
    qsort(v->wildcards, v->wildcard_count, sizeof *v->wildcards, compare_wildcards);
}

const hp_server *hp__vhosts_head_of(const hp_server *const *servers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (servers[i]->host_count == 0) return servers[i];
    return servers[0];
}

static void vhosts_free(hp__snapshot *snapshot)
{
    hp__vhosts *v = (hp__vhosts *)snapshot;
    free(v->servers);
    free(v->exact);
    free(v->wildcards);
    free(v);
}

hp__vhosts *hp__vhosts_create(const hp_server *const *servers, size_t count, unsigned refs)
{
    hp__vhosts *v = HP_NEW(hp__vhosts);
    hp__snapshot_init(&v->snapshot, refs, vhosts_free);
    v->server_count = count;
    v->servers = hp__calloc(count, sizeof *v->servers);
    memcpy(v->servers, servers, count * sizeof *servers);
    for (size_t i = 0; i < count; i++)
        if (servers[i]->host_count == 0 && !v->fallback) v->fallback = servers[i];
    v->head = hp__vhosts_head_of(servers, count);
    v->exact_count = count_patterns(servers, count, false);
    v->wildcard_count = count_patterns(servers, count, true);
    if (v->exact_count + v->wildcard_count > 0) { /* most addresses have one default server */
        v->exact = hp__calloc(v->exact_count + 1, sizeof *v->exact);
        v->wildcards = hp__calloc(v->wildcard_count + 1, sizeof *v->wildcards);
        fill_names(v);
    }
    return v;
}

void hp__vhosts_release(hp__vhosts *v)
{
    if (v) hp__snapshot_release(&v->snapshot);
}

static const hp_server *find_exact(const hp__vhosts *v, const char *name, size_t len)
{
    size_t lo = 0, hi = v->exact_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_names(v->exact[mid].pattern, v->exact[mid].len, name, len);
        if (c == 0) return v->exact[mid].server;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const hp_server *hp__vhosts_route(const hp__vhosts *v, hp_str host)
{
    if (v->exact_count == 0 && v->wildcard_count == 0) return v->fallback;
    hp_str name = hp__host_strip(host);
    char lower[256];
    if (name.len < sizeof lower) {
        for (size_t i = 0; i < name.len; i++) lower[i] = (char)tolower((unsigned char)name.base[i]);
        const hp_server *s = find_exact(v, lower, name.len);
        if (s) return s;
        for (size_t i = 0; i < v->wildcard_count; i++)
            if (hp__host_match(v->wildcards[i].pattern, hp__str(lower, name.len)) >= 0)
                return v->wildcards[i].server;
    }
    return v->fallback;
}

bool hp__vhosts_has(const hp__vhosts *v, const hp_server *server)
{
    for (size_t i = 0; i < v->server_count; i++)
        if (v->servers[i] == server) return true;
    return false;
}

static const char *claimed_by(const hp_server *s, const char *pattern)
{
    for (size_t h = 0; h < s->host_count; h++)
        if (strcmp(s->hosts[h], pattern) == 0) return s->name;
    return NULL;
}

int hp__vhosts_conflict(const hp_server *const *servers, size_t count, const hp_server *candidate,
                        char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        const hp_server *s = servers[i];
        if (s->host_count == 0 && candidate->host_count == 0) {
            if (errbuf) snprintf(errbuf, errlen, "server %s is already the default there", s->name);
            return UV_EADDRINUSE;
        }
        for (size_t h = 0; h < candidate->host_count; h++) {
            if (!claimed_by(s, candidate->hosts[h])) continue;
            if (errbuf)
                snprintf(errbuf, errlen, "host %s is already served there by server %s",
                         candidate->hosts[h], s->name);
            return UV_EADDRINUSE;
        }
    }
    return 0;
}
