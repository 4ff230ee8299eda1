/* Ports for tests: one held by a plain listening socket (bound without SO_REUSEPORT, so a
 * server asked to bind it gets "address already in use"), and one free right now. */
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

int hp_test_free_port(void)
{
    int port;
    int fd = hp_test_hold_port(&port);
    if (fd < 0) return -1;
    close(fd);
    return port;
}
