/* The automatic port allocator: ports for "listen: auto" from a configured range.
 *
 * The range is walked cyclically, starting after the last port handed out; a port is skipped
 * when the pool holds it or when the caller's probe says it is busy on this machine. So a
 * released port is reused only after the rest of the range was handed out: a client that
 * still holds an old URL does not reach a new server by surprise. No sockets here: the probe
 * is the caller's (the pool tries to bind). */
#ifndef HP_CORE_PORTS_H
#define HP_CORE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hp__ports {
    uint16_t lo, hi;
    uint16_t cursor;     /* the next port to try */
    uint8_t taken[8192]; /* one bit per port number */
} hp__ports;

typedef bool (*hp__port_probe)(uint16_t port, void *data);

void hp__ports_init(hp__ports *p, uint16_t lo, uint16_t hi);
/* HP_ELIMIT when every port of the range is taken or busy. */
int hp__ports_take(hp__ports *p, hp__port_probe is_free, void *data, uint16_t *port);
void hp__ports_release(hp__ports *p, uint16_t port);

#endif
