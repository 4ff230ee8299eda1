#include "hostpool/handler.h"

#include <stddef.h>

void hp_handler_destroy(hp_handler *handler)
{
    if (handler) handler->vt->destroy(handler);
}

hp_handler *hp_handler_clone(const hp_handler *handler)
{
    return handler->vt->clone ? handler->vt->clone(handler) : NULL;
}
