/* bench_idle_conns: open N keep-alive connections to 127.0.0.1:PORT, send one request on
 * each and read its whole response, then hold them all open and idle so that the caller
 * can measure the server's memory per idle keep-alive connection.
 *
 * Usage: bench_idle_conns [-n N] [-p PATH] [-t HOLD_SECONDS] PORT
 *
 * Prints "ready N" on stdout once every connection has had its response, then waits
 * (idle) until SIGTERM/SIGINT or HOLD_SECONDS (default 120, at most 600) pass. Before it
 * exits it prints "held N closed_by_server K": K connections the server closed meanwhile
 * (a server that drops idle connections would make the measurement meaningless).
 * Exit status: 0 on success, 1 on a usage or connection error, 2 if K > 0.
 * Only ever connects to 127.0.0.1. Raises RLIMIT_NOFILE itself. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#define IO_TIMEOUT_SECONDS 5
#define MAX_HOLD_SECONDS 600
#define RESPONSE_MAX 65536

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_idle_conns: %s: %s\n", what, strerror(err));
    exit(1);
}

static void raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit", errno);
    if ((long)rl.rlim_cur >= need) return;
    if ((long)rl.rlim_max < need) rl.rlim_max = (rlim_t)need; /* works as root */
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(
            stderr,
            "bench_idle_conns: cannot raise RLIMIT_NOFILE to %ld (%s); run `ulimit -n %ld` first\n",
            need, strerror(errno), need);
        exit(1);
    }
}

/* Finds the end of the header block; returns its length including the blank line, or 0. */
static size_t header_length(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++) {
        if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n')
            return i + 1;
    }
    return 0;
}

/* Value of a header (case-insensitive name) inside the header block, or NULL. */
static const char *find_header(const char *hdr, size_t hlen, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = memchr(hdr, '\n', hlen);
    const char *end = hdr + hlen;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) break;
        if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

/* Reads one whole response (Content-Length or chunked body). Returns 0 or an error text. */
static const char *read_response(int fd, char *buf)
{
    size_t len = 0, hlen = 0, need = 0;
    int chunked = 0;
    for (;;) {
        if (len == RESPONSE_MAX) return "response too large";
        ssize_t n = read(fd, buf + len, RESPONSE_MAX - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return strerror(errno);
        if (n == 0) return "server closed the connection";
        len += (size_t)n;
        if (!hlen) {
            hlen = header_length(buf, len);
            if (!hlen) continue;
            if (hlen < 12 || strncmp(buf, "HTTP/1.1 2", 10) != 0)
                return "status is not HTTP/1.1 2xx";
            size_t vlen;
            const char *v = find_header(buf, hlen, "connection", &vlen);
            if (v && vlen == 5 && strncasecmp(v, "close", 5) == 0)
                return "server sent Connection: close";
            v = find_header(buf, hlen, "content-length", &vlen);
            if (v) {
                need = hlen + (size_t)strtoul(v, NULL, 10);
            } else if ((v = find_header(buf, hlen, "transfer-encoding", &vlen)) && vlen == 7 &&
                       strncasecmp(v, "chunked", 7) == 0) {
                chunked = 1;
            } else {
                return "response has neither Content-Length nor chunked body";
            }
        }
        if (!chunked && len >= need) return len == need ? NULL : "extra bytes after the response";
        if (chunked && len >= hlen + 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0) return NULL;
    }
}

static int open_one(int port, const char *req, size_t reqlen, char *buf, int index)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket", errno);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_SECONDS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "bench_idle_conns: connection %d: connect: %s\n", index, strerror(errno));
        exit(1);
    }
    size_t off = 0;
    while (off < reqlen) {
        ssize_t n = write(fd, req + off, reqlen - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "bench_idle_conns: connection %d: write: %s\n", index, strerror(errno));
            exit(1);
        }
        off += (size_t)n;
    }
    const char *err = read_response(fd, buf);
    if (err) {
        fprintf(stderr, "bench_idle_conns: connection %d: %s\n", index, err);
        exit(1);
    }
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_idle_conns [-n N] [-p PATH] [-t HOLD_SECONDS] PORT\n");
    exit(1);
}

int main(int argc, char **argv)
{
    long n = 10000, hold = 120;
    const char *path = "/";
    int opt;
    while ((opt = getopt(argc, argv, "n:p:t:")) != -1) {
        switch (opt) {
        case 'n':
            n = strtol(optarg, NULL, 10);
            break;
        case 'p':
            path = optarg;
            break;
        case 't':
            hold = strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1 || n < 1 || n > 1000000 || hold < 0 || path[0] != '/') usage();
    long port = strtol(argv[optind], NULL, 10);
    if (port < 1 || port > 65535) usage();
    if (hold > MAX_HOLD_SECONDS) hold = MAX_HOLD_SECONDS;

    raise_nofile(n + 64);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    char req[1024];
    int reqlen =
        snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nUser-Agent: bench_idle_conns\r\n"
                 "Accept: */*\r\n\r\n",
                 path, port);
    if (reqlen < 0 || (size_t)reqlen >= sizeof req) usage();
    int *fds = malloc((size_t)n * sizeof *fds);
    char *buf = malloc(RESPONSE_MAX);
    if (!fds || !buf) die("malloc", ENOMEM);

    for (long i = 0; i < n; i++) fds[i] = open_one((int)port, req, (size_t)reqlen, buf, (int)i);
    printf("ready %ld\n", n);
    fflush(stdout);

    struct timespec ts = {.tv_sec = hold};
    while (sigtimedwait(&stop, NULL, &ts) < 0 && errno == EINTR) {
    }

    long closed = 0;
    for (long i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN | POLLRDHUP};
        if (poll(&p, 1, 0) > 0) closed++;
    }
    printf("held %ld closed_by_server %ld\n", n, closed);
    fflush(stdout);
    return closed ? 2 : 0;
}
