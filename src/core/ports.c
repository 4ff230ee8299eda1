#include "core/ports.h"

#include "hostpool/errors.h"

#include <string.h>

bool hp__ports_held(const hp__ports *p, uint16_t port)
{
    return p->held[port >> 3] & (1u << (port & 7));
}

int hp__ports_init(hp__ports *p, uint16_t lo, uint16_t hi)
{
    memset(p, 0, sizeof *p);
    if (lo == 0 || lo > hi) return HP_EINVAL; /* lo = hi = 0: an empty range */
    p->lo = p->cursor = lo;
    p->hi = hi;
    return 0;
}

int hp__ports_take(hp__ports *p, hp__port_probe is_free, void *data, uint16_t *port)
{
    if (p->lo == 0) return HP_ELIMIT;
    uint32_t size = (uint32_t)p->hi - p->lo + 1;
    /* `size` steps bring the cursor full circle: on failure it is where it started. */
    for (uint32_t i = 0; i < size; i++) {
        uint16_t candidate = p->cursor;
        p->cursor = candidate == p->hi ? p->lo : (uint16_t)(candidate + 1);
        if (hp__ports_held(p, candidate) || (is_free && !is_free(candidate, data))) continue;
        p->held[candidate >> 3] |= (uint8_t)(1u << (candidate & 7));
        *port = candidate;
        return 0;
    }
    return HP_ELIMIT;
}

void hp__ports_release(hp__ports *p, uint16_t port)
{
    if (port < p->lo || port > p->hi) return;
    p->held[port >> 3] &= (uint8_t) ~(1u << (port & 7));
}
