/* An upstream's settings (upstream_model.h): the defaults, the copy, and the model back in
 * the config's own syntax. Reading a model from a config is upstream_model_read.c.
 *
 * hp__upstream_model_to_json() writes every key, defaults included, so what GET
 * /upstreams/{name} shows is the whole model, and PUT of that JSON reads back into an equal
 * model (test_upstream_config: the round trip). Two keys are written only when they mean
 * something: `hash_key` with balance hash (the reader refuses it otherwise), and `health` /
 * `breaker` when they were given (their absence is what turns them off). */
#include "upstream/upstream_model.h"

#include "common/alloc.h"
#include "common/units.h"

#include <stdlib.h>
#include <string.h>

#define HEALTH_DEFAULT_PATH "/health"

void hp__upstream_model_init(hp__upstream_model *m)
{
    *m = (hp__upstream_model){
        .balance = HP__BALANCE_ROUND_ROBIN,
        .keepalive = 32,
        .max_requests = 1000,
        .acquire_timeout_ms = 5000,
        .connect_timeout_ms = 5000,
        .first_byte_timeout_ms = 60000,
        .idle_timeout_ms = 60000,
        .retries = 1,
        .health =
            {
                .path = hp__strdup(HEALTH_DEFAULT_PATH),
                .interval_ms = 2000,
                .timeout_ms = 1000,
                .expect = 200,
                .rise = 2,
                .fall = 3,
            },
    };
    hp__passive_config_default(&m->passive);
    hp__breaker_config_default(&m->breaker);
}

void hp__upstream_model_close(hp__upstream_model *m)
{
    free(m->name);
    for (size_t i = 0; i < m->target_count; i++) free(m->targets[i].address);
    free(m->targets);
    free(m->hash_header);
    free(m->health.path);
    *m = (hp__upstream_model){0};
}

static char *dup_or_null(const char *s)
{
    return s ? hp__strdup(s) : NULL;
}

void hp__upstream_model_copy(hp__upstream_model *to, const hp__upstream_model *from)
{
    *to = *from;
    to->name = dup_or_null(from->name);
    to->hash_header = dup_or_null(from->hash_header);
    to->health.path = dup_or_null(from->health.path);
    to->targets = hp__calloc(from->target_count ? from->target_count : 1, sizeof *to->targets);
    for (size_t i = 0; i < from->target_count; i++) {
        to->targets[i] = from->targets[i];
        to->targets[i].address = hp__strdup(from->targets[i].address);
    }
}

/* ---- back to JSON ---------------------------------------------------------------------------- */

static json_t *duration_json(uint64_t ms)
{
    char text[32];
    hp__format_duration_ms(ms, text, sizeof text);
    return json_string(text);
}

static json_t *targets_json(const hp__upstream_model *m)
{
    json_t *list = json_array();
    for (size_t i = 0; i < m->target_count; i++) {
        const hp__upstream_target_model *t = &m->targets[i];
        if (t->weight == 1)
            json_array_append_new(list, json_string(t->address));
        else
            json_array_append_new(list, json_pack("{s:s, s:I}", "address", t->address, "weight",
                                                  (json_int_t)t->weight));
    }
    return list;
}

static json_t *hash_key_json(const hp__upstream_model *m)
{
    if (!m->hash_header) return json_string("client_ip");
    size_t len = strlen(m->hash_header);
    char *text = hp__malloc(len + sizeof "header:");
    memcpy(text, "header:", 7);
    memcpy(text + 7, m->hash_header, len + 1);
    json_t *out = json_string(text);
    free(text);
    return out;
}

static json_t *health_json(const hp__upstream_health_model *h)
{
    return json_pack("{s:s, s:o, s:o, s:I, s:I, s:I}", "path", h->path, "interval",
                     duration_json(h->interval_ms), "timeout", duration_json(h->timeout_ms),
                     "expect", (json_int_t)h->expect, "rise", (json_int_t)h->rise, "fall",
                     (json_int_t)h->fall);
}

static json_t *breaker_json(const hp__breaker_config *b)
{
    return json_pack("{s:I, s:f, s:I, s:o, s:o, s:I}", "failures", (json_int_t)b->failures,
                     "error_ratio", b->error_ratio_ppm / 1e6, "min_requests",
                     (json_int_t)b->min_requests, "window", duration_json(b->window_ms), "open_for",
                     duration_json(b->open_for_ms), "trials", (json_int_t)b->trials);
}

json_t *hp__upstream_model_to_json(const hp__upstream_model *m)
{
    json_t *out = json_object();
    if (m->name) json_object_set_new(out, "name", json_string(m->name));
    json_object_set_new(out, "targets", targets_json(m));
    json_object_set_new(out, "balance", json_string(hp__balance_kind_name(m->balance)));
    if (m->balance == HP__BALANCE_HASH) json_object_set_new(out, "hash_key", hash_key_json(m));
    json_object_set_new(out, "keepalive", json_integer(m->keepalive));
    json_object_set_new(out, "max_connections", json_integer(m->max_connections));
    json_object_set_new(out, "max_requests", json_integer(m->max_requests));
    json_object_set_new(out, "acquire_timeout", duration_json(m->acquire_timeout_ms));
    json_object_set_new(out, "connect_timeout", duration_json(m->connect_timeout_ms));
    json_object_set_new(out, "first_byte_timeout", duration_json(m->first_byte_timeout_ms));
    json_object_set_new(out, "idle_timeout", duration_json(m->idle_timeout_ms));
    json_object_set_new(out, "retries", json_integer(m->retries));
    json_object_set_new(out, "max_pending", json_integer(m->max_pending));
    json_object_set_new(out, "max_in_flight", json_integer(m->max_in_flight));
    if (m->health.enabled) json_object_set_new(out, "health", health_json(&m->health));
    json_object_set_new(out, "passive",
                        json_pack("{s:I, s:o}", "max_fails", (json_int_t)m->passive.max_fails,
                                  "fail_timeout", duration_json(m->passive.fail_timeout_ms)));
    if (m->breaker_enabled) json_object_set_new(out, "breaker", breaker_json(&m->breaker));
    return out;
}
