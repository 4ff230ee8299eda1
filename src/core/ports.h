/* The automatic port allocator: ports for "listen: auto" (and servers created on demand)
 * from the pool's range [lo, hi].
 *
 * A cursor walks the range cyclically. hp__ports_take() starts at the cursor (just after the
 * last port it handed out) and gives the first port that the pool does not hold (a bitmap
 * here) and that the caller's probe says is free on this machine (the pool's probe tries to
 * bind 127.0.0.1:port; this file has no sockets). A port the probe calls busy is not held: it
 * is simply skipped, and tried again on the next lap.
 *
 * Reuse policy: the cursor only moves forward, so a released port is handed out again only
 * when the cursor comes round to it. A port taken and released at once therefore returns
 * only after every other port of the range has been tried: a client that still holds a
 * connection to it, or its URL, does not reach a new server by surprise while other ports
 * are free. Reuse is not delayed when the port is the only one left.
 *
 * Single-threaded (the pool's control loop). No allocation: the struct holds one bit per
 * possible port (8 KiB) and is owned by the caller. */
#ifndef HP_CORE_PORTS_H
#define HP_CORE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hp__ports {
    uint16_t lo, hi;
    uint16_t cursor;    /* the next port to try */
    uint8_t held[8192]; /* one bit per port number: handed out and not released */
} hp__ports;

/* Is `port` free on this machine? true: it may be handed out. */
typedef bool (*hp__port_probe)(uint16_t port, void *data);

/* An empty allocator for [lo, hi], the cursor at lo. HP_EINVAL when lo is 0 or lo > hi (the
 * allocator is then left empty, and every take fails). */
int hp__ports_init(hp__ports *p, uint16_t lo, uint16_t hi);

/* Hands out the next port as described above and holds it until released: `is_free(port,
 * data)` is asked only about ports in the range that are not held (NULL: every port is free).
 * HP_ELIMIT when no port of the range is both unheld and free; then nothing changes but the
 * probe's calls, and the cursor is back where it was. */
int hp__ports_take(hp__ports *p, hp__port_probe is_free, void *data, uint16_t *port);

/* Gives `port` back (see the reuse policy). A port outside the range or not held is
 * ignored. */
void hp__ports_release(hp__ports *p, uint16_t port);

/* Is `port` held (handed out and not released)? */
bool hp__ports_held(const hp__ports *p, uint16_t port);

#endif
