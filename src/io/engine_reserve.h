/* The reserve descriptor: what keeps the daemon's admin API reachable when connections use up
 * every file descriptor the process may open. Each worker keeps one descriptor open (of
 * /dev/null); when accepting on a reserved address fails for want of descriptors, it closes
 * that one, accepts, and opens it again as soon as a descriptor is free (accept.c). Connections
 * to other addresses wait in the kernel's backlog meanwhile, accepted again every 100 ms. */
#ifndef HP_IO_ENGINE_RESERVE_H
#define HP_IO_ENGINE_RESERVE_H

#include "hostpool/engine.h"

/* Connections to `address` (socket.h's syntax) may use the reserve. Call before a server binds
 * it (control thread). One address per engine: a later call replaces it. Returns 0 or
 * HP_EADDR. */
int hp__engine_reserve_for(hp_engine *engine, const char *address);

#endif
