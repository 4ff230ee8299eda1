#include "cli/sd_notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The address NOTIFY_SOCKET names, or false for one this cannot reach. */
static bool parse_address(const char *name, hp__sd_notify *n)
{
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len < 2 || len > sizeof n->addr.sun_path)
        return false;
    memset(&n->addr, 0, sizeof n->addr);
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, name, len);
    if (name[0] == '@') n->addr.sun_path[0] = '\0'; /* abstract: its length, no terminator */
    n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    return true;
}

void hp__sd_notify_init(hp__sd_notify *n)
{
    n->fd = -1;
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name) return;
    if (parse_address(name, n)) n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unsetenv("NOTIFY_SOCKET");
}

void hp__sd_notify_close(hp__sd_notify *n)
{
    if (n->fd >= 0) close(n->fd);
    n->fd = -1;
}

static void send_message(const hp__sd_notify *n, const char *state, size_t running, size_t servers)
{
    if (n->fd < 0) return;
    char text[256];
    int len = snprintf(text, sizeof text, "%s\nSTATUS=%zu of %zu servers running", state, running,
                       servers);
    ssize_t sent;
    do
        sent = sendto(n->fd, text, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
                      (const struct sockaddr *)&n->addr, n->addr_len);
    while (sent < 0 && errno == EINTR);
}

void hp__sd_notify_ready(const hp__sd_notify *n, size_t running, size_t servers)
{
    send_message(n, "READY=1", running, servers);
}

/* systemd pairs RELOADING=1 with the monotonic time it was sent at, in microseconds. */
void hp__sd_notify_reloading(const hp__sd_notify *n, size_t running, size_t servers)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char state[64];
    snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000);
    send_message(n, state, running, servers);
}

void hp__sd_notify_stopping(const hp__sd_notify *n, size_t running, size_t servers)
{
    send_message(n, "STOPPING=1", running, servers);
}
