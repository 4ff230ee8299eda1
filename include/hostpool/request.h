/* The request a handler receives, and the calls that answer it.
 *
 * Threading: a request lives on one worker loop; every function here must be called on that
 * loop's thread (from the handler's on_request, or from a callback of that loop).
 *
 * Lifetime: the hp_request and every hp_str in it are borrowed. They stay valid from
 * on_request until the response is complete (all bytes written) or aborted (the client went
 * away), which is signalled by the callback registered with hp_request_on_done(). After that
 * the request must not be touched.
 *
 * Answering: a handler answers exactly once, with one of hp_respond(), hp_respond_file() or
 * hp_respond_stream(), possibly after adding headers with hp_response_header(). It may answer
 * later (asynchronously), from its own callback on the same loop. The engine adds the status
 * line, Date, Content-Length or Transfer-Encoding, Connection and X-Request-Id itself; for
 * HEAD it sends the headers of the answer without its body.
 *
 * The path: routes match, and handlers see, one normalized form of the target's path, made
 * once per request by the engine (src/core/url_path.h): escapes of the bytes a path segment
 * may hold as they are (letters, digits, "-._~!$&'()*+,;=:@") decoded, every other byte as
 * %XX in uppercase hex, dot segments resolved, repeated slashes merged. An escaped slash
 * (%2F) stays "%2F", a byte of its segment, never a separator. So "/x/../a", "//a" and
 * "/%61" are all "/a", the path is printable ASCII, and a handler that splits it at '/' and
 * decodes each segment gets the names the client meant. The engine answers 400 for a path
 * that climbs above the root ("/../x"), holds a NUL (%00) or a malformed escape. `target`
 * keeps the bytes as sent, for the access log and for forwarding. */
#ifndef HOSTPOOL_REQUEST_H
#define HOSTPOOL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte string, not NUL-terminated. */
typedef struct hp_str {
    const char *base;
    size_t len;
} hp_str;

#define HP_STR_LIT(s) ((hp_str){(s), sizeof(s) - 1})

typedef struct hp_header {
    hp_str name;  /* as sent (case preserved) */
    hp_str value; /* leading and trailing whitespace removed */
} hp_header;

typedef struct hp_request {
    hp_str method;     /* "GET" */
    hp_str target;     /* the request-target as sent (raw): origin-form, absolute-form or "*" */
    hp_str path;       /* the target's path, normalized (above), no query; "*" for "*" */
    hp_str query;      /* after '?', without it, as sent; empty when none */
    hp_str host;       /* the Host header, or the authority of an absolute-form target */
    hp_str request_id; /* the client's sane X-Request-Id, or one generated for this request */
    int method_id;     /* llhttp's method number (HTTP_GET ...) */
    int version_minor; /* HTTP/1.<version_minor>: 0 or 1 */
    const hp_header *headers;
    size_t header_count;
    hp_str body;     /* the whole request body, already de-chunked; empty when none or when
                      * the handler streams it (hp_request_body_pull) */
    bool is_head;    /* HEAD: the engine will drop the body of the answer */
    unsigned worker; /* index of the worker loop this request runs on, < HP_MAX_WORKERS */
    struct hp__exchange *exchange; /* engine-private */
} hp_request;

#define HP_MAX_WORKERS 64

/* The value of the first header named `name` (case-insensitive), or NULL. Borrowed. */
const hp_str *hp_request_header(const hp_request *req, const char *name);

/* The client's IP address as text ("192.0.2.1", "2001:db8::1") into `buf` (NUL-terminated;
 * 46 bytes hold any); returns its length, or 0 when there is none (a unix socket client). */
size_t hp_request_client_ip(const hp_request *req, char *buf, size_t len);

/* Names the upstream target (an address) that answers this request, for the access log's last
 * field; copied (at most 63 bytes). A proxy calls it for each target it tries. */
void hp_request_set_upstream(hp_request *req, const char *target);

/* Adds a response header; name and value are copied. Call before answering. Headers the
 * engine owns (Date, Content-Length, Transfer-Encoding, Connection) are ignored. */
void hp_response_header(hp_request *req, const char *name, size_t name_len, const char *value,
                        size_t value_len);

/* Answers with a complete body. `body` is borrowed until the done callback (or, if none is
 * registered, must outlive the handler, as a prebuilt body does). */
void hp_respond(hp_request *req, int status, const void *body, size_t len);

/* Answers with a complete body that is copied first, so it may live on the caller's stack:
 * for answers built per request. Still one write (the copy goes after the headers). */
void hp_respond_copy(hp_request *req, int status, const void *body, size_t len);

/* Answers with a short text body "<status> <reason>\n" and a text/plain content type. */
void hp_respond_error(hp_request *req, int status);

/* Answers with `len` bytes of the open file `fd` from `offset`, sent with sendfile(2) where
 * the socket accepts it. `fd` is borrowed until the done callback; the handler closes it. */
void hp_respond_file(hp_request *req, int status, int fd, uint64_t offset, uint64_t len);

/* A streaming body: the handler produces the body in pieces, with back-pressure.
 * After hp_respond_stream() the engine calls proceed() whenever it is ready for the next
 * piece (first right away); the handler then calls hp_stream_send() once, now or later.
 * The data passed to hp_stream_send() is borrowed until the next proceed() or stop().
 * stop() is called instead of proceed() when the client went away; the handler must then
 * release what it holds and not call hp_stream_send() again. */
typedef struct hp_body_producer {
    void (*proceed)(hp_request *req, void *data);
    void (*stop)(hp_request *req, void *data);
} hp_body_producer;

/* content_length < 0: the body is sent chunked (HTTP/1.1) or delimited by closing the
 * connection (HTTP/1.0). */
void hp_respond_stream(hp_request *req, int status, int64_t content_length,
                       const hp_body_producer *producer, void *data);
/* hp_respond_stream with the body's first piece in hand (as hp_stream_send's arguments): the
 * head and that piece go out in one write (one syscall, one segment), then proceed() comes as
 * after any piece (or nothing, when `last`). */
void hp_respond_stream_with(hp_request *req, int status, int64_t content_length, const void *first,
                            size_t len, bool last, const hp_body_producer *producer, void *data);
/* One piece of a streamed body; `last` ends the body (len may be 0 then). */
void hp_stream_send(hp_request *req, const void *data, size_t len, bool last);

/* ---- the request body, streamed ----
 *
 * A handler whose vtable sets `stream_request_body` (handler.h) is called as soon as the
 * request's head is complete, before its body, and pulls the body in pieces with
 * back-pressure: the mirror of hp_body_producer. Each hp_request_body_pull() asks for one
 * piece; consumer->on_data() is called once for it, now (before the pull returns, when bytes
 * are buffered) or when bytes arrive. While the handler does not ask, the engine parses
 * nothing more and stops reading once its read buffer is full (max_header_bytes + 4 KiB),
 * so a slow handler holds no more than that. `Expect: 100-continue` is answered at the first
 * pull (or hp_request_body_read_all), never if the handler answers first.
 *
 * A handler may answer at any time, body read or not; when the body was not read to its end,
 * the connection is closed once the answer is written (what the client still sends is never
 * read as a next request). max_body_bytes applies: past it the consumer hears -EMSGSIZE and
 * the engine answers 413 if the handler has not answered yet (400 and -EPROTO for a body
 * whose chunked framing is broken, 408 and -ETIMEDOUT for a client that stops sending). The
 * client closing or resetting the connection before the body's end is reported at once:
 * on_error(-ECONNRESET), then the done callback with ok = false. */
typedef struct hp_body_consumer {
    /* One piece of the body, `len` > 0 bytes borrowed for the call; or the end: len 0. */
    void (*on_data)(hp_request *req, void *data, const void *bytes, size_t len);
    /* The body cannot be read to its end (a negative errno, above); no call follows. */
    void (*on_error)(hp_request *req, void *data, int err);
} hp_body_consumer;

/* Asks for the next piece of the body (or its end). `consumer` is borrowed until its call.
 * Ignored once the end or an error was told, or after the answer. */
void hp_request_body_pull(hp_request *req, const hp_body_consumer *consumer, void *data);

/* Reads the whole body into req->body (at most max_body_bytes), then calls `cb(req, data)`:
 * today's behaviour, for a streaming handler that wants the body whole after all (call it
 * instead of any pull). The engine reads the body of every handler that does not stream
 * through this same helper. When the body cannot be read, the engine answers (413, 400, 408)
 * or the client is gone, and `cb` is never called. */
typedef void (*hp_body_complete_cb)(hp_request *req, void *data);
void hp_request_body_read_all(hp_request *req, hp_body_complete_cb cb, void *data);

/* Registers the one callback called when the exchange ends: the response was written
 * completely (ok = true) or the connection was lost or timed out (ok = false). It is where a
 * handler releases what it lent to the engine. Calling it again replaces the callback. */
typedef void (*hp_done_cb)(hp_request *req, bool ok, void *data);
void hp_request_on_done(hp_request *req, hp_done_cb cb, void *data);

/* Gives up on the exchange: the connection is closed at once, whatever of the response was
 * not written yet is dropped, stop() is called for a streamed body and the done callback with
 * ok = false. For a handler that cannot finish what it began (a stream whose client is too
 * slow, a source that failed midway); `req` must not be touched after it. */
void hp_request_abort(hp_request *req);

/* The reason phrase of a status code ("Not Found"), "Unknown" for unknown codes. */
const char *hp_status_reason(int status);

#endif
