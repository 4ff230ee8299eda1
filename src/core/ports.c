#include "core/ports.h"

#include "hostpool/errors.h"

#include <string.h>

static bool is_taken(const hp__ports *p, uint16_t port)
{
    return p->taken[port >> 3] & (1u << (port & 7));
}

void hp__ports_init(hp__ports *p, uint16_t lo, uint16_t hi)
{
    memset(p, 0, sizeof *p);
    p->lo = lo;
    p->hi = hi;
    p->cursor = lo;
}

int hp__ports_take(hp__ports *p, hp__port_probe is_free, void *data, uint16_t *port)
{
    uint32_t size = (uint32_t)p->hi - p->lo + 1;
    for (uint32_t i = 0; i < size; i++) {
        uint16_t candidate = p->cursor;
        p->cursor = candidate == p->hi ? p->lo : (uint16_t)(candidate + 1);
        if (is_taken(p, candidate) || (is_free && !is_free(candidate, data))) continue;
        p->taken[candidate >> 3] |= (uint8_t)(1u << (candidate & 7));
        *port = candidate;
        return 0;
    }
    return HP_ELIMIT;
}

void hp__ports_release(hp__ports *p, uint16_t port)
{
    p->taken[port >> 3] &= (uint8_t) ~(1u << (port & 7));
}
