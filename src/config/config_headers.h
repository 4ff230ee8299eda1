/* The `headers` key of a server and of a route (docs/CONFIG.md):
 *   headers: { set: {NAME: VALUE, ...}, add: {NAME: VALUE | [VALUE, ...], ...}, remove: [NAME] }
 * Each name and value is checked at its own file:line:column (http/header_rules.h: a header
 * name the engine does not own, a value without control characters; a name set twice or both
 * set and removed). */
#ifndef HP_CONFIG_HEADERS_H
#define HP_CONFIG_HEADERS_H

#include "config/config_check.h"
#include "hostpool/server.h"

/* The rules `map` says, allocated (every string too), or NULL after reporting its errors. */
hp_header_rules *hp__config_read_headers(hp_config_check *c, hp__cfg_node *map);
/* NULL: no-op. */
void hp__config_headers_free(hp_header_rules *rules);

#endif
