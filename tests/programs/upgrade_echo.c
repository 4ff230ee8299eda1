/* hp_upgrade_echo PORT: a backend that tests run as a supervised program (a process server's,
 * a switchboard's template): it listens on 127.0.0.1:PORT and, per connection (one process
 * each), reads a request head; one that asks for an upgrade gets "101 Switching Protocols"
 * (Upgrade: websocket) and then every byte it sends echoed back until it closes; any other gets
 * "200 OK" with the body "ok" and is closed. The tunnel between is byte-transparent, so no
 * WebSocket framing is needed here to show that an upgrade reaches the program. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 16384

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void serve(int fd)
{
    char head[HEAD_MAX + 1];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < HEAD_MAX) {
        ssize_t n = read(fd, head + len, HEAD_MAX - len);
        if (n <= 0) return;
        len += (size_t)n;
        head[len] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    if (!end) return;
    if (!strcasestr(head, "\r\nUpgrade:")) {
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        write_all(fd, ok, sizeof ok - 1);
        return;
    }
    static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\n\r\n";
    if (write_all(fd, switching, sizeof switching - 1) != 0) return;
    size_t after = len - (size_t)(end + 4 - head);
    if (after && write_all(fd, end + 4, after) != 0) return;
    char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write_all(fd, buf, (size_t)n) != 0) return;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hp_upgrade_echo PORT\n");
        return 2;
    }
    signal(SIGCHLD, SIG_IGN); /* connections' processes are reaped by the kernel */
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listener, 64) != 0) {
        perror("hp_upgrade_echo");
        return 1;
    }
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        if (fork() == 0) {
            close(listener);
            serve(fd);
            _exit(0);
        }
        close(fd);
    }
}
