/* Reading an upstream's settings and targets from a config document (upstream_model.h), for
 * the three places that write them: an entry of `upstreams`, a proxy route's inline `to`, and
 * the body of PUT /upstreams/{name}.
 *
 * The reads are the config's own (config/config_check.h), so every problem is reported as the
 * rest of the config reports it (file:line:column: path: message), all of them, never only
 * the first, and each scalar is marked with what it was read as: the running config holds
 * the checked form. Each value is bounded by what the field (and the arithmetic the running
 * upstream does on it) holds: timeouts by HP_LIMIT_MAX_TIMEOUT_MS like every timeout, counts
 * by their uint32_t fields.
 *
 * What is checked across keys: hash_key needs balance: hash; health.timeout is at most
 * health.interval; passive.fail_timeout is > 0 while max_fails is (hp__passive_config_check);
 * breaker.window is a multiple of its buckets (hp__breaker_config_check). A target appears
 * once (its address as hp__socket_address_equal compares them): a weight says "more". */
#include "upstream/upstream_model.h"

#include "common/alloc.h"
#include "common/units.h"
#include "config/config_check.h"
#include "hostpool/server.h"
#include "http/field_syntax.h"
#include "io/socket.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEEPALIVE 100000
#define MAX_COUNT 1000000000  /* max_requests, passive and breaker counts: fits a uint32_t */
#define HEALTH_MAX_COUNT 1000 /* rise and fall, as the pool's own health checks */
#define PPM 1000000

const char *const HP__UPSTREAM_SETTING_KEYS[HP__UPSTREAM_SETTING_KEY_COUNT + 1] = {
    "balance",      "hash_key",        "keepalive",       "max_connections",
    "max_requests", "acquire_timeout", "connect_timeout", "first_byte_timeout",
    "idle_timeout", "retries",         "max_pending",     "max_in_flight",
    "health",       "passive",         "breaker",         NULL,
};

typedef hp_config_check checker;

/* ---- values ---------------------------------------------------------------------------------- */

static bool read_u32(checker *c, hp_config_node *n, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!hp__config_amount(c, n, HP__CONFIG_COUNT, min, max, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

/* A duration in [min (0 or 1), 24h] in milliseconds. */
static bool read_ms(checker *c, hp_config_node *n, uint64_t min, uint64_t *out)
{
    return hp__config_amount(c, n, HP__CONFIG_DURATION, min, HP_LIMIT_MAX_TIMEOUT_MS, out);
}

static bool read_ms32(checker *c, hp_config_node *n, uint64_t min, uint32_t *out)
{
    uint64_t v;
    if (!read_ms(c, n, min, &v)) return false;
    *out = (uint32_t)v; /* at most a day */
    return true;
}

/* A number from 0 to 1 written plain (0.5, 1, 0.05, 5e-1), in parts per million, rounded. */
static bool read_ratio_ppm(checker *c, hp_config_node *n, uint32_t *out)
{
    char buf[HP_CONFIG_QUOTE_MAX + 8];
    double v = -1;
    if (!hp__config_plain_number(n, &v) || !(v >= 0 && v <= 1)) {
        hp_config_error(c, n, "expected a number from 0 to 1 (0.5), got %s",
                        hp__config_describe(n, buf, sizeof buf));
        return false;
    }
    hp__config_read_as(n, HP__CFG_READ_REAL);
    *out = (uint32_t)lround(v * PPM);
    return true;
}

/* One of `words` (NULL-terminated): its index, or -1 after reporting the choice. */
static int read_word(checker *c, hp_config_node *n, const char *const *words, const char *choice)
{
    const char *text = hp_config_string(c, n);
    if (!text) return -1;
    for (int i = 0; words[i]; i++)
        if (strcmp(text, words[i]) == 0) return i;
    hp_config_error(c, n, "expected %s, got \"%.*s\"", choice, HP_CONFIG_QUOTE_MAX, text);
    return -1;
}

/* ---- targets --------------------------------------------------------------------------------- */

/* An address a proxy can connect to: a unix socket, or a host and a port that is not 0. */
static bool read_address(checker *c, hp_config_node *n, hp__upstream_target_model *t)
{
    const char *text = hp_config_string(c, n);
    char why[128];
    if (!text) return false;
    if (hp__socket_check_address(text, &t->addr, why, sizeof why) != 0) {
        hp_config_error(c, n, "%s", why);
        return false;
    }
    if (t->addr.ss_family != AF_UNIX &&
        (hp__socket_address_port(&t->addr) == 0 || hp__socket_address_is_wildcard(&t->addr))) {
        hp_config_error(c, n, "a target needs a host and a port");
        return false;
    }
    t->address = hp__strdup(text);
    return true;
}

/* "ADDRESS" or { address: ADDRESS, weight: N }. */
static bool read_target(checker *c, hp_config_node *item, hp__upstream_target_model *t)
{
    static const char *const keys[] = {"address", "weight", NULL};
    t->weight = 1;
    if (hp_config_text(item)) return read_address(c, item, t);
    if (!hp_config_expect_mapping(c, item)) return false;
    hp_config_keys(c, item, keys);
    hp_config_node *n;
    bool weight_ok = true;
    if ((n = hp_config_get(item, "weight")))
        weight_ok = read_u32(c, n, 1, HP__BALANCE_MAX_WEIGHT, &t->weight);
    if (!(n = hp_config_get(item, "address"))) {
        hp_config_error(c, item, "\"address\" is required");
        return false;
    }
    if (!read_address(c, n, t)) return false;
    if (weight_ok) return true;
    free(t->address);
    t->address = NULL;
    return false;
}

/* Has an earlier target the same address? */
static bool listed_before(const hp__upstream_model *m, const hp__upstream_target_model *t)
{
    for (size_t i = 0; i < m->target_count; i++)
        if (hp__socket_address_equal(&m->targets[i].addr, &t->addr)) return true;
    return false;
}

void hp__upstream_targets_read(checker *c, hp_config_node *list, hp__upstream_model *m)
{
    size_t count = hp_config_text(list) ? 1 : hp_config_count(list);
    if (count == 0 || count > HP__UPSTREAM_MAX_TARGETS || hp__cfg_is_null(list) ||
        hp_config_key_at(list, 0)) { /* a mapping */
        hp_config_error(c, list, "expected a list of 1 to %d addresses", HP__UPSTREAM_MAX_TARGETS);
        return;
    }
    m->targets = hp__calloc(count, sizeof *m->targets);
    for (size_t i = 0; i < count; i++) {
        hp_config_node *item = hp_config_text(list) ? list : hp_config_item(list, i);
        hp__upstream_target_model *t = &m->targets[m->target_count];
        if (!read_target(c, item, t)) continue;
        if (listed_before(m, t)) {
            hp_config_error(c, item, "\"%s\" is listed twice (a weight gives a target more)",
                            t->address);
            free(t->address);
            *t = (hp__upstream_target_model){0};
            continue;
        }
        m->target_count++;
    }
}

/* ---- blocks ---------------------------------------------------------------------------------- */

/* "client_ip" or "header:NAME" with NAME a field name. */
static void read_hash_key(checker *c, hp_config_node *n, hp__upstream_model *m)
{
    const char *text = hp_config_string(c, n);
    if (!text || strcmp(text, "client_ip") == 0) return;
    size_t len = strlen(text);
    if (strncmp(text, "header:", 7) == 0 && len > 7 &&
        hp__token_length(text + 7, len - 7) == len - 7) {
        m->hash_header = hp__strdup(text + 7);
        return;
    }
    hp_config_error(c, n,
                    "expected client_ip or \"header:NAME\" (a header field name), got \"%.*s\"",
                    HP_CONFIG_QUOTE_MAX, text);
}

/* An origin-form target: "/" then visible ASCII, no '#' (it goes into a request line). */
static bool health_path_valid(const char *path)
{
    if (path[0] != '/') return false;
    for (const char *p = path; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '#') return false;
    return true;
}

static void read_health(checker *c, hp_config_node *map, hp__upstream_health_model *h)
{
    static const char *const keys[] = {"path", "interval", "timeout", "expect",
                                       "rise", "fall",     NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    h->enabled = true;
    hp_config_node *n, *interval = hp_config_get(map, "interval"),
                       *timeout = hp_config_get(map, "timeout");
    const char *path;
    if ((n = hp_config_get(map, "path")) && (path = hp_config_string(c, n))) {
        if (!health_path_valid(path)) {
            hp_config_error(c, n,
                            "expected a path starting with \"/\" (no space, control character or "
                            "#), got \"%.*s\"",
                            HP_CONFIG_QUOTE_MAX, path);
        } else {
            free(h->path);
            h->path = hp__strdup(path);
        }
    }
    bool interval_read = !interval || read_ms32(c, interval, 1, &h->interval_ms);
    bool timeout_read = !timeout || read_ms32(c, timeout, 1, &h->timeout_ms);
    if ((n = hp_config_get(map, "expect"))) read_u32(c, n, 100, 599, &h->expect);
    if ((n = hp_config_get(map, "rise"))) read_u32(c, n, 1, HEALTH_MAX_COUNT, &h->rise);
    if ((n = hp_config_get(map, "fall"))) read_u32(c, n, 1, HEALTH_MAX_COUNT, &h->fall);
    if (interval_read && timeout_read && h->timeout_ms > h->interval_ms) {
        char interval_text[32], timeout_text[32];
        hp__format_duration_ms(h->interval_ms, interval_text, sizeof interval_text);
        hp__format_duration_ms(h->timeout_ms, timeout_text, sizeof timeout_text);
        hp_config_error(c, timeout ? timeout : interval,
                        "timeout (%s) must not be longer than interval (%s)", timeout_text,
                        interval_text);
    }
}

static void read_passive(checker *c, hp_config_node *map, hp__passive_config *p)
{
    static const char *const keys[] = {"max_fails", "fail_timeout", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp_config_node *n, *fail_timeout = hp_config_get(map, "fail_timeout");
    bool read = true;
    if ((n = hp_config_get(map, "max_fails"))) read = read_u32(c, n, 0, MAX_COUNT, &p->max_fails);
    if (fail_timeout) read = read_ms32(c, fail_timeout, 0, &p->fail_timeout_ms) && read;
    if (read && fail_timeout && hp__passive_config_check(p) != 0)
        hp_config_error(c, fail_timeout, "must be greater than 0 while max_fails is not 0");
}

static void read_breaker(checker *c, hp_config_node *map, hp__breaker_config *b)
{
    static const char *const keys[] = {
        "failures", "error_ratio", "min_requests", "window", "open_for", "trials", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp_config_node *n, *window = hp_config_get(map, "window");
    if ((n = hp_config_get(map, "failures"))) read_u32(c, n, 0, MAX_COUNT, &b->failures);
    if ((n = hp_config_get(map, "error_ratio"))) read_ratio_ppm(c, n, &b->error_ratio_ppm);
    if ((n = hp_config_get(map, "min_requests"))) read_u32(c, n, 0, MAX_COUNT, &b->min_requests);
    if ((n = hp_config_get(map, "open_for"))) read_ms32(c, n, 1, &b->open_for_ms);
    if ((n = hp_config_get(map, "trials"))) read_u32(c, n, 1, MAX_COUNT, &b->trials);
    if (window && read_ms32(c, window, 1, &b->window_ms) && hp__breaker_config_check(b) != 0)
        hp_config_error(c, window, "must be a multiple of %dms (it slides by tenths)",
                        HP__BREAKER_BUCKETS);
}

/* ---- the settings ---------------------------------------------------------------------------- */

static void read_timeouts(checker *c, hp_config_node *map, hp__upstream_model *m)
{
    hp_config_node *n;
    if ((n = hp_config_get(map, "acquire_timeout"))) read_ms(c, n, 1, &m->acquire_timeout_ms);
    if ((n = hp_config_get(map, "connect_timeout"))) read_ms(c, n, 1, &m->connect_timeout_ms);
    if ((n = hp_config_get(map, "first_byte_timeout"))) read_ms(c, n, 1, &m->first_byte_timeout_ms);
    if ((n = hp_config_get(map, "idle_timeout"))) read_ms(c, n, 1, &m->idle_timeout_ms);
}

static void read_caps(checker *c, hp_config_node *map, hp__upstream_model *m)
{
    hp_config_node *n;
    if ((n = hp_config_get(map, "keepalive"))) read_u32(c, n, 0, MAX_KEEPALIVE, &m->keepalive);
    if ((n = hp_config_get(map, "max_connections")))
        read_u32(c, n, 0, HP_LIMIT_MAX_CONNECTIONS, &m->max_connections);
    if ((n = hp_config_get(map, "max_requests"))) read_u32(c, n, 0, MAX_COUNT, &m->max_requests);
    if ((n = hp_config_get(map, "retries")))
        read_u32(c, n, 0, HP__UPSTREAM_MAX_TARGETS - 1, &m->retries);
    if ((n = hp_config_get(map, "max_pending")))
        read_u32(c, n, 0, HP_LIMIT_MAX_CONNECTIONS, &m->max_pending);
    if ((n = hp_config_get(map, "max_in_flight")))
        read_u32(c, n, 0, HP_LIMIT_MAX_CONNECTIONS, &m->max_in_flight);
}

void hp__upstream_model_read(checker *c, hp_config_node *map, hp__upstream_model *m)
{
    static const char *const balances[] = {"round_robin", "least_conn", "hash", NULL};
    _Static_assert(HP__BALANCE_ROUND_ROBIN == 0 && HP__BALANCE_LEAST_CONN == 1 &&
                       HP__BALANCE_HASH == 2,
                   "balances[] is in the order of hp__balance_kind");
    hp_config_node *n, *hash_key = hp_config_get(map, "hash_key");
    int balance = 0;
    if ((n = hp_config_get(map, "balance")) &&
        (balance = read_word(c, n, balances, "round_robin, least_conn or hash")) >= 0)
        m->balance = (hp__balance_kind)balance;
    if (hash_key && balance >= 0 && m->balance != HP__BALANCE_HASH)
        hp_config_error(c, hash_key, "hash_key needs balance: hash");
    else if (hash_key)
        read_hash_key(c, hash_key, m);
    read_caps(c, map, m);
    read_timeouts(c, map, m);
    if ((n = hp_config_get(map, "health"))) read_health(c, n, &m->health);
    if ((n = hp_config_get(map, "passive"))) read_passive(c, n, &m->passive);
    if ((n = hp_config_get(map, "breaker"))) {
        m->breaker_enabled = true;
        read_breaker(c, n, &m->breaker);
    }
}
