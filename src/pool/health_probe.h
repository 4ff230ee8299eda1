/* Health checks of pool servers on the control loop, timed by the scheduler that
 * io/uv_sched.h drives there.
 *
 * hp__tcp_probe_ops is the probe a health checker (src/core/health_checker.h) calls for a
 * server, a TCP connect to its first bound address, or for a fixed address (a supervised
 * program's port: its readiness, and the health of its process server); success when the
 * connection is accepted. A probe cancelled by the checker (timeout, stop) closes its socket
 * and reports nothing. */
#ifndef HP_POOL_HEALTH_PROBE_H
#define HP_POOL_HEALTH_PROBE_H

#include "core/health_checker.h"
#include "hostpool/engine.h"
#include "io/uv_sched.h"

#include <uv.h>

/* What the probe needs; the checker's `target`. Caller-owned: it must outlive the checker's
 * last probe call (stop the checker first). */
typedef struct hp__probe_target {
    uv_loop_t *loop;
    const hp_engine *engine; /* the one running the server: it knows the bound port */
    const hp_server *server; /* NULL: connect to `addr` */
    struct sockaddr_storage addr;
    struct hp__tcp_probe *in_flight; /* the probe not yet answered, if any */
} hp__probe_target;

extern const hp__health_probe_ops hp__tcp_probe_ops;

#endif
