/* Reading one HTTP/1.x response from a hp_test_conn.
 *
 * The reader is deliberately strict about what the server sends (CRLF line ends, a numeric
 * three-digit status, "name: value" header lines) because the server under test is ours; it
 * is lenient only where HTTP allows choice (reason phrase, header case, optional whitespace).
 * Body rules (RFC 9112 section 6.3): no body for answers to HEAD and for 1xx, 204 and 304;
 * else chunked when Transfer-Encoding ends in chunked, else Content-Length, else until close.
 * The bytes of the response are consumed from conn->buf; anything after it stays there. */
#include "hp_test_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER_SECTION (256 * 1024)

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) (*p)++, (*n)--;
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t')) (*n)--;
}

void hp_test_response_free(hp_test_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->reason);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

const char *hp_test_response_header(const hp_test_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0) return resp->headers[i].value;
    return NULL;
}

size_t hp_test_response_header_count(const hp_test_response *resp, const char *name)
{
    size_t count = 0;
    for (size_t i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0) count++;
    return count;
}

bool hp_test_response_header_has(const hp_test_response *resp, const char *name, const char *token)
{
    size_t token_len = strlen(token);
    for (size_t i = 0; i < resp->header_count; i++) {
        if (strcasecmp(resp->headers[i].name, name) != 0) continue;
        const char *p = resp->headers[i].value;
        while (*p) {
            const char *end = strchr(p, ',');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            const char *item = p;
            trim(&item, &n);
            if (n == token_len && strncasecmp(item, token, n) == 0) return true;
            p = end ? end + 1 : p + strlen(p);
        }
    }
    return false;
}

/* Parses the status line and header lines in text[0, len) (the section without its final
 * empty line). Returns HP_TEST_OK or HP_TEST_MALFORMED. */
static int parse_head(const char *text, size_t len, hp_test_response *resp)
{
    const char *end = text + len;
    const char *eol = memmem(text, len, "\r\n", 2);
    if (eol == NULL) eol = end;
    size_t line_len = (size_t)(eol - text);
    if (line_len < 12 || memcmp(text, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)text[7]) ||
        text[8] != ' ' || !isdigit((unsigned char)text[9]) || !isdigit((unsigned char)text[10]) ||
        !isdigit((unsigned char)text[11]) || (line_len > 12 && text[12] != ' '))
        return HP_TEST_MALFORMED;
    resp->version_minor = text[7] - '0';
    resp->status = (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
    resp->reason = line_len > 13 ? dup_range(text + 13, line_len - 13) : dup_range("", 0);

    size_t cap = 0;
    for (const char *line = eol + 2; line < end;) {
        const char *next = memmem(line, (size_t)(end - line), "\r\n", 2);
        const char *line_end = next ? next : end;
        const char *colon = memchr(line, ':', (size_t)(line_end - line));
        if (colon == NULL || colon == line) return HP_TEST_MALFORMED;
        for (const char *c = line; c < colon; c++)
            if (!isgraph((unsigned char)*c)) return HP_TEST_MALFORMED;
        const char *value = colon + 1;
        size_t value_len = (size_t)(line_end - value);
        trim(&value, &value_len);
        if (resp->header_count == cap) {
            cap = cap ? cap * 2 : 16;
            resp->headers = realloc(resp->headers, cap * sizeof *resp->headers);
        }
        resp->headers[resp->header_count].name = dup_range(line, (size_t)(colon - line));
        resp->headers[resp->header_count].value = dup_range(value, value_len);
        resp->header_count++;
        line = next ? next + 2 : end;
    }
    return HP_TEST_OK;
}

static bool has_body(const hp_test_response *resp, bool to_head)
{
    return !to_head && resp->status >= 200 && resp->status != 204 && resp->status != 304;
}

/* Is chunked the final transfer coding? */
static bool is_chunked(const hp_test_response *resp)
{
    const char *te = hp_test_response_header(resp, "Transfer-Encoding");
    if (te == NULL) return false;
    size_t n = strlen(te);
    return n >= 7 && strcasecmp(te + n - 7, "chunked") == 0;
}

static void append_body(hp_test_response *resp, const char *data, size_t n)
{
    resp->body = realloc(resp->body, resp->body_len + n + 1);
    memcpy(resp->body + resp->body_len, data, n);
    resp->body_len += n;
    resp->body[resp->body_len] = '\0';
}

/* Waits for more bytes; maps a close to TRUNCATED (we are inside a response). */
static int need_more(hp_test_conn *conn, int64_t deadline)
{
    int rc = hp_test__fill(conn, deadline);
    return rc == HP_TEST_CLOSED ? HP_TEST_TRUNCATED : rc;
}

/* Decodes a chunked body starting at conn->buf[*pos]; on success *pos is past the trailers. */
static int read_chunked(hp_test_conn *conn, size_t *pos, hp_test_response *resp, int64_t deadline)
{
    for (;;) {
        char *eol;
        while ((eol = memmem(conn->buf + *pos, conn->len - *pos, "\r\n", 2)) == NULL) {
            int rc = need_more(conn, deadline);
            if (rc != HP_TEST_OK) return rc;
        }
        char *after;
        unsigned long long size = strtoull(conn->buf + *pos, &after, 16);
        if (after == conn->buf + *pos || (after != eol && *after != ';')) return HP_TEST_MALFORMED;
        size_t data_start = (size_t)(eol + 2 - conn->buf);
        if (size == 0) { /* trailers until an empty line */
            *pos = data_start;
            for (;;) {
                while ((eol = memmem(conn->buf + *pos, conn->len - *pos, "\r\n", 2)) == NULL) {
                    int rc = need_more(conn, deadline);
                    if (rc != HP_TEST_OK) return rc;
                }
                size_t line_len = (size_t)(eol - (conn->buf + *pos));
                *pos += line_len + 2;
                if (line_len == 0) return HP_TEST_OK;
            }
        }
        while (conn->len < data_start + size + 2) {
            int rc = need_more(conn, deadline);
            if (rc != HP_TEST_OK) return rc;
        }
        if (memcmp(conn->buf + data_start + size, "\r\n", 2) != 0) return HP_TEST_MALFORMED;
        append_body(resp, conn->buf + data_start, size);
        *pos = data_start + size + 2;
    }
}

static int read_body(hp_test_conn *conn, size_t *pos, hp_test_response *resp, bool to_head,
                     int64_t deadline)
{
    append_body(resp, "", 0); /* the body is never NULL */
    if (!has_body(resp, to_head)) return HP_TEST_OK;
    if (is_chunked(resp)) {
        resp->chunked = true;
        return read_chunked(conn, pos, resp, deadline);
    }
    const char *cl = hp_test_response_header(resp, "Content-Length");
    if (cl != NULL) {
        char *after;
        unsigned long long n = strtoull(cl, &after, 10);
        if (after == cl || *after != '\0' || !isdigit((unsigned char)cl[0]))
            return HP_TEST_MALFORMED;
        while (conn->len - *pos < n) {
            int rc = need_more(conn, deadline);
            if (rc != HP_TEST_OK) return rc;
        }
        append_body(resp, conn->buf + *pos, n);
        *pos += n;
        return HP_TEST_OK;
    }
    resp->close_delimited = true;
    for (;;) {
        int rc = hp_test__fill(conn, deadline);
        if (rc == HP_TEST_CLOSED) break;
        if (rc != HP_TEST_OK) return rc;
    }
    append_body(resp, conn->buf + *pos, conn->len - *pos);
    *pos = conn->len;
    return HP_TEST_OK;
}

int hp_test_read_response(hp_test_conn *conn, hp_test_response *resp, bool to_head, int timeout_ms)
{
    memset(resp, 0, sizeof *resp);
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    char *head_end;
    while ((head_end = memmem(conn->buf ? conn->buf : "", conn->len, "\r\n\r\n", 4)) == NULL) {
        if (conn->len > MAX_HEADER_SECTION) return HP_TEST_MALFORMED;
        int rc = hp_test__fill(conn, deadline);
        if (rc == HP_TEST_CLOSED) return conn->len == 0 ? HP_TEST_CLOSED : HP_TEST_TRUNCATED;
        if (rc != HP_TEST_OK) return rc;
    }
    size_t head_len = (size_t)(head_end - conn->buf);
    int rc = parse_head(conn->buf, head_len, resp);
    size_t pos = head_len + 4;
    if (rc == HP_TEST_OK) rc = read_body(conn, &pos, resp, to_head, deadline);
    if (rc != HP_TEST_OK) {
        hp_test_response_free(resp);
        return rc;
    }
    memmove(conn->buf, conn->buf + pos, conn->len - pos);
    conn->len -= pos;
    conn->buf[conn->len] = '\0';
    return HP_TEST_OK;
}
