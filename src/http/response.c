/* Writing responses: the hp_respond* functions of include/hostpool/request.h, and the 101 of
 * hp_request_upgrade (include/hostpool/upgrade.h), which only that call can send: a status
 * below 200 given to the others is answered 500, as before.
 *
 * A response goes out as one writev where possible: iov[0] is the head the engine builds
 * (status line, Date, framing, X-Request-Id, Connection) in the exchange, iov[1] the headers
 * the handler added plus the blank line, iov[2] the body. The transport tries the write at
 * once; what the socket does not take is queued, and the exchange waits (phase WRITE, under
 * write_timeout) for the completion before the next step (x->after_write).
 *
 * Streams are pulled, not pushed: the producer's proceed() is called when the previous piece
 * is written, so a slow reader slows the producer (back-pressure). A piece written at once
 * leads to the next proceed() from a loop, never by recursion (in_proceed/proceed_again).
 * hp_respond_stream_with starts a stream with its first piece in hand: the head is held
 * (x->head_held) and goes out with that piece in one writev (one syscall, one segment).
 *
 * Files go out with sendfile(2) while the socket takes them; when it would block, the next
 * 64 KiB are read into a buffer and queued, and sendfile resumes after that write.
 *
 * Compression (http/compress_plan.h) is decided as an answer starts, only for a route with a
 * policy (x->compress; every other answer pays one NULL test). A whole body is encoded in one
 * call and sent with the Content-Length of its encoded form (also for HEAD, which gets the
 * head GET would). A stream or a file is encoded as it goes and sent chunked: each piece is
 * run through the encoder into one bounded buffer (ENCODE_CHUNK); a full buffer is written
 * before the encoder takes more (phase WRITE, then HP__AFTER_ENCODE), so the producer's next
 * proceed() waits until its piece is used up and written: the same back-pressure as without
 * compression. A file is read in FILE_CHUNK pieces for it, instead of sendfile. */
#include "http/exchange.h"

#include "common/alloc.h"
#include "common/str.h"
#include "hostpool/errors.h"
#include "http/compress_plan.h"
#include "http/field_syntax.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILE_CHUNK (64 * 1024)
#define ENCODE_CHUNK (16 * 1024)

static hp__exchange *exchange_of(hp_request *req)
{
    return req->exchange;
}

static bool engine_owned(const char *name, size_t len)
{
    hp_str n = hp__str(name, len);
    return hp__str_ieq(n, "date") || hp__str_ieq(n, "content-length") ||
           hp__str_ieq(n, "transfer-encoding") || hp__str_ieq(n, "connection");
}

void hp__exchange_extra_reserve(hp__exchange *x, size_t more)
{
    if (x->extra_len + more <= x->extra_cap) return;
    size_t cap = x->extra_cap ? x->extra_cap : 256;
    while (cap < x->extra_len + more) cap *= 2;
    x->extra = hp__realloc(x->extra, cap);
    x->extra_cap = cap;
}

static void extra_append(hp__exchange *x, const char *p, size_t len)
{
    memcpy(x->extra + x->extra_len, p, len);
    x->extra_len += len;
}

void hp_response_header(hp_request *req, const char *name, size_t name_len, const char *value,
                        size_t value_len)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded || engine_owned(name, name_len)) return;
    hp__exchange_extra_reserve(x, name_len + value_len + 4);
    extra_append(x, name, name_len);
    extra_append(x, ": ", 2);
    extra_append(x, value, value_len);
    extra_append(x, "\r\n", 2);
}

static char *put(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_status_line(char *p, int status)
{
    if (status == 200) return put(p, "HTTP/1.1 200 OK\r\n", 17);
    p = put(p, "HTTP/1.1 ", 9);
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    const char *reason = hp_status_reason(status);
    p = put(p, reason, strlen(reason));
    return put(p, "\r\n", 2);
}

/* The route's header rules (http/header_rules.h) on the fields the answer has so far. */
static void apply_header_rules(hp__exchange *x, const hp__header_rules *rules)
{
    if (x->extra_len) x->extra_len = hp__header_rules_filter(rules, x->extra, x->extra_len);
    hp__exchange_extra_reserve(x, rules->lines_len);
    extra_append(x, rules->lines, rules->lines_len);
}

/* Builds the engine's part of the head. content_length < 0: unknown length. */
static void compose_head(hp__exchange *x, int status, int64_t content_length)
{
    hp__session *s = x->s;
    hp_request *req = &x->req;
    if (status < 200 || status > 999) status = 500;
    x->status = status;
    x->responded = true;
    bool bodiless_status = status == 204 || status == 304;
    x->no_body = req->is_head || bodiless_status;
    x->close_after |= !x->keep_alive || s->draining;
    if (!x->message_done) {
        /* A streaming handler answered before the body's end: what the client still sends
         * is never parsed as a next request; the connection closes (lingering) after this. */
        x->close_after = true;
        s->stop_parsing = true;
    }
    x->chunked = content_length < 0 && req->version_minor == 1 && !bodiless_status;
    if (content_length < 0 && !x->chunked && !bodiless_status) x->close_after = true;

    char *p = put_status_line(x->head, status);
    size_t date_len;
    const char *date = hp__http_date_line(s->ctx, &date_len);
    p = put(p, date, date_len);
    if (!bodiless_status) {
        if (content_length >= 0) {
            p = put(p, "Content-Length: ", 16);
            p = put_u64(p, (uint64_t)content_length);
            p = put(p, "\r\n", 2);
        } else if (x->chunked) {
            p = put(p, "Transfer-Encoding: chunked\r\n", 28);
        }
    }
    p = put(p, "X-Request-Id: ", 14);
    p = put(p, req->request_id.base, req->request_id.len);
    p = put(p, "\r\n", 2);
    if (x->close_after) {
        p = put(p, "Connection: close\r\n", 19);
    } else if (req->version_minor == 0) {
        p = put(p, "Connection: keep-alive\r\n", 24);
    }
    x->head_len = (size_t)(p - x->head);
    if (x->headers) apply_header_rules(x, x->headers);
    hp__exchange_extra_reserve(x, 2);
    extra_append(x, "\r\n", 2);
}

/* Writes iov; returns 1 when written at once, 0 when queued, -1 when the session closed. */
static int submit(hp__exchange *x, struct iovec *iov, unsigned n)
{
    hp__session *s = x->s;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) total += iov[i].iov_len;
    if (total == 0) return 1;
    x->bytes_out += total;
    hp__transport *t = hp__session_transport(s);
    int rc = t->vt->write(t, iov, n);
    if (rc < 0) {
        hp__session_abort(s);
        return -1;
    }
    if (rc == 0) {
        x->writes_pending++;
        s->phase = HP__PHASE_WRITE;
        t->vt->set_timer(t, hp__exchange_server(s->x)->limits.write_timeout_ms);
    }
    return rc;
}

static unsigned head_iov(hp__exchange *x, struct iovec *iov)
{
    iov[0] = (struct iovec){x->head, x->head_len};
    iov[1] = (struct iovec){x->extra, x->extra_len};
    return 2;
}

static void finish(hp__exchange *x)
{
    if (x->in_proceed) {
        x->finish_pending = true;
        return;
    }
    if (x->writes_pending) { /* an interim write is still queued */
        x->after_write = HP__AFTER_FINISH;
        return;
    }
    hp__exchange_finish(x->s, true);
}

/* A whole body, encoded when the plan says so: *body and *len become the encoded form's (in
 * x->encoded). False when the encoder failed and the connection is closed. Out of line, so
 * that hp_respond of a route without compression compiles as it did (callgrind: inlined, its
 * request cost 6 instructions more). */
__attribute__((noinline)) static bool encode_whole(hp__exchange *x, int status, const void **body,
                                                   size_t *len)
{
    hp__coding coding = hp__compress_plan(x, status, (int64_t)*len);
    if (coding == HP__CODING_IDENTITY) return true;
    size_t bound = hp__encode_bound(coding, *len);
    x->encoded = hp__http_buffer_get(x->s->ctx, bound, &x->encoded_cap);
    size_t n = hp__encode_once(coding, x->compress->config.level, *body, *len, x->encoded, bound);
    if (n == 0) {
        hp__session_abort(x->s);
        return false;
    }
    *body = x->encoded;
    *len = n;
    return true;
}

void hp_respond(hp_request *req, int status, const void *body, size_t len)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded) return;
    if (__builtin_expect(x->compress != NULL, 0) && !encode_whole(x, status, &body, &len)) return;
    compose_head(x, status, (int64_t)len);
    struct iovec iov[3];
    unsigned n = head_iov(x, iov);
    if (!x->no_body && len) {
        iov[n++] = (struct iovec){(void *)body, len};
        x->body_bytes = len;
    }
    x->after_write = HP__AFTER_FINISH;
    if (submit(x, iov, n) == 1) finish(x);
}

void hp_respond_copy(hp_request *req, int status, const void *body, size_t len)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded) return;
    if (x->compress) { /* the encoded form lives in the exchange already: no copy needed */
        if (!encode_whole(x, status, &body, &len)) return;
        if (x->encoded) {
            hp_respond(req, status, body, len);
            return;
        }
    }
    compose_head(x, status, (int64_t)len);
    if (!x->no_body && len) {
        hp__exchange_extra_reserve(x, len);
        extra_append(x, body, len); /* right after the blank line that ends the head */
        x->body_bytes = len;
    }
    struct iovec iov[2];
    unsigned n = head_iov(x, iov);
    x->after_write = HP__AFTER_FINISH;
    if (submit(x, iov, n) == 1) finish(x);
}

void hp_respond_error(hp_request *req, int status)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded) return;
    static const char type[] = "text/plain; charset=utf-8";
    hp_response_header(req, "Content-Type", 12, type, sizeof type - 1);
    int n =
        snprintf(x->error_body, sizeof x->error_body, "%d %s\n", status, hp_status_reason(status));
    hp_respond(req, status, x->error_body, (size_t)n);
}

/* ---- streams ------------------------------------------------------------------------------ */

static void encode_pump(hp__exchange *x);

static void call_proceed(hp__exchange *x)
{
    if (x->in_proceed) {
        x->proceed_again = true;
        return;
    }
    x->in_proceed = true;
    do {
        x->proceed_again = false;
        x->producer->proceed(&x->req, x->producer_data);
    } while (x->proceed_again && !x->aborted);
    x->in_proceed = false;
    if (x->aborted) {
        /* The session closed under us; it left the exchange for us to release. */
        hp__exchange_release(x->s->ctx, x);
        return;
    }
    if (x->finish_pending) {
        x->finish_pending = false;
        finish(x);
    }
}

/* The encoder of an answer of unknown encoded length: the length the head then says (-1:
 * chunked), or -2 when the encoder cannot be made (the connection is closed). A HEAD needs
 * none: it sends the head only. */
static int64_t start_encoder(hp__exchange *x, int status, int64_t length)
{
    hp__coding coding = hp__compress_plan(x, status, length);
    if (coding == HP__CODING_IDENTITY) return length;
    if (x->req.is_head) return -1;
    x->encoder = hp__encoder_create(coding, x->compress->config.level);
    if (!x->encoder) {
        hp__session_abort(x->s);
        return -2;
    }
    return -1;
}

/* A streamed response's head composed and its producer set; false: it was answered already. */
static bool start_stream(hp__exchange *x, int status, int64_t content_length,
                         const hp_body_producer *producer, void *data)
{
    if (x->responded) return false;
    x->producer = producer; /* set first: a failed encoder's abort calls its stop() */
    x->producer_data = data;
    int64_t head_length = x->compress ? start_encoder(x, status, content_length) : content_length;
    if (head_length == -2) return false;
    x->stream_left = content_length;
    compose_head(x, status, head_length);
    return true;
}

void hp_respond_stream(hp_request *req, int status, int64_t content_length,
                       const hp_body_producer *producer, void *data)
{
    hp__exchange *x = exchange_of(req);
    if (!start_stream(x, status, content_length, producer, data)) return;
    struct iovec iov[2];
    unsigned n = head_iov(x, iov);
    x->after_write = HP__AFTER_PROCEED;
    if (submit(x, iov, n) == 1) call_proceed(x);
}

void hp_respond_stream_with(hp_request *req, int status, int64_t content_length, const void *first,
                            size_t len, bool last, const hp_body_producer *producer, void *data)
{
    hp__exchange *x = exchange_of(req);
    if (!start_stream(x, status, content_length, producer, data)) return;
    x->head_held = true;
    hp_stream_send(req, first, len, last);
}

/* ---- encoded streams and files ------------------------------------------------------------ */

/* The next chunk of an encoded file as the encoder's input; false when the file shrank under
 * us (the connection is closed). */
static bool read_file_chunk(hp__exchange *x)
{
    if (!x->file_chunk)
        x->file_chunk = hp__http_buffer_get(x->s->ctx, FILE_CHUNK, &x->file_chunk_cap);
    size_t want =
        x->file_remaining < x->file_chunk_cap ? (size_t)x->file_remaining : x->file_chunk_cap;
    ssize_t got = pread(x->file_fd, x->file_chunk, want, (off_t)x->file_offset);
    if (got <= 0) {
        hp__session_abort(x->s);
        return false;
    }
    x->file_offset += (uint64_t)got;
    x->file_remaining -= (uint64_t)got;
    x->enc_in = x->file_chunk;
    x->enc_in_len = (size_t)got;
    x->stream_last = x->file_remaining == 0;
    return true;
}

/* One run of the encoder and the write of what it made; 1 to run again at once, 0 when it
 * waits (a queued write, or the producer's next piece), -1 when the connection closed. */
static int encode_step(hp__exchange *x)
{
    if (x->encode_file && !x->enc_in_len && !x->stream_last && !read_file_chunk(x)) return -1;
    hp__encode_op op = x->stream_last   ? HP__ENCODE_FINISH
                       : x->encode_file ? HP__ENCODE_PROCESS
                                        : HP__ENCODE_FLUSH;
    size_t out_len = 0;
    int used_up = x->enc_in_len || x->stream_last
                      ? hp__encoder_run(x->encoder, &x->enc_in, &x->enc_in_len, op, x->encoded,
                                        x->encoded_cap, &out_len)
                      : 1; /* an empty piece that does not end the body: nothing to encode */
    if (used_up < 0) {
        hp__session_abort(x->s);
        return -1;
    }
    bool end = used_up && x->stream_last, wait_producer = used_up && !end && !x->encode_file;
    struct iovec iov[6];
    unsigned n = 0;
    if (x->head_held) {
        n = head_iov(x, iov);
        x->head_held = false;
    }
    if (x->chunked && out_len) {
        int l = snprintf(x->chunk_line, sizeof x->chunk_line, "%zx\r\n", out_len);
        iov[n++] = (struct iovec){x->chunk_line, (size_t)l};
    }
    if (out_len) iov[n++] = (struct iovec){x->encoded, out_len};
    if (x->chunked && out_len) iov[n++] = (struct iovec){(void *)"\r\n", 2};
    if (x->chunked && end) iov[n++] = (struct iovec){(void *)"0\r\n\r\n", 5};
    x->body_bytes += out_len;
    x->after_write = end ? HP__AFTER_FINISH : wait_producer ? HP__AFTER_PROCEED : HP__AFTER_ENCODE;
    int rc = submit(x, iov, n);
    if (rc != 1) return rc;
    if (end) {
        finish(x);
        return 0;
    }
    if (wait_producer) {
        call_proceed(x);
        return 0;
    }
    return 1;
}

/* Encodes the input in hand (a producer's piece, or the file chunk by chunk) and writes it,
 * until it is used up or a write waits. */
static void encode_pump(hp__exchange *x)
{
    if (!x->encoded) x->encoded = hp__http_buffer_get(x->s->ctx, ENCODE_CHUNK, &x->encoded_cap);
    while (encode_step(x) == 1) {
    }
}

void hp_request_abort(hp_request *req)
{
    hp__session_abort(exchange_of(req)->s);
}

void hp_stream_send(hp_request *req, const void *data, size_t len, bool last)
{
    hp__exchange *x = exchange_of(req);
    if (x->aborted || x->stream_last) return;
    if (x->stream_left >= 0) {
        /* A fixed-length body must be exactly as long as declared: more would be read as the
         * next response by the client, less leaves it waiting. Either way the connection is
         * closed before a wrong byte is written. */
        if ((uint64_t)len > (uint64_t)x->stream_left ||
            (last && (uint64_t)len != (uint64_t)x->stream_left)) {
            x->stream_last = true; /* no stop() for a producer that broke its own promise */
            hp__session_abort(x->s);
            return;
        }
        x->stream_left -= (int64_t)len;
    }
    x->stream_last = last;
    if (x->encoder) {
        x->enc_in = data;
        x->enc_in_len = len;
        encode_pump(x);
        return;
    }
    struct iovec iov[6];
    unsigned n = 0;
    if (x->head_held) {
        n = head_iov(x, iov);
        x->head_held = false;
    }
    if (!x->no_body) {
        if (x->chunked && len) {
            int l = snprintf(x->chunk_line, sizeof x->chunk_line, "%zx\r\n", len);
            iov[n++] = (struct iovec){x->chunk_line, (size_t)l};
        }
        if (len) iov[n++] = (struct iovec){(void *)data, len};
        if (x->chunked && len) iov[n++] = (struct iovec){(void *)"\r\n", 2};
        if (x->chunked && last) iov[n++] = (struct iovec){(void *)"0\r\n\r\n", 5};
        x->body_bytes += len;
    }
    x->after_write = last ? HP__AFTER_FINISH : HP__AFTER_PROCEED;
    int rc = submit(x, iov, n);
    if (rc != 1) return;
    if (last) {
        finish(x);
    } else {
        call_proceed(x);
    }
}

/* ---- files -------------------------------------------------------------------------------- */

static void file_pump(hp__exchange *x)
{
    hp__session *s = x->s;
    while (x->file_remaining > 0) {
        size_t want = x->file_remaining > (1u << 30) ? (1u << 30) : (size_t)x->file_remaining;
        hp__transport *t = hp__session_transport(s);
        ssize_t sent = t->vt->sendfile(t, x->file_fd, x->file_offset, want);
        if (sent > 0) {
            x->file_offset += (uint64_t)sent;
            x->file_remaining -= (uint64_t)sent;
            x->bytes_out += (uint64_t)sent;
            continue;
        }
        if (sent < 0) {
            hp__session_abort(s);
            return;
        }
        /* The socket is full: queue one chunk through the ordinary write path. */
        if (!x->file_chunk)
            x->file_chunk = hp__http_buffer_get(s->ctx, FILE_CHUNK, &x->file_chunk_cap);
        size_t len = want < x->file_chunk_cap ? want : x->file_chunk_cap;
        ssize_t got = pread(x->file_fd, x->file_chunk, len, (off_t)x->file_offset);
        if (got <= 0) { /* the file shrank under us: the promised length cannot be kept */
            hp__session_abort(s);
            return;
        }
        x->file_offset += (uint64_t)got;
        x->file_remaining -= (uint64_t)got;
        x->after_write = x->file_remaining ? HP__AFTER_FILE : HP__AFTER_FINISH;
        struct iovec iov = {x->file_chunk, (size_t)got};
        int rc = submit(x, &iov, 1);
        if (rc != 1) return;
    }
    finish(x);
}

/* A file whose answer the plan encodes: read and encoded chunk by chunk, the head going out
 * with the first encoded bytes. */
static void respond_file_encoded(hp__exchange *x, int status, int fd, uint64_t offset, uint64_t len)
{
    compose_head(x, status, -1);
    if (x->no_body) {
        struct iovec iov[2];
        unsigned n = head_iov(x, iov);
        x->after_write = HP__AFTER_FINISH;
        if (submit(x, iov, n) == 1) finish(x);
        return;
    }
    x->file_fd = fd;
    x->file_offset = offset;
    x->file_remaining = len;
    x->encode_file = true;
    x->head_held = true;
    x->stream_last = len == 0;
    encode_pump(x);
}

void hp_respond_file(hp_request *req, int status, int fd, uint64_t offset, uint64_t len)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded) return;
    if (x->compress) {
        int64_t length = start_encoder(x, status, (int64_t)len);
        if (length == -2) return;
        if (length == -1) {
            respond_file_encoded(x, status, fd, offset, len);
            return;
        }
    }
    compose_head(x, status, (int64_t)len);
    x->file_fd = fd;
    x->file_offset = offset;
    x->file_remaining = x->no_body ? 0 : len;
    x->body_bytes = x->file_remaining;
    struct iovec iov[2];
    unsigned n = head_iov(x, iov);
    x->after_write = HP__AFTER_FILE;
    if (submit(x, iov, n) == 1) file_pump(x);
}

/* ---- upgrade ------------------------------------------------------------------------------ */

static bool upgrade_token_valid(const char *token)
{
    return token && hp__upgrade_protocol_valid(hp__str(token, strlen(token)));
}

int hp_request_upgrade(hp_request *req, const char *token, const hp_upgrade_protocol *protocol,
                       void *data)
{
    hp__exchange *x = exchange_of(req);
    if (x->responded || !x->upgrade_asked || !x->message_done || !protocol ||
        !upgrade_token_valid(token))
        return HP_EINVAL;
    size_t token_len = strlen(token);
    hp__exchange_extra_reserve(x, token_len + 13);
    extra_append(x, "Upgrade: ", 9);
    extra_append(x, token, token_len);
    extra_append(x, "\r\n\r\n", 4);
    x->upgrade = protocol;
    x->upgrade_data = data;
    x->status = 101;
    x->responded = true;
    x->no_body = true;
    char *p = put(x->head, "HTTP/1.1 101 Switching Protocols\r\n", 34);
    size_t date_len;
    const char *date = hp__http_date_line(x->s->ctx, &date_len);
    p = put(p, date, date_len);
    p = put(p, "X-Request-Id: ", 14);
    p = put(p, req->request_id.base, req->request_id.len);
    p = put(p, "\r\nConnection: Upgrade\r\n", 23);
    x->head_len = (size_t)(p - x->head);
    struct iovec iov[2];
    unsigned n = head_iov(x, iov);
    x->after_write = HP__AFTER_FINISH;
    if (submit(x, iov, n) == 1) finish(x);
    return 0;
}

bool hp_request_upgrade_asked(const hp_request *req)
{
    return req->exchange->upgrade_asked;
}

/* A queued write of this exchange completed. */
void hp__exchange_write_done(hp__exchange *x)
{
    /* The interim 100 Continue went out while the request is still arriving: the session stays
     * in HEAD or BODY, under header_timeout. (Setting HANDLER here left a client that never
     * sends its body with no timer at all.) */
    if (x->after_write == HP__AFTER_NOTHING) return;
    x->s->phase = HP__PHASE_HANDLER;
    switch (x->after_write) {
    case HP__AFTER_FINISH:
        finish(x);
        break;
    case HP__AFTER_PROCEED:
        call_proceed(x);
        break;
    case HP__AFTER_FILE:
        file_pump(x);
        break;
    case HP__AFTER_ENCODE:
        encode_pump(x);
        break;
    default:
        break;
    }
}
