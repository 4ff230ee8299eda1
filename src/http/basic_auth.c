#include "http/basic_auth.h"

#include "common/alloc.h"
#include "common/base64.h"
#include "common/str.h"
#include "core/hash64.h"
#include "core/password.h"
#include "core/users_file.h"
#include "http/exchange.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define CACHE_ENTRIES 32
#define VALUE_MAX 1024      /* the longest Authorization value considered */
#define CACHE_VALUE_MAX 256 /* the longest one kept in the cache */
#define PENDING_MAX 64

/* What a verification on the threadpool holds: it may outlive the gate. */
typedef struct shared {
    _Atomic unsigned refs;
    _Atomic unsigned pending; /* verifications queued or running */
    hp__users *users;
} shared;

typedef struct cache_entry {
    uint64_t hash; /* of the header value; 0: empty */
    size_t len;
    char value[CACHE_VALUE_MAX];
} cache_entry;

/* A worker's credentials verified: made by its worker at its first use, freed with the gate. */
typedef struct worker_cache {
    cache_entry entries[CACHE_ENTRIES];
    unsigned next; /* the entry replaced next (round robin) */
} worker_cache;

struct hp__basic_auth {
    hp_handler gate;
    hp_handler *inner;
    shared *shared;
    hp_basic_auth config; /* realm and users_file, owned */
    char *challenge;      /* the WWW-Authenticate value */
    size_t challenge_len;
    worker_cache *caches[HP_MAX_WORKERS];
};

typedef struct job {
    uv_work_t work;
    shared *shared;
    hp__basic_auth *auth; /* with req: alive while the request is */
    hp_request *req;      /* NULL once the exchange ended without an answer */
    bool ok;
    size_t value_len;
    char value[CACHE_VALUE_MAX]; /* the header value, when short enough to cache */
    size_t user_len;
    char user[HP__USER_NAME_MAX + 1];
    char password[CRYPT_MAX_PASSPHRASE_SIZE];
    struct crypt_data scratch;
} job;

static shared *shared_ref(shared *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

static void shared_unref(shared *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    hp__users_free(s->users);
    free(s);
}

/* ---- the request's credentials ---- */

/* The token68 of `Authorization: Basic TOKEN`, or false. */
static bool basic_token(const hp_str *value, hp_str *token)
{
    if (!value || value->len < 7 || value->len > VALUE_MAX ||
        !hp__mem_ieq(value->base, "basic ", 6))
        return false;
    size_t i = 6;
    while (i < value->len && value->base[i] == ' ') i++;
    *token = hp__str(value->base + i, value->len - i);
    return token->len > 0;
}

/* user:password from the token into the job; false when it is not that. */
static bool read_credentials(job *j, hp_str token)
{
    char decoded[VALUE_MAX]; /* token.len < VALUE_MAX: its bytes take 3/4 of that */
    size_t n = 0;
    bool base64 = hp__base64_decode(token.base, token.len, (unsigned char *)decoded, &n);
    const char *colon = base64 ? memchr(decoded, ':', n) : NULL;
    if (!colon) return false;
    size_t user_len = (size_t)(colon - decoded), pass_len = n - user_len - 1;
    bool fits =
        user_len <= HP__USER_NAME_MAX && pass_len < sizeof j->password && !memchr(decoded, '\0', n);
    if (fits) {
        memcpy(j->user, decoded, user_len);
        j->user_len = user_len;
        memcpy(j->password, colon + 1, pass_len);
        j->password[pass_len] = '\0';
    }
    explicit_bzero(decoded, sizeof decoded);
    return fits;
}

/* ---- the per-worker cache ---- */

static bool cache_has(const worker_cache *c, hp_str value, uint64_t hash)
{
    if (!c) return false;
    for (unsigned i = 0; i < CACHE_ENTRIES; i++) {
        const cache_entry *e = &c->entries[i];
        if (e->hash == hash && e->len == value.len &&
            hp__bytes_equal_ct(e->value, value.base, value.len))
            return true;
    }
    return false;
}

static void cache_put(hp__basic_auth *a, unsigned worker, const char *value, size_t len)
{
    worker_cache *c = a->caches[worker];
    if (!c) c = a->caches[worker] = HP_NEW(worker_cache);
    cache_entry *e = &c->entries[c->next];
    c->next = (c->next + 1) % CACHE_ENTRIES;
    e->hash = hp__hash64(value, len) | 1; /* never 0, the empty entry's */
    e->len = len;
    memcpy(e->value, value, len);
}

/* ---- answers ---- */

static void pass(hp__basic_auth *a, hp_request *req)
{
    hp_handler *inner = a->inner;
    if (inner->stream_request_body)
        inner->vt->on_request(inner, req);
    else
        hp_request_body_read_all(req, hp__exchange_call_handler, inner);
}

static void refuse(hp__basic_auth *a, hp_request *req)
{
    hp_response_header(req, "WWW-Authenticate", 16, a->challenge, a->challenge_len);
    hp_respond_error(req, 401);
}

static void busy(hp_request *req)
{
    hp_response_header(req, "Retry-After", 11, "1", 1);
    hp_respond_error(req, 503);
}

/* ---- verification on the threadpool ---- */

static void verify(uv_work_t *work)
{
    job *j = work->data;
    bool known;
    const char *hash = hp__users_hash(j->shared->users, j->user, j->user_len, &known);
    bool match = hp__password_verify(j->password, hash, &j->scratch);
    j->ok = known && match;
    explicit_bzero(j->password, sizeof j->password);
    explicit_bzero(&j->scratch, sizeof j->scratch);
}

static void verified(uv_work_t *work, int status)
{
    job *j = work->data;
    atomic_fetch_sub_explicit(&j->shared->pending, 1, memory_order_relaxed);
    hp_request *req = j->req;
    if (req) {
        hp_request_on_done(req, NULL, NULL);
        if (j->ok && status == 0) {
            if (j->value_len) cache_put(j->auth, req->worker, j->value, j->value_len);
            pass(j->auth, req);
        } else {
            refuse(j->auth, req);
        }
    }
    shared_unref(j->shared);
    free(j);
}

/* The exchange ended before the verification came back (the client left). */
static void abandoned(hp_request *req, bool ok, void *data)
{
    job *j = data;
    j->req = NULL;
}

static void gate_request(hp_handler *self, hp_request *req)
{
    hp__basic_auth *a = (hp__basic_auth *)self;
    const hp_str *value = hp_request_header(req, "authorization");
    hp_str token;
    if (!basic_token(value, &token)) {
        refuse(a, req);
        return;
    }
    uint64_t hash = hp__hash64(value->base, value->len) | 1;
    if (cache_has(a->caches[req->worker], *value, hash)) {
        pass(a, req);
        return;
    }
    if (atomic_fetch_add_explicit(&a->shared->pending, 1, memory_order_relaxed) >= PENDING_MAX) {
        atomic_fetch_sub_explicit(&a->shared->pending, 1, memory_order_relaxed);
        busy(req);
        return;
    }
    job *j = HP_NEW(job);
    if (!read_credentials(j, token)) {
        atomic_fetch_sub_explicit(&a->shared->pending, 1, memory_order_relaxed);
        free(j);
        refuse(a, req);
        return;
    }
    j->shared = shared_ref(a->shared);
    j->auth = a;
    j->req = req;
    if (value->len <= CACHE_VALUE_MAX) {
        memcpy(j->value, value->base, value->len);
        j->value_len = value->len;
    }
    j->work.data = j;
    hp_request_on_done(req, abandoned, j);
    if (uv_queue_work(hp_worker_loop(hp_request_worker(req)), &j->work, verify, verified) != 0) {
        hp_request_on_done(req, NULL, NULL);
        atomic_fetch_sub_explicit(&a->shared->pending, 1, memory_order_relaxed);
        shared_unref(j->shared);
        explicit_bzero(j->password, sizeof j->password);
        free(j);
        busy(req);
    }
}

static const hp_handler_vtable gate_vtable = {
    .name = "basic_auth",
    .on_request = gate_request,
};

/* ---- the gate's life ---- */

const char *hp__basic_auth_realm_problem(const char *realm)
{
    size_t len = realm ? strlen(realm) : 0;
    if (len == 0 || len > HP__BASIC_AUTH_REALM_MAX) return "a realm is 1 to 200 characters";
    for (size_t i = 0; i < len; i++)
        if (realm[i] < 0x20 || realm[i] > 0x7e || realm[i] == '"' || realm[i] == '\\')
            return "a realm is printable ASCII without '\"' or '\\'";
    return NULL;
}

typedef struct load_errors {
    const char *path;
    char *buf;
    size_t len, used;
} load_errors;

static void load_error(void *data, int line, const char *message)
{
    load_errors *e = data;
    if (!e->buf || e->used + 1 >= e->len) return;
    int n = line ? snprintf(e->buf + e->used, e->len - e->used, "%s%s:%d: %s", e->used ? "; " : "",
                            e->path, line, message)
                 : snprintf(e->buf + e->used, e->len - e->used, "%s%s: %s", e->used ? "; " : "",
                            e->path, message);
    e->used += (size_t)n;
    if (e->used >= e->len) e->used = e->len - 1;
}

hp__basic_auth *hp__basic_auth_create(const hp_basic_auth *config, hp_handler *inner, char *errbuf,
                                      size_t len)
{
    load_errors errors = {.path = config->users_file, .buf = len ? errbuf : NULL, .len = len};
    if (errors.buf) errbuf[0] = '\0';
    hp__users *users = hp__users_load(config->users_file, load_error, &errors);
    if (!users) return NULL;
    hp__basic_auth *a = HP_NEW(hp__basic_auth);
    a->gate = (hp_handler){.vt = &gate_vtable, .stream_request_body = true};
    a->inner = inner;
    a->shared = HP_NEW(shared);
    atomic_init(&a->shared->refs, 1);
    a->shared->users = users;
    a->config.realm = hp__strdup(config->realm);
    a->config.users_file = hp__strdup(config->users_file);
    a->challenge_len = strlen(config->realm) + sizeof "Basic realm=\"\", charset=\"UTF-8\"" - 1;
    a->challenge = hp__malloc(a->challenge_len + 1);
    snprintf(a->challenge, a->challenge_len + 1, "Basic realm=\"%s\", charset=\"UTF-8\"",
             config->realm);
    return a;
}

void hp__basic_auth_destroy(hp__basic_auth *a)
{
    if (!a) return;
    for (unsigned i = 0; i < HP_MAX_WORKERS; i++) free(a->caches[i]);
    shared_unref(a->shared);
    free(a->challenge);
    free((char *)a->config.realm);
    free((char *)a->config.users_file);
    free(a);
}

hp_handler *hp__basic_auth_gate(hp__basic_auth *a)
{
    return &a->gate;
}

const hp_basic_auth *hp__basic_auth_config(const hp__basic_auth *a)
{
    return &a->config;
}
