/* A server's config rebuilt from the server, for a pool's clone and merge.
 *
 * The copy is the config as it was written: an address the pool gave an automatic port comes
 * back as "HOST:auto", so the pool that receives the copy takes a port of its own range. Every
 * route handler is a clone (hp_handler_clone), never the original: two pools run on
 * different workers, and a handler's per-worker state is indexed by worker number.
 *
 * Ownership: the copy owns its strings and, until `handed_over` is set (after the receiving
 * pool accepted the config, which then owns the handlers), its handler clones. */
#ifndef HP_POOL_SERVER_COPY_H
#define HP_POOL_SERVER_COPY_H

#include "hostpool/process.h"
#include "hostpool/server.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp__server_copy {
    hp_server_config config; /* points into the arrays below */
    char **listen;
    hp_route_config *routes;
    const char ***methods; /* per route: method names (llhttp's, static) or NULL */
    bool handed_over;
} hp__server_copy;

/* Copies `server`, borrowing its strings (use the copy while the server exists);
 * `auto_ports[i]` is nonzero where address i was "auto". A fallback equal to
 * `pool_default` is left out (the receiving pool puts in its own). A process server's copy
 * (`process`, borrowed, not NULL) has that process and no route: its gate is the pool's, and
 * the receiving pool makes its own. HP_EINVAL with `errbuf` set when a handler cannot be
 * cloned; nothing is left to free then. */
int hp__server_copy_init(hp__server_copy *copy, const hp_server *server, const int *auto_ports,
                         const hp_handler *pool_default, const hp_process_config *process,
                         char *errbuf, size_t errbuf_len);
void hp__server_copy_fini(hp__server_copy *copy);

#endif
