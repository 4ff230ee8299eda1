/* Health checks of pool servers on the control loop.
 *
 * hp__uv_sched drives a core scheduler (src/core/sched.h) from one libuv timer: the timer is
 * re-armed for the scheduler's earliest timer whenever that changes. hp__tcp_probe_ops is the
 * probe a health checker (src/core/health_checker.h) calls for a server: a TCP connect to its
 * first bound address; success when the connection is accepted. A probe cancelled by the
 * checker (timeout, stop) closes its socket and reports nothing. */
#ifndef HP_POOL_HEALTH_PROBE_H
#define HP_POOL_HEALTH_PROBE_H

#include "core/health_checker.h"
#include "core/sched.h"
#include "hostpool/server.h"

#include <uv.h>

typedef struct hp__uv_sched {
    hp__sched sched;
    uv_timer_t timer;
} hp__uv_sched;

void hp__uv_sched_init(hp__uv_sched *s, uv_loop_t *loop);
/* Closes the timer; `s` must stay valid until the loop ran the close (free it after). */
void hp__uv_sched_close(hp__uv_sched *s, uv_close_cb on_closed);

/* What the probe needs of a server; the checker's `target`. */
typedef struct hp__probe_target {
    uv_loop_t *loop;
    const hp_server *server;
    struct hp__tcp_probe *in_flight; /* the probe not yet answered, if any */
} hp__probe_target;

extern const hp__health_probe_ops hp__tcp_probe_ops;

#endif
