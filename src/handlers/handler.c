#include "hostpool/handler.h"

#include <stddef.h>

void hp_handler_destroy(hp_handler *handler)
{
    if (handler) handler->vt->destroy(handler);
}

/* The copy asks for the body as its original does, whatever the kind's clone set: one place,
 * so no kind can forget it. */
hp_handler *hp_handler_clone(const hp_handler *handler)
{
    hp_handler *copy = handler->vt->clone ? handler->vt->clone(handler) : NULL;
    if (copy) copy->stream_request_body = handler->stream_request_body;
    return copy;
}
