/* A rate limit on the request path (rate_guard.h): the key, the table, the refusal. */
#include "http/rate_guard.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "hostpool/request.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_FIELD_MAX 320 /* "NAME";q=N;w=N: a name of 100 bytes, every one escaped */
#define LIMIT_FIELD_MAX 320  /* as the policy field, with r= and t= */

struct hp__rate_guard {
    hp__rate_table *table;
    hp_rate_limit limit;
    hp__rate_config config;
    char *policy_name;
    char policy_field[POLICY_FIELD_MAX];
};

static hp__rate_config config_of(const hp_rate_limit *limit)
{
    return (hp__rate_config){
        .requests = limit->requests,
        .burst = limit->burst,
        .per_ms = limit->per_ms,
        .block_for_ms = limit->block_for_ms,
    };
}

/* RFC 9110 §5.6.2: a token of tchar. */
bool hp__rate_guard_key_header_valid(const char *name)
{
    if (!*name) return false;
    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        bool alnum =
            (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum && !strchr("!#$%&'*+-.^_`|~", ch)) return false;
    }
    return true;
}

int hp__rate_guard_check_limit(const hp_rate_limit *limit, const char *policy, char *errbuf,
                               size_t len)
{
    hp__rate_config config = config_of(limit);
    if (hp__rate_config_check(&config)) {
        snprintf(errbuf, len,
                 "rate_limit: requests 1..%u, burst 0..%u, per 1 ms..366 days, block_for "
                 "0..366 days",
                 HP__RATE_MAX_REQUESTS, HP__RATE_MAX_BURST);
        return HP_EINVAL;
    }
    if (limit->key_header && !hp__rate_guard_key_header_valid(limit->key_header)) {
        snprintf(errbuf, len, "rate_limit: the key's header name is not a token");
        return HP_EINVAL;
    }
    char field[POLICY_FIELD_MAX];
    if (strlen(policy) > 100 || hp__rate_policy_field(field, sizeof field, policy, &config) < 0) {
        snprintf(errbuf, len,
                 "rate_limit: the policy name (the server's) must be printable ASCII, at most "
                 "100 bytes");
        return HP_EINVAL;
    }
    return 0;
}

hp__rate_guard *hp__rate_guard_create(const hp_rate_limit *limit, const char *policy)
{
    hp__rate_guard *g = HP_NEW(hp__rate_guard);
    g->config = config_of(limit);
    g->table = hp__rate_table_create(&g->config, HP__RATE_TABLE_DEFAULT_MEMORY);
    g->limit = *limit;
    g->limit.key_header = limit->key_header ? hp__strdup(limit->key_header) : NULL;
    g->policy_name = hp__strdup(policy);
    int written =
        hp__rate_policy_field(g->policy_field, sizeof g->policy_field, policy, &g->config);
    assert(g->table && written > 0); /* the limit and the name passed the check */
    (void)written;
    return g;
}

void hp__rate_guard_destroy(hp__rate_guard *g)
{
    if (!g) return;
    hp__rate_table_destroy(g->table);
    free((char *)g->limit.key_header);
    free(g->policy_name);
    free(g);
}

const hp_rate_limit *hp__rate_guard_limit(const hp__rate_guard *g)
{
    return &g->limit;
}

bool hp__rate_guard_admit(hp__rate_guard *g, const hp_request *req, const void *ip, size_t ip_len,
                          uint64_t now_ms, hp__rate_decision *decision)
{
    const void *key = ip;
    size_t len = ip_len;
    if (g->limit.key_header) {
        const hp_str *value = hp_request_header(req, g->limit.key_header);
        key = value ? value->base : "";
        len = value ? value->len : 0;
    }
    hp__rate_table_check(g->table, key, len, now_ms, 1, decision);
    return hp__rate_allowed(decision);
}

void hp__rate_guard_refuse(const hp__rate_guard *g, hp_request *req,
                           const hp__rate_decision *decision)
{
    uint64_t seconds = hp__rate_retry_after_seconds(decision->retry_after_ms);
    char retry[24], limit[LIMIT_FIELD_MAX], body[96];
    int n = snprintf(retry, sizeof retry, "%" PRIu64, seconds);
    hp_response_header(req, "Retry-After", 11, retry, (size_t)n);
    hp_response_header(req, "RateLimit-Policy", 16, g->policy_field, strlen(g->policy_field));
    n = hp__rate_limit_field(limit, sizeof limit, g->policy_name, decision);
    hp_response_header(req, "RateLimit", 9, limit, (size_t)n); /* fits: the name was checked */
    hp_response_header(req, "Content-Type", 12, "application/json", 16);
    n = snprintf(body, sizeof body, "{\"error\": \"rate limited\", \"retry_after\": %" PRIu64 "}\n",
                 seconds);
    int status = decision->verdict == HP__RATE_TABLE_FULL ? 503 : 429;
    hp_respond_copy(req, status, body, (size_t)n);
}
