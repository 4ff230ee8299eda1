/* systemd's readiness protocol (sd_notify(3)) without libsystemd, for a `Type=notify` unit.
 *
 * When the daemon starts, NOTIFY_SOCKET names a datagram unix socket: a path ("/run/...") or
 * an abstract name ("@name", a NUL byte then the name). hp__sd_notify_init() opens a socket
 * to it and takes the variable out of the environment, so the programs of process servers
 * never inherit it (only the daemon speaks for the unit). Without NOTIFY_SOCKET, or with one
 * it cannot use (another scheme such as vsock:, a name too long), every call is a no-op.
 *
 * The daemon says, each with STATUS=N of M servers running:
 *   READY=1                                when every server is up (the "servers running" line)
 *   RELOADING=1, MONOTONIC_USEC=now       when SIGHUP starts a reload; READY=1 when it is done
 *   STOPPING=1                             when the drain starts
 * Sends never block (MSG_DONTWAIT): a message the receiver has no room for is dropped rather
 * than stalling the control loop. Control thread only. */
#ifndef HP_CLI_SD_NOTIFY_H
#define HP_CLI_SD_NOTIFY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

typedef struct hp__sd_notify {
    int fd; /* -1: no NOTIFY_SOCKET, nothing is sent */
    struct sockaddr_un addr;
    socklen_t addr_len;
} hp__sd_notify;

void hp__sd_notify_init(hp__sd_notify *n);
void hp__sd_notify_close(hp__sd_notify *n);

/* `running` of `servers` is the STATUS line. */
void hp__sd_notify_ready(const hp__sd_notify *n, size_t running, size_t servers);
void hp__sd_notify_reloading(const hp__sd_notify *n, size_t running, size_t servers);
void hp__sd_notify_stopping(const hp__sd_notify *n, size_t running, size_t servers);

#endif
