/* callback: a C function as a handler, for programs that embed the library. */
#include "common/alloc.h"
#include "hostpool/handler.h"

#include <stdlib.h>

typedef struct callback_handler {
    hp_handler base;
    hp_request_cb cb;
    void *data;
} callback_handler;

static void on_request(hp_handler *self, hp_request *req)
{
    callback_handler *h = (callback_handler *)self;
    h->cb(req, h->data);
}

static void destroy(hp_handler *self)
{
    free(self);
}

static hp_handler *clone(const hp_handler *self)
{
    const callback_handler *h = (const callback_handler *)self;
    return hp_callback_handler_create(h->cb, h->data);
}

static const hp_handler_vtable callback_vtable = {
    .name = "callback",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone,
};

hp_handler *hp_callback_handler_create(hp_request_cb cb, void *data)
{
    if (!cb) return NULL;
    callback_handler *h = HP_NEW(callback_handler);
    h->base.vt = &callback_vtable;
    h->cb = cb;
    h->data = data;
    return &h->base;
}
