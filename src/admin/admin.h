/* The admin API: JSON over HTTP on the admin listener, a server of the pool whose one route
 * is this handler. See docs/ADMIN.md for every endpoint.
 *
 * The handler runs on the workers; each request becomes a job for the control thread, which
 * owns the pool (handlers/control_job.h). Requests without the right bearer token get 401 on the
 * worker, without reaching the control thread. */
#ifndef HP_ADMIN_ADMIN_H
#define HP_ADMIN_ADMIN_H

#include "admin/live_config.h"
#include "hostpool/handler.h"
#include "hostpool/pool.h"

typedef struct hp__admin_options {
    hp_pool *pool;         /* borrowed; outlives the handler */
    const char *self_name; /* the admin server's own name: the API cannot stop or change it */
    const char *token;     /* NULL: no token (a unix socket, guarded by its mode) */
    hp__live_config *live; /* borrowed; outlives the handler: /config, /reload, new servers */
} hp__admin_options;

/* Call on the pool's control thread; strings are copied. Cannot be cloned. */
hp_handler *hp__admin_handler_create(const hp__admin_options *options);

#endif
