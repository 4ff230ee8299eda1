/* bench_first_request: how long requests take to be answered, one after another, each on a new
 * connection to 127.0.0.1:PORT: for a switchboard, each name's first request (the server made
 * on demand) and then a second one (made already).
 *
 * Usage: bench_first_request PORT HOST_PATTERN N [PREFIX]
 *   sends, for i in 1..N, "GET / HTTP/1.1" with Host HOST_PATTERN's "{name}" replaced by
 *   PREFIX-i (PREFIX: "n"), reads the whole response (Content-Length), then the same again;
 *   prints one line per name: "NAME FIRST_US SECOND_US STATUS".
 * bench_first_request --spawn-until-listening PORT N COMMAND...
 *   for i in 1..N runs COMMAND ("{port}" in an argument replaced by PORT) and measures from fork to
 * the first successful connect to 127.0.0.1:PORT (polled every 200 µs), then kills it (SIGTERM) and
 *   waits: the program's own start-up time; prints one line per run: "start US".
 * Only ever connects to 127.0.0.1. Exit 1 on an error (a connection refused, a timeout). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define TIMEOUT_MS 10000
#define RESPONSE_MAX 65536

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_first_request: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* The status of the response, once it is all read; -1 on an error. */
static int read_response(int fd)
{
    static char buf[RESPONSE_MAX];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, TIMEOUT_MS) != 1) return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        const char *cl = strcasestr(buf, "\r\ncontent-length:");
        size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - buf) + body) return atoi(buf + 9);
    }
}

/* One request with `host` on a new connection: its time in µs; *status its status. */
static uint64_t timed_request(int port, const char *host, int *status)
{
    uint64_t start = now_us();
    int fd = connect_to(port);
    if (fd < 0) die("connect");
    char req[512];
    int n =
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
    if (write(fd, req, (size_t)n) != n) die("write");
    *status = read_response(fd);
    uint64_t took = now_us() - start;
    close(fd);
    if (*status < 0) die("the response");
    return took;
}

static void host_for(char *out, size_t cap, const char *pattern, const char *name)
{
    const char *brace = strstr(pattern, "{name}");
    if (!brace) {
        snprintf(out, cap, "%s", pattern);
        return;
    }
    snprintf(out, cap, "%.*s%s%s", (int)(brace - pattern), pattern, name, brace + 6);
}

static int first_requests(int port, const char *pattern, int count, const char *prefix)
{
    for (int i = 1; i <= count; i++) {
        char name[64], host[256];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        host_for(host, sizeof host, pattern, name);
        int first_status, second_status;
        uint64_t first = timed_request(port, host, &first_status);
        uint64_t second = timed_request(port, host, &second_status);
        printf("%s %llu %llu %d\n", name, (unsigned long long)first, (unsigned long long)second,
               first_status);
    }
    return 0;
}

static int spawn_until_listening(int port, int count, char **command)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    for (int run = 0; run < count; run++) {
        int argc = 0;
        while (command[argc]) argc++;
        char **argv = calloc((size_t)argc + 1, sizeof *argv);
        for (int i = 0; i < argc; i++) {
            const char *at = strstr(command[i], "{port}");
            if (!at) {
                argv[i] = command[i];
                continue;
            }
            size_t cap = strlen(command[i]) + sizeof port_text;
            argv[i] = malloc(cap);
            snprintf(argv[i], cap, "%.*s%s%s", (int)(at - command[i]), command[i], port_text,
                     at + 6);
        }
        uint64_t start = now_us();
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            execvp(argv[0], argv);
            _exit(127);
        }
        int fd;
        while ((fd = connect_to(port)) < 0) {
            if (now_us() - start > TIMEOUT_MS * 1000u) die("the program never listened");
            usleep(200);
        }
        uint64_t took = now_us() - start;
        close(fd);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        for (int i = 0; i < argc; i++)
            if (argv[i] != command[i]) free(argv[i]);
        free(argv);
        printf("start %llu\n", (unsigned long long)took);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "--spawn-until-listening") == 0)
        return spawn_until_listening(atoi(argv[2]), atoi(argv[3]), argv + 4);
    if (argc == 4 || argc == 5)
        return first_requests(atoi(argv[1]), argv[2], atoi(argv[3]), argc == 5 ? argv[4] : "n");
    fprintf(stderr, "usage: bench_first_request PORT HOST_PATTERN N [PREFIX]\n"
                    "       bench_first_request --spawn-until-listening PORT N COMMAND...\n");
    return 2;
}
