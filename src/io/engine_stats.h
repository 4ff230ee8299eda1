/* What the engine tells the metrics about the servers it runs (control thread only). */
#ifndef HP_IO_ENGINE_STATS_H
#define HP_IO_ENGINE_STATS_H

#include "hostpool/engine.h"

#include <stdint.h>

/* The connections open (and, of them, idle: no request in progress) on the addresses where
 * `server` is the head server (vhosts.h: the default server, else the first started), summed
 * over the workers. A connection belongs to its address, not to a server, until a request is
 * routed, and each of its requests may go to another server: so it counts for the server whose
 * limits govern it, as nginx counts connections per server block of the default server. Zero
 * for addresses the server shares without being their head, and while it is stopped. */
void hp__engine_server_connections(const hp_engine *engine, const hp_server *server, uint64_t *open,
                                   uint64_t *idle);

#endif
