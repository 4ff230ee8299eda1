/* bench_admin_calls SOCKET: admin API calls read from stdin, one per line, each on a new
 * connection to the unix socket SOCKET, timed from connect to the last byte of the answer:
 *
 *   METHOD PATH STATUS [BODY]   a call; BODY is the rest of the line (JSON on one line)
 *   sleep MS                    a pause
 *
 * Prints each call's latency in microseconds, one per line. Exits 1 at the first answer whose
 * status is not STATUS (the answer goes to stderr). A process of its own per call (curl) would
 * cost the CPU the load generator needs; this costs a connect and a few system calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int connect_to(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
    perror(path);
    exit(1);
}

/* Reads the answer (the admin API sends Content-Length, and we sent Connection: close). */
static size_t read_answer(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)n;
    buf[len] = '\0';
    return len;
}

static void call(const char *socket_path, const char *method, const char *path, int want,
                 const char *body)
{
    static char request[1 << 16], answer[1 << 16];
    size_t body_len = body ? strlen(body) : 0;
    int len = snprintf(request, sizeof request,
                       "%s %s HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       method, path, body_len, body ? body : "");
    double start = now_us();
    int fd = connect_to(socket_path);
    if (write(fd, request, (size_t)len) != len) {
        perror("write");
        exit(1);
    }
    read_answer(fd, answer, sizeof answer);
    double took = now_us() - start;
    close(fd);
    int status = 0;
    if (sscanf(answer, "HTTP/1.1 %d", &status) != 1 || status != want) {
        fprintf(stderr, "%s %s: expected %d, got:\n%s\n", method, path, want, answer);
        exit(1);
    }
    printf("%.0f\n", took);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_admin_calls SOCKET < calls\n");
        return 2;
    }
    static char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char method[16], path[512];
        int want, used = 0;
        if (sscanf(line, "sleep %d", &want) == 1) {
            usleep((useconds_t)want * 1000);
        } else if (sscanf(line, "%15s %511s %d %n", method, path, &want, &used) == 3) {
            call(argv[1], method, path, want, line[used] ? line + used : NULL);
        } else if (line[0]) {
            fprintf(stderr, "bench_admin_calls: cannot read \"%s\"\n", line);
            return 2;
        }
    }
    return 0;
}
