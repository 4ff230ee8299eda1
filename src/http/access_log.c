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

/* The longest line: a JSON one whose every text is at its cap below and escaped six bytes a
 * byte (about 12.9 KiB), so a line is never cut. */
#define LINE_MAX_BYTES 16384

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

/* A line being built for the JSON format: appends with no formatting call per field (the
 * JSON line has fourteen of them: with snprintf the line cost about 4,000 instructions more
 * than the combined one). Texts are cut at their caps; nothing passes `cap`. */
typedef struct line_builder {
    char *base;
    size_t len, cap;
} line_builder;

static void put(line_builder *b, const char *s, size_t n)
{
    if (n > b->cap - b->len) n = b->cap - b->len;
    memcpy(b->base + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put_u64(line_builder *b, uint64_t v, int min_digits)
{
    char digits[24];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < min_digits);
    put(b, digits + sizeof digits - n, (size_t)n);
}

/* A JSON string (printable ASCII as is, '"' and '\' escaped, any other byte as \u00XX, so the
 * line is valid JSON whatever the client sent), or null when empty; at most `max` input bytes. */
static void put_json(line_builder *b, hp_str in, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    if (!in.len) {
        PUT_LIT(b, "null");
        return;
    }
    PUT_LIT(b, "\"");
    for (size_t i = 0; i < in.len && i < max; i++) {
        unsigned char c = (unsigned char)in.base[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (b->len < b->cap) b->base[b->len++] = (char)c;
        } else if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(b, esc, 6);
        }
    }
    PUT_LIT(b, "\"");
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

/* hostpool's own line (access_log.h). */
static int default_line(char *line, const hp__exchange *x, const char *ip, double seconds)
{
    char method[40], target[1024], server[80], host[400], upstream[2 * HP__UPSTREAM_LOG_LEN];
    printable(method, sizeof method, or_dash(x->req.method));
    printable(target, sizeof target, or_dash(x->req.target));
    printable(server, sizeof server, server_name(x));
    printable(host, sizeof host, or_dash(x->req.host));
    upstream[0] = '\0';
    if (x->upstream[0]) {
        upstream[0] = ' ';
        printable(upstream + 1, sizeof upstream - 1, hp__str(x->upstream, strlen(x->upstream)));
    }
    return snprintf(line, LINE_MAX_BYTES, "%s \"%s %s HTTP/1.%d\" %d %llu %.6f %.*s %s %s%s\n", ip,
                    method, target, x->req.version_minor, x->status,
                    (unsigned long long)x->body_bytes, seconds, (int)x->req.request_id.len,
                    x->req.request_id.base, server, host, upstream);
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

static int json_line(char *line, const hp__exchange *x, const char *ip, uint64_t duration_ns,
                     const hp__access_log_time *t, long ms)
{
    line_builder b = {.base = line, .cap = LINE_MAX_BYTES - 2};
    PUT_LIT(&b, "{\"time\":\"");
    put(&b, t->utc, strlen(t->utc));
    PUT_LIT(&b, ".");
    put_u64(&b, (uint64_t)ms, 3);
    PUT_LIT(&b, "Z\",\"server\":");
    put_json(&b, server_name(x), 64);
    PUT_LIT(&b, ",\"host\":");
    put_json(&b, x->req.host, 256);
    PUT_LIT(&b, ",\"client\":");
    put_json(&b, hp__str(ip, strlen(ip)), 64);
    PUT_LIT(&b, ",\"method\":");
    put_json(&b, x->req.method, 32);
    PUT_LIT(&b, ",\"path\":");
    put_json(&b, x->req.path, 512);
    PUT_LIT(&b, ",\"query\":");
    put_json(&b, x->req.query, 512);
    PUT_LIT(&b, ",\"status\":");
    put_u64(&b, (uint64_t)x->status, 1);
    PUT_LIT(&b, ",\"bytes\":");
    put_u64(&b, x->body_bytes, 1);
    PUT_LIT(&b, ",\"duration\":"); /* seconds, to the microsecond */
    put_u64(&b, duration_ns / 1000000000u, 1);
    PUT_LIT(&b, ".");
    put_u64(&b, duration_ns / 1000u % 1000000u, 6);
    PUT_LIT(&b, ",\"request_id\":");
    put_json(&b, x->req.request_id, HP__REQUEST_ID_LEN + 64);
    PUT_LIT(&b, ",\"upstream\":");
    put_json(&b, hp__str(x->upstream, strlen(x->upstream)), HP__UPSTREAM_LOG_LEN);
    PUT_LIT(&b, ",\"referer\":");
    put_json(&b, header_or_empty(&x->req, "referer"), 256);
    PUT_LIT(&b, ",\"user_agent\":");
    put_json(&b, header_or_empty(&x->req, "user-agent"), 256);
    b.cap += 2; /* room kept for the end */
    PUT_LIT(&b, "}\n");
    return (int)b.len;
}

static void log_line(hp__http_context *ctx, const hp_server *server, const hp__exchange *x,
                     uint64_t end_ns)
{
    char ip[64], line[LINE_MAX_BYTES];
    uint64_t duration_ns = x->start_ns ? end_ns - x->start_ns : 0;
    double seconds = (double)duration_ns / 1e9;
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
                : json_line(line, x, ip, duration_ns, &ctx->log_time, now.tv_nsec / 1000000);
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
