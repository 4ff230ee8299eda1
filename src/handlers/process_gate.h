/* The handler in front of a supervised process (hostpool/process.h): a process server's one
 * route, made by the pool with the server's supervisor (pool/supervisor.h). */
#ifndef HP_HANDLERS_PROCESS_GATE_H
#define HP_HANDLERS_PROCESS_GATE_H

#include "hostpool/handler.h"
#include "pool/supervisor.h"

#include <stdint.h>

/* A gate for `server` (its name, copied, for the error bodies) in front of `supervisor`'s
 * program on 127.0.0.1:port. `supervisor` is borrowed: it must outlive the handler (the pool
 * destroys it after the server that holds the gate). The handler cannot be cloned. */
hp_handler *hp__process_gate_create(hp__supervisor *supervisor, const char *server, uint16_t port);

#endif
