/* The TCP readiness probe of a supervised program (pool/supervisor.h): a connect to a fixed
 * address, healthy when the connection is accepted. It is a health checker's probe
 * (core/health_checker.h); the supervisor's checker calls it every 100 ms while the program
 * boots.
 *
 * A connected probe ends with a reset (no TIME_WAIT left behind, as the pool's TCP probe,
 * pool/health_probe.h). A probe cancelled by the checker (timeout, stop) reports nothing; its
 * socket is closed at once. One probe allocates its socket for the length of one check, freed
 * in the handle's close callback.
 *
 * Threading: the control loop's thread (the one that drives the checker's scheduler). */
#ifndef HP_POOL_PORT_PROBE_H
#define HP_POOL_PORT_PROBE_H

#include "core/health_checker.h"

#include <sys/socket.h>
#include <uv.h>

/* What the probe needs; the checker's `target`. Caller-owned; it must outlive the checker's
 * last probe call (stop the checker first: that cancels the probe in flight). */
typedef struct hp__port_probe_target {
    uv_loop_t *loop;
    struct sockaddr_storage addr;
    struct hp__port_probe *in_flight; /* the probe not yet answered, if any */
} hp__port_probe_target;

extern const hp__health_probe_ops hp__port_probe_ops;

#endif
