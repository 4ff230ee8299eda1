#include "http/access_log.h"

#include "common/str.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Target bytes as printable ASCII; anything else (and the quote) is escaped as \xHH. */
static size_t printable(char *out, size_t cap, hp_str in)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)in.base[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out[n++] = (char)c;
        } else {
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        }
    }
    out[n] = '\0';
    return n;
}

static void log_line(const hp__session *s, const hp__exchange *x, uint64_t end_ns)
{
    char ip[64], method[40], target[1024], server[80], upstream[2 * HP__UPSTREAM_LOG_LEN];
    char line[1600];
    double seconds = x->start_ns ? (double)(end_ns - x->start_ns) / 1e9 : 0.0;
    if (!hp_request_client_ip(&x->req, ip, sizeof ip)) snprintf(ip, sizeof ip, "-");
    printable(method, sizeof method, x->req.method.len ? x->req.method : HP_STR_LIT("-"));
    printable(target, sizeof target, x->req.target.len ? x->req.target : HP_STR_LIT("-"));
    const char *name = x->server ? x->server->name : "-";
    printable(server, sizeof server, hp__str(name, strlen(name)));
    upstream[0] = '\0';
    if (x->upstream[0]) {
        upstream[0] = ' ';
        printable(upstream + 1, sizeof upstream - 1, hp__str(x->upstream, strlen(x->upstream)));
    }
    int n =
        snprintf(line, sizeof line, "%s \"%s %s HTTP/1.%d\" %d %llu %.6f %.*s %s%s\n", ip, method,
                 target, x->req.version_minor, x->status, (unsigned long long)x->body_bytes,
                 seconds, (int)x->req.request_id.len, x->req.request_id.base, server, upstream);
    if (n > (int)sizeof line) n = (int)sizeof line;
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}

void hp__access_log_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns)
{
    if (answered && hp__exchange_server(x)->access_log) log_line(x->s, x, end_ns);
}
