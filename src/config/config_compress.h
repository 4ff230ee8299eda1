/* The `compress` key of a server and of a route (docs/CONFIG.md, docs/HTTP.md):
 *   compress: true | false | { types: [MEDIA TYPE...], min_bytes: SIZE, level: 1..9 }
 * true and {} are the defaults (hostpool/server.h HP_COMPRESS_DEFAULT_*); false on a server is
 * no compression (as leaving the key out), on a route is none though its server compresses.
 * Each field is checked at its own file:line:column. */
#ifndef HP_CONFIG_COMPRESS_H
#define HP_CONFIG_COMPRESS_H

#include "config/config_check.h"
#include "hostpool/server.h"

/* What `n` says, allocated (its types too), or NULL: `false` on a server, or after reporting
 * its errors. */
hp_compress_config *hp__config_read_compress(hp_config_check *c, hp__cfg_node *n, bool route);
/* NULL: no-op. */
void hp__config_compress_free(hp_compress_config *config);

#endif
