/* Listening sockets for the workers: parse a listen address and open one socket per worker,
 * all bound to the same address with SO_REUSEPORT (libuv 1.44 cannot set it, so we create the
 * sockets ourselves and the workers poll them, accept.c). Runs on the control thread, so a
 * failure (bad address, port in use) is reported to the caller at once. */
#ifndef HP_IO_SOCKET_H
#define HP_IO_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The one syntax of a listen address, for the engine, the config and the command line:
 *   HOST:PORT    HOST an IPv4 address, `localhost` (127.0.0.1), `*` or nothing (every IPv4
 *                address: `*:8080`, `:8080`)
 *   PORT         every IPv4 address, as nginx reads `listen 8080`
 *   [IPV6]:PORT  `[::]` is every IPv6 address (bound IPv6-only)
 *   unix:PATH    a unix socket
 * PORT is 0-65535 in decimal digits; 0 asks for any free port. Parses `text` into `out`
 * (zeroed first, so addresses compare as bytes). Returns 0, or HP_EADDR with the reason in
 * `why` when it is not NULL ("port 70000 out of range"). A unix address has port 0 (and
 * setting its port does nothing). */
int hp__socket_check_address(const char *text, struct sockaddr_storage *out, char *why, size_t len);
/* The same without the reason. */
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
/* The host of a URL that reaches the TCP address `addr` from this machine: the address (IPv6
 * in brackets), or the loopback address of its family for a wildcard. Returns NULL, or for a
 * wildcard what it binds: "every IPv4 address", "every IPv6 address". */
const char *hp__socket_url_host(const struct sockaddr_storage *addr, char *buf, size_t len);

#endif
