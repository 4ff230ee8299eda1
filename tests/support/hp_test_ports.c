/* Ports for tests: one held by a plain listening socket (bound without SO_REUSEPORT, so a
 * server asked to bind it gets "address already in use"), and one free right now in a range
 * of the test's own. */
#include "hp_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int hp_test_hold_port(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof in) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&in, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(in.sin_port);
    return fd;
}

int hp_test_hold_port_at(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* past TIME_WAIT, still held */
    if (bind(fd, (struct sockaddr *)&in, sizeof in) != 0 || listen(fd, 1) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether a server could bind the port now. With SO_REUSEADDR, as libuv binds: connections in
 * TIME_WAIT on the port (a test that closed some a moment ago) do not make it busy, a listener
 * does. */
static bool can_bind(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof in) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

int hp_test_free_port_in(int min, int max)
{
    static int last;
    if (last < min || last > max) last = max; /* so the first call starts at min */
    int count = max - min + 1;
    for (int i = 1; i <= count; i++) {
        int port = min + (last - min + i) % count;
        if (can_bind(port)) return last = port;
    }
    return -1;
}
