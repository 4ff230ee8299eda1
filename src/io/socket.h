/* Listening sockets for the workers: parse a listen address and open one socket per worker,
 * all bound to the same address with SO_REUSEPORT (libuv 1.44 cannot set it, so we create the
 * sockets ourselves and the workers poll them, accept.c). Runs on the control thread, so a failure
 * (bad address, port in use) is reported to the caller at once. */
#ifndef HP_IO_SOCKET_H
#define HP_IO_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parses "host:port", "[v6]:port", ":port"/"port" (all interfaces) or "unix:PATH" into `out`.
 * Returns 0 or HP_EADDR. A unix address has port 0 (and setting its port does nothing). */
int hp__socket_parse_address(const char *text, struct sockaddr_storage *out);

/* Equal when family, address and port are (both parsed by hp__socket_parse_address). */
bool hp__socket_address_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
uint32_t hp__socket_address_hash(const struct sockaddr_storage *addr);
int hp__socket_address_port(const struct sockaddr_storage *addr);
void hp__socket_address_set_port(struct sockaddr_storage *addr, int port);

/* Opens `count` listening sockets bound to `addr` (port 0: one free port, shared by all).
 * On success fills fds[] and *port; on failure opens nothing and returns a UV_E* code.
 * A unix address gets one socket file, mode 0600 (a stale one, that no process listens on,
 * is replaced), and `count` descriptors of that one socket. */
int hp__socket_listen_many(const struct sockaddr_storage *addr, size_t count, int *fds, int *port);
/* Does a connection to the unix address `addr` succeed now? (A unix connect completes or
 * fails at once, so the health probe of a unix socket needs no callback.) */
bool hp__socket_unix_accepts(const struct sockaddr_storage *addr);
/* Removes a unix address's socket file (the listener closed); nothing for other addresses. */
void hp__socket_unlink(const struct sockaddr_storage *addr);

/* Could a socket bind the TCP address `addr` now, without SO_REUSEPORT? 0, or the error of the
 * trial bind: UV_EADDRINUSE when any process (this one too) listens there, or on an address
 * that overlaps it (hp__socket_addresses_overlap). Connections in TIME_WAIT do not count. The
 * engine asks before it makes a new SO_REUSEPORT group, so that it never joins another
 * process's: SO_REUSEPORT lets every process of the same user join a group. */
int hp__socket_probe(const struct sockaddr_storage *addr);
/* hp__socket_probe() of the TCP address `text`: the automatic port allocator asks it to skip
 * ports other programs hold. */
bool hp__socket_can_bind(const char *text);

/* 0.0.0.0 or [::]. */
bool hp__socket_address_is_wildcard(const struct sockaddr_storage *addr);
/* Do two TCP addresses conflict for a bind: the same port and family, and the same address or
 * one of them a wildcard? */
bool hp__socket_addresses_overlap(const struct sockaddr_storage *a,
                                  const struct sockaddr_storage *b);

#endif
