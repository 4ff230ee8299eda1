#include "io/socket.h"

#include "hostpool/errors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#define BACKLOG 511
#define SHOWN 64 /* at most this much of a bad address is quoted back */

static void say(char *why, size_t len, const char *fmt, const char *arg)
{
    if (why) snprintf(why, len, fmt, SHOWN, arg);
}

/* 1 to 5 digits, 0-65535. */
static int parse_port(const char *s, int *port, char *why, size_t len)
{
    size_t digits = strspn(s, "0123456789");
    if (!*s || s[digits]) {
        say(why, len, "\"%.*s\" is not a port", s);
        return HP_EADDR;
    }
    long v = digits <= 5 ? strtol(s, NULL, 10) : 65536;
    if (v > 65535) {
        say(why, len, "port %.*s out of range", s);
        return HP_EADDR;
    }
    *port = (int)v;
    return 0;
}

/* "unix:PATH": a unix socket; the path must fit sun_path with its NUL. */
static int parse_unix(const char *path, struct sockaddr_storage *out, char *why, size_t len)
{
    struct sockaddr_un *un = (struct sockaddr_un *)out;
    size_t path_len = strlen(path);
    if (path_len == 0) {
        if (why) snprintf(why, len, "a unix: address needs a path (unix:hostpool.sock)");
        return HP_EADDR;
    }
    if (path_len >= sizeof un->sun_path) {
        if (why) snprintf(why, len, "the path is longer than %zu bytes", sizeof un->sun_path - 1);
        return HP_EADDR;
    }
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, path_len + 1);
    return 0;
}

/* "[v6]:port" */
static int parse_v6(const char *text, struct sockaddr_storage *out, char *why, size_t len)
{
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    char host[INET6_ADDRSTRLEN + 1];
    const char *close = strchr(text, ']');
    size_t host_len = close ? (size_t)(close - text - 1) : 0;
    if (!close || close[1] != ':') {
        say(why, len, "expected [ipv6]:port, got \"%.*s\"", text);
        return HP_EADDR;
    }
    int port;
    int err = parse_port(close + 2, &port, why, len);
    if (err) return err;
    memcpy(host, text + 1, host_len < sizeof host ? host_len : sizeof host - 1);
    host[host_len < sizeof host ? host_len : sizeof host - 1] = '\0';
    if (host_len >= sizeof host || inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
        say(why, len, "\"%.*s\" is not an IPv6 address", host);
        return HP_EADDR;
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return 0;
}

int hp__socket_check_address(const char *text, struct sockaddr_storage *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    if (strncmp(text, "unix:", 5) == 0) return parse_unix(text + 5, out, why, len);
    if (text[0] == '[') return parse_v6(text, out, why, len);
    const char *colon = strrchr(text, ':');
    if (!colon && (!*text || text[strspn(text, "0123456789")])) {
        say(why, len, "expected host:port, [ipv6]:port, a port or unix:PATH, got \"%.*s\"", text);
        return HP_EADDR;
    }
    size_t host_len = colon ? (size_t)(colon - text) : 0; /* a port alone: every address */
    if (memchr(text, ':', host_len)) {
        if (why) snprintf(why, len, "an IPv6 address is written in brackets: [::1]:8080");
        return HP_EADDR;
    }
    int port;
    int err = parse_port(colon ? colon + 1 : text, &port, why, len);
    if (err) return err;
    char host[SHOWN + 1];
    snprintf(host, sizeof host, "%.*s", (int)host_len, text);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    if (host[0] == '\0' || strcmp(host, "*") == 0) {
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (strcmp(host, "localhost") == 0) {
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (host_len > SHOWN || inet_pton(AF_INET, host, &v4->sin_addr) != 1) {
        say(why, len, "host \"%.*s\" is not an IP address, localhost or *", host);
        memset(out, 0, sizeof *out);
        return HP_EADDR;
    }
    return 0;
}

int hp__socket_parse_address(const char *text, struct sockaddr_storage *out)
{
    return hp__socket_check_address(text, out, NULL, 0);
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_UNIX) return sizeof(struct sockaddr_un);
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Parsed addresses are zeroed first, so their bytes compare and hash as a whole. */
bool hp__socket_address_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    return a->ss_family == b->ss_family && memcmp(a, b, addr_len(a)) == 0;
}

uint32_t hp__socket_address_hash(const struct sockaddr_storage *a)
{
    const unsigned char *p = (const unsigned char *)a;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < addr_len(a); i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

int hp__socket_address_port(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_UNIX) return 0;
    return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                          : ((const struct sockaddr_in *)a)->sin_port);
}

void hp__socket_address_set_port(struct sockaddr_storage *a, int port)
{
    if (a->ss_family == AF_UNIX) return;
    if (a->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
    } else {
        ((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
    }
}

static int get_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) return -1;
    if (a.ss_family == AF_UNIX) return 0;
    return ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                         : ((struct sockaddr_in *)&a)->sin_port);
}

static int open_one(const struct sockaddr_storage *addr, int *fd_out)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return uv_translate_sys_error(errno);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (addr->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, (const struct sockaddr *)addr, addr_len(addr)) != 0 || listen(fd, BACKLOG) != 0) {
        int err = uv_translate_sys_error(errno);
        close(fd);
        return err;
    }
    *fd_out = fd;
    return 0;
}

/* A socket file left by a process that is gone accepts no connection: it may be removed.
 * Anything else at the path (a live socket, a regular file) is left alone. */
static void remove_stale_socket(const struct sockaddr_un *un)
{
    struct stat st;
    if (lstat(un->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    if (connect(fd, (const struct sockaddr *)un, sizeof *un) != 0 && errno == ECONNREFUSED)
        unlink(un->sun_path);
    close(fd);
}

/* One unix socket, readable and writable by its owner only (mode 0600, set before listen()
 * so no one can connect earlier), shared by every worker through a descriptor each. */
static int listen_unix(const struct sockaddr_storage *addr, size_t count, int *fds)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    remove_stale_socket(un);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return uv_translate_sys_error(errno);
    if (bind(fd, (const struct sockaddr *)un, sizeof *un) != 0) {
        int err = uv_translate_sys_error(errno);
        close(fd);
        return err;
    }
    if (chmod(un->sun_path, 0600) != 0 || listen(fd, BACKLOG) != 0) {
        int err = uv_translate_sys_error(errno);
        close(fd);
        unlink(un->sun_path);
        return err;
    }
    fds[0] = fd;
    for (size_t i = 1; i < count; i++) fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return 0;
}

bool hp__socket_unix_accepts(const struct sockaddr_storage *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = connect(fd, (const struct sockaddr *)addr, sizeof(struct sockaddr_un)) == 0;
    close(fd);
    return ok;
}

void hp__socket_unlink(const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_UNIX) unlink(((const struct sockaddr_un *)addr)->sun_path);
}

int hp__socket_listen_many(const struct sockaddr_storage *addr, size_t count, int *fds, int *port)
{
    if (addr->ss_family == AF_UNIX) {
        *port = 0;
        return listen_unix(addr, count, fds);
    }
    struct sockaddr_storage a = *addr;
    for (size_t i = 0; i < count; i++) {
        int err = open_one(&a, &fds[i]);
        if (err) {
            while (i--) close(fds[i]);
            return err;
        }
        if (i == 0) {
            *port = get_port(fds[0]);
            hp__socket_address_set_port(&a, *port);
        }
    }
    return 0;
}

/* A socket bound without SO_REUSEPORT conflicts with every socket listening on the address (or,
 * for a wildcard, on the port; for a specific address, with a wildcard on the port), whoever
 * owns it. SO_REUSEADDR keeps connections in TIME_WAIT from counting, as libuv binds. IPv6 is
 * bound IPv6-only, as our listening sockets are. */
int hp__socket_probe(const struct sockaddr_storage *addr)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return uv_translate_sys_error(errno);
    int on = 1, err = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (addr->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, (const struct sockaddr *)addr, addr_len(addr)) != 0)
        err = uv_translate_sys_error(errno);
    close(fd);
    return err;
}

bool hp__socket_can_bind(const char *text)
{
    struct sockaddr_storage addr;
    return hp__socket_parse_address(text, &addr) == 0 && addr.ss_family != AF_UNIX &&
           hp__socket_probe(&addr) == 0;
}

bool hp__socket_address_is_wildcard(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return a->ss_family == AF_INET &&
           ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
}

bool hp__socket_addresses_overlap(const struct sockaddr_storage *a,
                                  const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family || a->ss_family == AF_UNIX) return false;
    if (hp__socket_address_port(a) != hp__socket_address_port(b)) return false;
    return hp__socket_address_is_wildcard(a) || hp__socket_address_is_wildcard(b) ||
           hp__socket_address_equal(a, b);
}

const char *hp__socket_url_host(const struct sockaddr_storage *a, char *buf, size_t len)
{
    char text[INET6_ADDRSTRLEN];
    bool every = hp__socket_address_is_wildcard(a);
    if (a->ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
        inet_ntop(AF_INET6, every ? &in6addr_loopback : in6, text, sizeof text);
        snprintf(buf, len, "[%s]", text);
        return every ? "every IPv6 address" : NULL;
    }
    struct in_addr in = ((const struct sockaddr_in *)a)->sin_addr;
    if (every) in.s_addr = htonl(INADDR_LOOPBACK);
    inet_ntop(AF_INET, &in, text, sizeof text);
    snprintf(buf, len, "%s", text);
    return every ? "every IPv4 address" : NULL;
}
