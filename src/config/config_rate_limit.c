#include "config/config_rate_limit.h"

#include "common/alloc.h"
#include "core/rate_limit.h"
#include "http/rate_guard.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_PREFIX "header:"

/* `key`: client_ip (key_header stays NULL) or "header:NAME"; false when it is neither. */
static bool read_key(hp_config_check *c, hp__cfg_node *n, hp_rate_limit *limit)
{
    const char *key = hp_config_string(c, n);
    if (!key) return false;
    if (strcmp(key, "client_ip") == 0) return true;
    size_t prefix = sizeof HEADER_PREFIX - 1;
    if (strncmp(key, HEADER_PREFIX, prefix) == 0 && hp__rate_guard_key_header_valid(key + prefix)) {
        limit->key_header = hp__strdup(key + prefix);
        return true;
    }
    hp_config_error(c, n, "expected client_ip or \"header:NAME\" (a header name), got \"%.*s\"",
                    HP_CONFIG_QUOTE_MAX, key);
    return false;
}

hp_rate_limit *hp__config_read_rate_limit(hp_config_check *c, hp__cfg_node *map)
{
    static const char *const keys[] = {"requests", "per", "burst", "key", "block_for", NULL};
    if (!hp_config_expect_mapping(c, map)) return NULL;
    hp_config_keys(c, map, keys);
    hp_rate_limit *limit = HP_NEW(hp_rate_limit);
    bool ok = true;
    uint64_t v;
    hp__cfg_node *n;
    if (!(n = hp__cfg_mapping_get(map, "requests"))) {
        hp_config_error(c, map, "\"requests\" is required");
        ok = false;
    } else if ((ok &= hp__config_amount(c, n, HP__CONFIG_COUNT, 1, HP__RATE_MAX_REQUESTS, &v))) {
        limit->requests = (uint32_t)v;
    }
    if (!(n = hp__cfg_mapping_get(map, "per"))) {
        hp_config_error(c, map, "\"per\" is required");
        ok = false;
    } else {
        ok &=
            hp__config_amount(c, n, HP__CONFIG_DURATION, 1, HP__RATE_MAX_PERIOD_MS, &limit->per_ms);
    }
    if ((n = hp__cfg_mapping_get(map, "burst")) &&
        (ok &= hp__config_amount(c, n, HP__CONFIG_COUNT, 0, HP__RATE_MAX_BURST, &v)))
        limit->burst = (uint32_t)v;
    if ((n = hp__cfg_mapping_get(map, "block_for")))
        ok &= hp__config_amount(c, n, HP__CONFIG_DURATION, 0, HP__RATE_MAX_PERIOD_MS,
                                &limit->block_for_ms);
    if ((n = hp__cfg_mapping_get(map, "key"))) ok &= read_key(c, n, limit);
    if (ok) return limit;
    hp__config_rate_limit_free(limit);
    return NULL;
}

void hp__config_rate_limit_free(hp_rate_limit *limit)
{
    if (!limit) return;
    free((char *)limit->key_header);
    free(limit);
}
