/* The `rate_limit` key of a server and of a route (docs/CONFIG.md, docs/GUARDS.md):
 *   rate_limit: { requests: N, per: DURATION, burst: N, key: client_ip | "header:NAME",
 *                 block_for: DURATION }
 * requests and per are required; burst 0, key client_ip and block_for 0s by default. Each
 * field is checked against the ranges of core/rate_limit.h at its own file:line:column. */
#ifndef HP_CONFIG_RATE_LIMIT_H
#define HP_CONFIG_RATE_LIMIT_H

#include "config/config_check.h"
#include "hostpool/server.h"

/* The limit `map` says, allocated (its key_header too), or NULL after reporting its errors. */
hp_rate_limit *hp__config_read_rate_limit(hp_config_check *c, hp__cfg_node *map);
/* NULL: no-op. */
void hp__config_rate_limit_free(hp_rate_limit *limit);

#endif
