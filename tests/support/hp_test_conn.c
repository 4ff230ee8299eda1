/* Raw TCP clients on 127.0.0.1, every operation bounded by a deadline.
 *
 * The socket is non-blocking; each call loops on poll() until its work is done or its
 * deadline passes. Received bytes are appended to conn->buf, from which the response reader
 * consumes them, so bytes of a later (pipelined) response are never lost. The server closing
 * the connection shows up as read() == 0 or ECONNRESET; both set conn->eof. */
#include "hp_test_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int remaining(int64_t deadline)
{
    int64_t left = deadline - hp_test_now_ms();
    return left > 0 ? (int)left : 0;
}

static int connect_tcp(hp_test_conn *conn, const char *from, int port, int rcvbuf, int timeout_ms)
{
    memset(conn, 0, sizeof *conn);
    conn->fd = -1;
    conn->port = port;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in source = {.sin_family = AF_INET};
    if (from && (inet_pton(AF_INET, from, &source.sin_addr) != 1 ||
                 bind(fd, (struct sockaddr *)&source, sizeof source) != 0)) {
        int err = errno ? errno : EINVAL;
        close(fd);
        return -err;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (errno != EINPROGRESS) {
            int err = errno;
            close(fd);
            return -err;
        }
        struct pollfd pfd = {fd, POLLOUT, 0};
        int ready;
        do ready = poll(&pfd, 1, timeout_ms);
        while (ready < 0 && errno == EINTR);
        if (ready == 0) {
            close(fd);
            return -ETIMEDOUT;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            close(fd);
            return -err;
        }
    }
    struct sockaddr_in local;
    socklen_t local_len = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &local_len);
    conn->local_port = ntohs(local.sin_port);
    conn->fd = fd;
    return 0;
}

int hp_test_connect_rcvbuf(hp_test_conn *conn, int port, int rcvbuf, int timeout_ms)
{
    return connect_tcp(conn, NULL, port, rcvbuf, timeout_ms);
}

int hp_test_connect_from(hp_test_conn *conn, const char *from, int port, int timeout_ms)
{
    return connect_tcp(conn, from, port, 0, timeout_ms);
}

int hp_test_connect(hp_test_conn *conn, int port, int timeout_ms)
{
    return hp_test_connect_rcvbuf(conn, port, 0, timeout_ms);
}

int hp_test_connect_unix(hp_test_conn *conn, const char *path, int timeout_ms)
{
    (void)timeout_ms; /* a unix socket connects at once or fails at once */
    memset(conn, 0, sizeof *conn);
    conn->fd = -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    conn->fd = fd;
    return 0;
}

void hp_test_close(hp_test_conn *conn)
{
    if (conn->fd >= 0) close(conn->fd);
    conn->fd = -1;
    free(conn->buf);
    conn->buf = NULL;
    conn->len = conn->cap = 0;
}

int hp_test_send(hp_test_conn *conn, const void *data, size_t len, int timeout_ms)
{
    const char *p = data;
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (len > 0) {
        ssize_t sent = send(conn->fd, p, len, MSG_NOSIGNAL);
        if (sent > 0) {
            p += sent;
            len -= (size_t)sent;
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EPIPE || errno == ECONNRESET)) return HP_TEST_CLOSED;
        if (sent < 0 && errno != EAGAIN) return HP_TEST_ERROR;
        struct pollfd pfd = {conn->fd, POLLOUT, 0};
        if (remaining(deadline) == 0) return HP_TEST_TIMEOUT;
        poll(&pfd, 1, remaining(deadline));
    }
    return HP_TEST_OK;
}

int hp_test_send_str(hp_test_conn *conn, const char *text, int timeout_ms)
{
    return hp_test_send(conn, text, strlen(text), timeout_ms);
}

/* One read() into conn->buf. Returns the bytes read, 0 on close (conn->eof set), -1 when
 * nothing is available now. */
static ssize_t read_once(hp_test_conn *conn)
{
    if (conn->eof) return 0;
    if (conn->cap - conn->len < 65536) {
        conn->cap = conn->cap ? conn->cap * 2 : 131072;
        while (conn->cap - conn->len < 65536) conn->cap *= 2;
        conn->buf = realloc(conn->buf, conn->cap + 1);
    }
    for (;;) {
        ssize_t got = read(conn->fd, conn->buf + conn->len, conn->cap - conn->len);
        if (got > 0) {
            conn->len += (size_t)got;
            conn->buf[conn->len] = '\0';
            return got;
        }
        if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            conn->eof = true;
            conn->read_errno = got == 0 ? 0 : errno;
            return 0;
        }
        if (errno == EAGAIN) return -1;
    }
}

/* Waits until something can be read (or the close), then reads it. Returns as read_once,
 * and -1 when the deadline passed first. */
static ssize_t read_until(hp_test_conn *conn, int64_t deadline)
{
    for (;;) {
        ssize_t got = read_once(conn);
        if (got >= 0) return got;
        int left = remaining(deadline);
        if (left == 0) return -1;
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        poll(&pfd, 1, left);
    }
}

int hp_test__fill(hp_test_conn *conn, int64_t deadline)
{
    ssize_t got = read_until(conn, deadline);
    if (got > 0) return HP_TEST_OK;
    return got == 0 ? HP_TEST_CLOSED : HP_TEST_TIMEOUT;
}

ssize_t hp_test_send_trickle(hp_test_conn *conn, const void *data, size_t len, size_t piece,
                             int gap_ms)
{
    const char *p = data;
    size_t sent = 0;
    while (sent < len) {
        size_t n = len - sent < piece ? len - sent : piece;
        int rc = hp_test_send(conn, p + sent, n, HP_TEST_DEADLINE_MS);
        if (rc == HP_TEST_CLOSED) return (ssize_t)sent;
        if (rc != HP_TEST_OK) return rc;
        sent += n;
        if (sent == len) break;
        /* The pause of a slow client, cut short when the server answers or closes. */
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        int ready;
        do ready = poll(&pfd, 1, gap_ms);
        while (ready < 0 && errno == EINTR);
        if (ready > 0) return (ssize_t)sent;
    }
    return (ssize_t)sent;
}

int hp_test_wait_closed(hp_test_conn *conn, int timeout_ms)
{
    if (conn->len > 0) return HP_TEST_EXTRA_BYTES;
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    ssize_t got = read_until(conn, deadline);
    if (got == 0) return HP_TEST_CLOSED;
    return got > 0 ? HP_TEST_EXTRA_BYTES : HP_TEST_TIMEOUT;
}

size_t hp_test_read_some(hp_test_conn *conn, int timeout_ms)
{
    size_t before = conn->len;
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (read_until(conn, deadline) > 0) {
    }
    return conn->len - before;
}

bool hp_test_received(const hp_test_conn *conn, const char *text)
{
    size_t len = strlen(text);
    return conn->len >= len && memmem(conn->buf, conn->len, text, len) != NULL;
}

bool hp_test_wait_for_text(hp_test_conn *conn, const char *text, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (!hp_test_received(conn, text)) {
        if (conn->eof || hp_test_now_ms() >= deadline) return false;
        hp_test_read_some(conn, 20);
    }
    return true;
}

size_t hp_test_pending_bytes(const hp_test_conn *conn)
{
    int n = 0;
    if (ioctl(conn->fd, FIONREAD, &n) != 0 || n < 0) return 0;
    return (size_t)n;
}

long hp_test_server_unread_bytes(const hp_test_conn *conn)
{
    /* Lines look like: "  1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 ...", the
     * server's socket has local port = conn->port and remote port = our local port. */
    FILE *f = fopen("/proc/net/tcp", "r");
    if (f == NULL) return -1;
    char line[512];
    long unread = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned local_ip, local_port, remote_ip, remote_port, state;
        unsigned long tx, rx;
        if (sscanf(line, " %*d: %x:%x %x:%x %x %lx:%lx", &local_ip, &local_port, &remote_ip,
                   &remote_port, &state, &tx, &rx) != 7)
            continue;
        if ((int)local_port == conn->port && (int)remote_port == conn->local_port) {
            unread = (long)rx;
            break;
        }
    }
    fclose(f);
    return unread;
}

static bool server_read_all(void *data)
{
    return hp_test_server_unread_bytes(data) == 0;
}

bool hp_test_wait_server_read_all(const hp_test_conn *conn, int timeout_ms)
{
    return hp_test_poll_until(server_read_all, (void *)conn, timeout_ms);
}

/* Sends `request` on a connected `conn`, reads one response and closes. */
static int exchange_on(hp_test_conn *conn, const char *request, hp_test_response *resp,
                       int timeout_ms)
{
    int rc = hp_test_send_str(conn, request, timeout_ms);
    bool head = strncmp(request, "HEAD ", 5) == 0;
    if (rc == HP_TEST_OK || rc == HP_TEST_CLOSED)
        rc = hp_test_read_response(conn, resp, head, timeout_ms);
    hp_test_close(conn);
    return rc;
}

int hp_test_exchange(int port, const char *request, hp_test_response *resp, int timeout_ms)
{
    hp_test_conn conn;
    if (hp_test_connect(&conn, port, timeout_ms) != 0) return HP_TEST_ERROR;
    return exchange_on(&conn, request, resp, timeout_ms);
}

int hp_test_exchange_unix(const char *path, const char *request, hp_test_response *resp,
                          int timeout_ms)
{
    hp_test_conn conn;
    if (hp_test_connect_unix(&conn, path, timeout_ms) != 0) return HP_TEST_ERROR;
    return exchange_on(&conn, request, resp, timeout_ms);
}
