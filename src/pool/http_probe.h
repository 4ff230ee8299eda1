/* The HTTP health probe of an upstream's target, on the control loop (the checker's probe:
 * src/core/health_checker.h).
 *
 * One check: connect to the target (TCP or a unix socket), send
 *
 *     GET <path> HTTP/1.1
 *     Host: <the target's address as written; "localhost" for a unix socket>
 *     Connection: close
 *     User-Agent: hostpool-health
 *
 * and read the response head with the proxy's strict parser (src/http/upstream_response.h):
 * OK iff it is a well-formed head whose status equals `expect` (a status, 100-599), or is of
 * its class when `expect` is a class (1-5: HP__HTTP_PROBE_ANY_2XX is any 2xx). The body is never
 * read: the answer comes with the head, and the connection is closed (with a reset on TCP, as the
 * TCP probe does, so checks every 2 s leave no TIME_WAIT behind). A refused connect, a reset, a
 * malformed head, a close before the head or a head over HP__HTTP_PROBE_HEAD_LIMIT bytes is a
 * failure. The check's timeout is the checker's: a target that accepts and stays silent is
 * cancelled by it.
 *
 * A cancelled probe (the checker's timeout or stop) closes its socket at once and reports
 * nothing. A probe allocates its connection and its head buffer (the limit) for the length
 * of one check, freed after the handle's close callback: checks are not the request path.
 *
 * Threading: the control loop's thread (the one that drives the checker's scheduler). */
#ifndef HP_POOL_HTTP_PROBE_H
#define HP_POOL_HTTP_PROBE_H

#include "core/health_checker.h"

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/* The longest response head a probe reads (interim heads included); as the proxy's. */
#define HP__HTTP_PROBE_HEAD_LIMIT (16u << 10)

/* An `expect` that is a status class: any 2xx (a supervised program's ready_path). */
#define HP__HTTP_PROBE_ANY_2XX 2

/* What the probe needs of a target; the checker's `target`. Caller-owned. */
typedef struct hp__http_probe_target {
    uv_loop_t *loop;
    struct sockaddr_storage addr;
    char *request; /* the request's bytes (owned) */
    size_t request_len;
    int expect;                       /* the status a healthy target answers, or its class */
    struct hp__http_probe *in_flight; /* the probe not yet answered, if any */
} hp__http_probe_target;

/* Prepares `t` to check the target at `addr` (written as `address`) with GET `path`,
 * healthy when it answers `expect`. Close it after its checker stopped. */
void hp__http_probe_target_init(hp__http_probe_target *t, uv_loop_t *loop,
                                const struct sockaddr_storage *addr, const char *address,
                                const char *path, int expect);
void hp__http_probe_target_close(hp__http_probe_target *t);

extern const hp__health_probe_ops hp__http_probe_ops;

#endif
