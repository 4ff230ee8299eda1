/* websocket: the handler of include/hostpool/websocket.h. It checks the handshake and hands
 * the connection to ws/ws_conn.c; what it keeps per worker (the wslay frame context, the
 * connections, the end-of-iteration flush) is ws/ws_worker.c's, made and closed by the worker
 * hooks. One handler serves every worker: the config is read-only once created. */
#include "handlers/websocket.h"

#include "common/alloc.h"
#include "hostpool/errors.h"
#include "ws/hub.h"
#include "ws/ws_topics.h"
#include "ws/ws_worker.h"

#include <stdlib.h>

typedef struct ws_handler {
    hp_handler base;
    hp__ws_config config;
} ws_handler;

static void on_request(hp_handler *self, hp_request *req)
{
    ws_handler *h = (ws_handler *)self;
    hp__ws_worker *w = hp_worker_data(hp_request_worker(req), self);
    if (!w) { /* no worker runs it (a session driven over memory): no loop to write from */
        hp_respond_error(req, 503);
        return;
    }
    hp__ws_accept(&h->config, w, req);
}

static void destroy(hp_handler *self)
{
    ws_handler *h = (ws_handler *)self;
    if (h->config.mode) h->config.mode->release(h->config.data);
    hp__ws_hub_destroy(h->config.hub);
    hp__ws_stats_close(&h->config.stats);
    free(h);
}

static hp_handler *clone_handler(const hp_handler *self)
{
    const hp__ws_config *c = &((const ws_handler *)self)->config;
    if (c->mode) return c->mode->clone(self, c->data);
    int err;
    return hp_websocket_handler_create(&c->options, &c->callbacks, c->data, &err);
}

static void bind_pool(hp_handler *self, struct hp_pool *pool)
{
    const hp__ws_config *c = &((ws_handler *)self)->config;
    if (c->mode && c->mode->bind) c->mode->bind(self, c->data, pool);
}

static void *worker_start(hp_handler *self, hp_worker *worker)
{
    ws_handler *h = (ws_handler *)self;
    hp__ws_worker *w = hp__ws_worker_create(&h->config, worker);
    hp__ws_worker_set_pubsub(w, hp__ws_topics_worker_start(h->config.hub, worker));
    return w;
}

static void worker_stop(hp_handler *self, hp_worker *worker, void *data)
{
    hp__ws_topics_worker_stop(hp__ws_worker_pubsub(data));
    hp__ws_worker_destroy(data);
}

static const hp_handler_vtable websocket_vtable = {
    .name = "websocket",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone_handler,
    .bind = bind_pool,
    .worker_start = worker_start,
    .worker_stop = worker_stop,
};

void hp_ws_options_init(hp_ws_options *o)
{
    *o = (hp_ws_options){
        .max_message = 64 * 1024,
        .max_backpressure = 1024 * 1024,
        .on_backpressure = HP_WS_BACKPRESSURE_CLOSE,
        .idle_timeout_ms = 120 * 1000,
        .ping_interval_ms = 30 * 1000,
        .compression = false,
    };
}

hp_handler *hp_websocket_handler_create(const hp_ws_options *options,
                                        const hp_ws_callbacks *callbacks, void *data, int *err)
{
    return hp__websocket_handler_create_mode(options, callbacks, data, NULL, err);
}

hp_handler *hp__websocket_handler_create_mode(const hp_ws_options *options,
                                              const hp_ws_callbacks *callbacks, void *data,
                                              const hp__ws_mode *mode, int *err)
{
    if (options->max_message == 0 || options->max_message > HP__WS_MAX_MESSAGE ||
        options->max_backpressure < options->max_message ||
        (options->on_backpressure != HP_WS_BACKPRESSURE_CLOSE &&
         options->on_backpressure != HP_WS_BACKPRESSURE_DROP)) {
        *err = HP_EINVAL;
        return NULL;
    }
    ws_handler *h = HP_NEW(ws_handler);
    h->base.vt = &websocket_vtable;
    h->config.handler = &h->base;
    h->config.options = *options;
    if (callbacks) h->config.callbacks = *callbacks;
    h->config.data = data;
    h->config.mode = mode;
    h->config.hub = hp__ws_topics_hub_create();
    return &h->base;
}

const hp__ws_config *hp__websocket_config(const hp_handler *handler)
{
    return handler && handler->vt == &websocket_vtable ? &((const ws_handler *)handler)->config
                                                       : NULL;
}
