/* An upstream's settings (upstream_model.h): defaults, copy, free. */
#include "upstream/upstream_model.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

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
        .health = {.interval_ms = 2000, .timeout_ms = 1000, .expect = 200, .rise = 2, .fall = 3},
    };
    hp__passive_config_default(&m->passive);
    hp__breaker_config_default(&m->breaker);
}

void hp__upstream_model_close(hp__upstream_model *m)
{
    for (size_t i = 0; i < m->target_count; i++) free(m->targets[i].address);
    free(m->targets);
    free(m->name);
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
