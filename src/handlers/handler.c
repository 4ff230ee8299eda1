#include "hostpool/handler.h"

#include <stddef.h>

void hp_handler_destroy(hp_handler *handler)
{
    if (handler) handler->vt->destroy(handler);
}
