#include "http/access_log.h"

#include "common/log.h"
#include "common/str.h"
#include "http/context.h"
#include "http/server.h"
#include "io/log_writer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

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

/* A JSON string's content: printable ASCII as is, '"' and '\' escaped, any other byte as
 * \u00XX (so the line is valid JSON whatever the client sent). */
static size_t json_text(char *out, size_t cap, hp_str in)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len && n + 7 < cap; i++) {
        unsigned char c = (unsigned char)in.base[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out[n++] = (char)c;
        } else {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        }
    }
    out[n] = '\0';
    return n;
}

static hp_str header_or_empty(const hp_request *req, const char *name)
{
    const hp_str *v = hp_request_header(req, name);
    return v ? *v : (hp_str){0};
}

static hp_str or_dash(hp_str s)
{
    return s.len ? s : HP_STR_LIT("-");
}

static hp_str server_name(const hp__exchange *x)
{
    const char *name = x->server ? x->server->name : "-";
    return hp__str(name, strlen(name));
}

/* hostpool's own line (access_log.h), as it always was. */
static int default_line(char *line, const hp__exchange *x, const char *ip, double seconds)
{
    char method[40], target[1024], server[80], upstream[2 * HP__UPSTREAM_LOG_LEN];
    printable(method, sizeof method, or_dash(x->req.method));
    printable(target, sizeof target, or_dash(x->req.target));
    printable(server, sizeof server, server_name(x));
    upstream[0] = '\0';
    if (x->upstream[0]) {
        upstream[0] = ' ';
        printable(upstream + 1, sizeof upstream - 1, hp__str(x->upstream, strlen(x->upstream)));
    }
    return snprintf(line, LINE_MAX_BYTES, "%s \"%s %s HTTP/1.%d\" %d %llu %.6f %.*s %s%s\n", ip,
                    method, target, x->req.version_minor, x->status,
                    (unsigned long long)x->body_bytes, seconds, (int)x->req.request_id.len,
                    x->req.request_id.base, server, upstream);
}

/* The wall clock's second as both formats write it, formatted once a second per worker. */
static void refresh_time(hp__access_log_time *t, time_t now)
{
    if (t->second == now && t->local[0]) return;
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(t->local, sizeof t->local, "%d/%b/%Y:%H:%M:%S %z", &tm);
    gmtime_r(&now, &tm);
    strftime(t->utc, sizeof t->utc, "%Y-%m-%dT%H:%M:%S", &tm);
    t->second = now;
}

/* Apache/nginx combined, then the server's name and the Host as two more quoted fields:
 *   client - - [time] "METHOD target HTTP/1.x" status bytes "referer" "user-agent" "server"
 *   "host" */
static int combined_line(char *line, const hp__exchange *x, const char *ip,
                         const hp__access_log_time *t)
{
    char method[40], target[1024], referer[512], agent[512], server[80], host[264];
    printable(method, sizeof method, or_dash(x->req.method));
    printable(target, sizeof target, or_dash(x->req.target));
    printable(referer, sizeof referer, or_dash(header_or_empty(&x->req, "referer")));
    printable(agent, sizeof agent, or_dash(header_or_empty(&x->req, "user-agent")));
    printable(server, sizeof server, server_name(x));
    printable(host, sizeof host, or_dash(x->req.host));
    return snprintf(line, LINE_MAX_BYTES,
                    "%s - - [%s] \"%s %s HTTP/1.%d\" %d %llu \"%s\" \"%s\" \"%s\" \"%s\"\n", ip,
                    t->local, method, target, x->req.version_minor, x->status,
                    (unsigned long long)x->body_bytes, referer, agent, server, host);
}

/* A JSON string, or null when empty. */
static const char *json_or_null(char *buf, size_t cap, hp_str s)
{
    if (!s.len) return "null";
    buf[0] = '"';
    size_t n = json_text(buf + 1, cap - 2, s);
    buf[n + 1] = '"';
    buf[n + 2] = '\0';
    return buf;
}

static int json_line(char *line, const hp__exchange *x, const char *ip, double seconds,
                     const hp__access_log_time *t, long ms)
{
    char server[200], host[400], method[64], path[1100], query[1100], referer[600], agent[600],
        upstream[3 * HP__UPSTREAM_LOG_LEN], client[64];
    const char *up = x->upstream[0] ? json_or_null(upstream, sizeof upstream,
                                                   hp__str(x->upstream, strlen(x->upstream)))
                                    : "null";
    return snprintf(
        line, LINE_MAX_BYTES,
        "{\"time\":\"%s.%03ldZ\",\"server\":%s,\"host\":%s,\"client\":%s,\"method\":%s,"
        "\"path\":%s,\"query\":%s,\"status\":%d,\"bytes\":%llu,\"duration\":%.6f,"
        "\"request_id\":\"%.*s\",\"upstream\":%s,\"referer\":%s,\"user_agent\":%s}\n",
        t->utc, ms, json_or_null(server, sizeof server, server_name(x)),
        json_or_null(host, sizeof host, x->req.host),
        json_or_null(client, sizeof client, hp__str(ip, strlen(ip))),
        json_or_null(method, sizeof method, x->req.method),
        json_or_null(path, sizeof path, x->req.path), json_or_null(query, sizeof query, x->req.query),
        x->status, (unsigned long long)x->body_bytes, seconds, (int)x->req.request_id.len,
        x->req.request_id.base, up,
        json_or_null(referer, sizeof referer, header_or_empty(&x->req, "referer")),
        json_or_null(agent, sizeof agent, header_or_empty(&x->req, "user-agent")));
}

static void log_line(hp__http_context *ctx, const hp_server *server, const hp__exchange *x,
                     uint64_t end_ns)
{
    char ip[64], line[LINE_MAX_BYTES];
    double seconds = x->start_ns ? (double)(end_ns - x->start_ns) / 1e9 : 0.0;
    if (!hp_request_client_ip(&x->req, ip, sizeof ip)) snprintf(ip, sizeof ip, "-");
    int n;
    if (server->access_log_format == HP_ACCESS_LOG_DEFAULT) {
        n = default_line(line, x, ip, seconds);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        refresh_time(&ctx->log_time, now.tv_sec);
        n = server->access_log_format == HP_ACCESS_LOG_COMBINED
                ? combined_line(line, x, ip, &ctx->log_time)
                : json_line(line, x, ip, seconds, &ctx->log_time, now.tv_nsec / 1000000);
    }
    if (n >= (int)sizeof line) { /* cut: still one line */
        n = (int)sizeof line;
        line[n - 1] = '\n';
    }
    if (server->access_log_file) {
        if (ctx->log_writer)
            hp__log_writer_append(ctx->log_writer, server->access_log_file,
                                  server->access_log_buffer, line, (size_t)n);
        return;
    }
    ssize_t ignored = write(hp__log_stderr_fd(), line, (size_t)n);
    (void)ignored;
}

void hp__access_log_exchange(void *data, const hp__exchange *x, bool answered, uint64_t end_ns)
{
    const hp_server *server = hp__exchange_server(x);
    if (answered && server->access_log) log_line(data, server, x, end_ns);
}
