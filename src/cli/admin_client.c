/* The admin API's client side: connect, send one request, read one response (admin_client.h).
 *
 * Connecting: "unix:PATH" is an AF_UNIX stream socket; anything else is "HOST:PORT" resolved
 * with getaddrinfo and tried address by address. A failure to connect is the one error that
 * means "the daemon is not reachable"; anything after that is a broken exchange.
 *
 * Reading: llhttp in response mode. on_status collects the reason phrase, on_body either
 * collects the body or (a 2xx answer in streaming mode) hands it on at once, and
 * on_message_complete pauses the parser, which ends the read loop. The daemon closing the
 * connection is llhttp_finish(): the end of a body delimited by the close, or a truncation. */
#include "cli/admin_client.h"

#include "common/alloc.h"

#include <llhttp.h>

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- connecting ---- */

static int connect_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
    snprintf(err, errlen, "%s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

/* Splits "HOST:PORT" or "[V6]:PORT" into its parts (copied into host, port). */
static bool split_host_port(const char *address, char *host, size_t host_len, const char **port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || colon[1] == '\0') return false;
    const char *start = address, *end = colon;
    if (*start == '[' && end[-1] == ']') start++, end--;
    if ((size_t)(end - start) >= host_len) return false;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    *port = colon + 1;
    return true;
}

static int connect_tcp(const char *address, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (!split_host_port(address, host, sizeof host, &port)) {
        snprintf(err, errlen, "not unix:PATH or HOST:PORT");
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

static int open_connection(const char *address, char *err, size_t errlen)
{
    if (strncmp(address, "unix:", 5) == 0) return connect_unix(address + 5, err, errlen);
    return connect_tcp(address, err, errlen);
}

/* ---- sending ---- */

static char *request_text(const hp__admin_client *client, const hp__admin_request *req, size_t *len)
{
    size_t body_len = req->body ? strlen(req->body) : 0;
    size_t cap = 512 + strlen(req->path) + (client->token ? strlen(client->token) : 0) + body_len;
    char *text = hp__malloc(cap);
    int head = snprintf(text, cap,
                        "%s %s HTTP/1.1\r\n"
                        "Host: hostpool\r\n"
                        "User-Agent: hostpool\r\n"
                        "%s%s%s"
                        "%s"
                        "Content-Length: %zu\r\n"
                        "Connection: close\r\n"
                        "\r\n",
                        req->method, req->path, client->token ? "Authorization: Bearer " : "",
                        client->token ? client->token : "", client->token ? "\r\n" : "",
                        req->body ? "Content-Type: application/json\r\n" : "", body_len);
    if (body_len) memcpy(text + head, req->body, body_len);
    *len = (size_t)head + body_len;
    return text;
}

static bool send_all(int fd, const char *data, size_t len, char *err, size_t errlen)
{
    while (len > 0) {
        ssize_t sent = send(fd, data, len, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0) {
            snprintf(err, errlen, "sending the request: %s", strerror(errno));
            return false;
        }
        data += sent;
        len -= (size_t)sent;
    }
    return true;
}

/* ---- reading ---- */

typedef struct reader {
    llhttp_t parser;
    llhttp_settings_t settings;
    const hp__admin_request *req;
    hp__admin_response *resp;
    bool complete;
} reader;

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    *buf = hp__realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static int on_status(llhttp_t *p, const char *at, size_t len)
{
    reader *r = p->data;
    size_t reason_len = strlen(r->resp->reason);
    append(&r->resp->reason, &reason_len, at, len);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    reader *r = p->data;
    bool streamed = r->req->on_body && p->status_code >= 200 && p->status_code < 300;
    if (streamed)
        r->req->on_body(at, len, r->req->arg);
    else
        append(&r->resp->body, &r->resp->body_len, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    reader *r = p->data;
    r->complete = true;
    r->resp->status = p->status_code;
    return HPE_PAUSED; /* the one response we asked for: stop here */
}

static void reader_init(reader *r, const hp__admin_request *req, hp__admin_response *resp)
{
    *r = (reader){.req = req, .resp = resp};
    llhttp_settings_init(&r->settings);
    r->settings.on_status = on_status;
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    llhttp_init(&r->parser, HTTP_RESPONSE, &r->settings);
    r->parser.data = r;
}

/* Feeds what arrives to the parser until the response is complete. */
static hp__admin_result read_response(int fd, reader *r, char *err, size_t errlen)
{
    char buf[16384];
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            snprintf(err, errlen, "reading the answer: %s", strerror(errno));
            return HP__ADMIN_BROKEN;
        }
        llhttp_errno_t rc =
            got == 0 ? llhttp_finish(&r->parser) : llhttp_execute(&r->parser, buf, (size_t)got);
        if (r->complete) return HP__ADMIN_OK;
        if (rc != HPE_OK) {
            snprintf(err, errlen, "a malformed answer: %s", llhttp_get_error_reason(&r->parser));
            return HP__ADMIN_BROKEN;
        }
        if (got == 0) {
            snprintf(err, errlen, "the connection closed before the answer was complete");
            return HP__ADMIN_BROKEN;
        }
    }
}

hp__admin_result hp__admin_exchange(const hp__admin_client *client, const hp__admin_request *req,
                                    hp__admin_response *out, char *err, size_t errlen)
{
    *out = (hp__admin_response){.reason = hp__strdup(""), .body = hp__strdup("")};
    int fd = open_connection(client->address, err, errlen);
    if (fd < 0) return HP__ADMIN_UNREACHABLE;
    size_t len;
    char *text = request_text(client, req, &len);
    char send_err[256];
    bool sent = send_all(fd, text, len, send_err, sizeof send_err);
    free(text);
    /* Read even when sending failed: the daemon may have answered (401, 413) and closed. */
    reader r;
    reader_init(&r, req, out);
    hp__admin_result result = read_response(fd, &r, err, errlen);
    if (result != HP__ADMIN_OK && !sent) snprintf(err, errlen, "%s", send_err);
    close(fd);
    return result;
}

void hp__admin_response_close(hp__admin_response *resp)
{
    free(resp->reason);
    free(resp->body);
    *resp = (hp__admin_response){0};
}
