/* Clashes between the servers of one config on a shared listen address: what `hostpool run`
 * would refuse when it starts the second server, found by `validate` before anything runs.
 *
 * Servers may share a listen address and are then chosen by Host (docs/ARCHITECTURE.md,
 * "Virtual hosts"). On one address:
 *   - at most one server has no `hosts` (the address's default server);
 *   - a host pattern is claimed by one server only (the same text: "*.a.test" and "b.a.test"
 *     do not clash, the more precise one wins a request);
 *   - one server does not list the same address twice.
 * Addresses are compared as the engine binds them (hp__socket_parse_address), so
 * "127.0.0.1:8080", "127.0.0.1:08080" and "localhost:8080" are one address, as are "*:8080",
 * ":8080" and "0.0.0.0:8080". "auto" and port 0 never share: each takes a port of its own.
 *
 * A specific address and the wildcard address on the same port ("127.0.0.1:8080" and
 * "*:8080") are not a clash: both bind (SO_REUSEPORT), and the kernel gives each connection
 * to the most specific listening socket, so the first one answers every request made to
 * 127.0.0.1 and the wildcard one the rest, as nginx chooses by address before Host.
 *
 * Each clash is one error on the later server (document order), at the listen entry or host
 * name that clashes, naming the earlier server. */
#ifndef HP_CONFIG_CLASH_H
#define HP_CONFIG_CLASH_H

#include "config/config.h"

/* Where one server's listen entries and host names are written: document nodes (borrowed)
 * parallel to its listen[] and hosts[]. */
typedef struct hp__config_server_nodes {
    const hp__cfg_node **listen;
    const hp__cfg_node **hosts;
} hp__config_server_nodes;

/* Adds one error to `errs` for every clash between the servers of `config`; `nodes` has one
 * entry per server. `file` names the source in errors (may be NULL). */
void hp__config_check_clashes(const hp__config *config, const hp__config_server_nodes *nodes,
                              const char *file, hp__config_errors *errs);

#endif
