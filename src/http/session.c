/* The HTTP/1.1 session: parsing, framing rules, limits and the exchange lifecycle.
 * The state machine and the transport contract are described in session.h.
 *
 * Buffer invariant: the message being parsed always starts at rbuf[0]. Bytes after the end of
 * a finished exchange (pipelined requests) are moved to the front when it finishes, before
 * they are parsed, so the pointers of a request into rbuf never move. Body bytes are copied
 * out as they are parsed and dropped from rbuf, so a body never fills it.
 *
 * Framing (no request smuggling): llhttp, compiled in its strict mode (cmake/FindLLHTTP.cmake),
 * rejects Content-Length with Transfer-Encoding, repeated or malformed Content-Length, a
 * Transfer-Encoding whose last coding is not chunked, bad chunk sizes, a line or a chunk not
 * ended by CRLF, bare CR, NUL and the other controls in a value, and whitespace in a field name.
 * What it lets through, we refuse: every field line, trailers included, must pass
 * hp__field_valid (field_syntax.h: the one definition of a valid field, which also catches an
 * empty name, and obs-fold, which llhttp folds into the value with its CRLF); a request line
 * without a version (HTTP/0.9) at once, instead of waiting for a header section that will never
 * come; a Host (or the authority of an absolute-form target) that is not a valid
 * uri-host[:port]; a missing Host on HTTP/1.1; a second line of a field read as one value
 * (field_kind below); Transfer-Encoding on HTTP/1.0. Every such error is answered 400 and the
 * connection is closed after the answer. HTTP/1.2 and later minor versions are processed as
 * HTTP/1.1 (RFC 9110 §2.5); another major version is answered 505 as soon as the request line
 * ends. */
#include "http/exchange.h"
#include "http/hooks.h"

#include "common/alloc.h"
#include "common/str.h"
#include "core/url_path.h"
#include "http/field_syntax.h"
#include "http/upgraded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const llhttp_settings_t parser_settings;
static const hp__protocol_vtable http1_protocol;

static bool closed(const hp__session *s)
{
    return s->phase == HP__PHASE_CLOSED;
}

static void t_set_timer(hp__session *s, uint64_t ms)
{
    hp__transport *t = hp__session_transport(s);
    t->vt->set_timer(t, ms);
}

static void t_set_reading(hp__session *s, bool reading)
{
    hp__transport *t = hp__session_transport(s);
    t->vt->set_reading(t, reading);
}

static hp__session *session_of(llhttp_t *p)
{
    return p->data;
}

static uint32_t rbuf_offset(hp__session *s, const char *end)
{
    return (uint32_t)(end - s->rbuf);
}

/* Records a callback's verdict and stops the parser. */
static int reject(hp__exchange *x, int status)
{
    if (!x->error_status) x->error_status = (uint16_t)status;
    return HPE_USER;
}

/* Extends a span with data that continues it; the read buffer is contiguous. */
static void span_extend(hp_str *span, const char *at, size_t len)
{
    if (!span->base) span->base = at;
    span->len = (size_t)(at + len - span->base);
}

/* ---- exchanges ---------------------------------------------------------------------------- */

/* An exchange from the worker's freelist for the request that begins: no longer idle. */
static hp__exchange *exchange_get(hp__session *s)
{
    hp__exchange *x = hp__exchange_new(s->ctx);
    hp__counter_sub(&s->gauges->idle, 1);
    x->s = s;
    return x;
}

static void release_rbuf(hp__session *s)
{
    if (!s->rbuf) return;
    hp__http_buffer_put(s->ctx, s->rbuf, s->rcap);
    s->rbuf = NULL;
    s->rcap = s->rend = s->rparsed = 0;
}

/* ---- closing ------------------------------------------------------------------------------ */

/* Called once the exchange is gone from the session (s->x is NULL). */
static void exchange_ended(hp__session *s, const hp_server *server)
{
    if (s->ctx->exchange_ended) s->ctx->exchange_ended(s->ctx, server);
}

/* Closes the connection; with `linger` see hp__transport_vtable.close. */
static void close_connection(hp__session *s, bool linger)
{
    if (closed(s)) return;
    s->phase = HP__PHASE_CLOSED;
    hp__exchange *x = s->x;
    if (x) {
        x->responded = true; /* the handler's calls below may not answer any more */
        hp__body_failed(x, -ECONNRESET);
        if (x->producer && !x->stream_last) x->producer->stop(&x->req, x->producer_data);
        if (x->done_cb) x->done_cb(&x->req, false, x->done_data);
        x->done_cb = NULL;
        /* A 101 not written yet: the protocol that was to take over hears it never will. */
        if (x->upgrade && x->upgrade->on_cancel) x->upgrade->on_cancel(x->upgrade_data);
        const hp_server *server = x->server;
        hp__exchange_observe(s->ctx, x, false, 0);
        if (x->in_proceed) {
            x->aborted = true; /* released by the proceed loop that is on the stack */
        } else {
            hp__exchange_release(s->ctx, x);
        }
        s->x = NULL;
        exchange_ended(s, server);
    } else {
        hp__counter_sub(&s->gauges->idle, 1);
    }
    release_rbuf(s);
    s->ctx->connections_open--;
    hp__counter_sub(&s->gauges->open, 1);
    hp__transport *t = hp__session_transport(s);
    t->vt->close(t, linger);
}

static void session_close(hp__session *s)
{
    close_connection(s, false);
}

void hp__session_abort(hp__session *s)
{
    session_close(s);
}

/* ---- the read side ------------------------------------------------------------------------ */

void hp__session_init(hp__connection *c, hp__http_context *ctx, hp__vhosts *const *vhosts,
                      hp__conn_gauges *gauges)
{
    hp__session *s = &c->http1;
    memset(s, 0, sizeof *s);
    s->protocol.vt = &http1_protocol;
    c->transport.protocol = &s->protocol;
    llhttp_init(&s->parser, HTTP_REQUEST, &parser_settings);
    /* Any HTTP/1.x and HTTP/[2-9].x reach on_version_complete, which decides (llhttp alone
     * would refuse HTTP/1.2 as an invalid version). llhttp 8.1 has no setter for this flag. */
    s->parser.lenient_flags |= LENIENT_VERSION;
    s->parser.data = s;
    s->ctx = ctx;
    s->vhosts = vhosts;
    s->gauges = gauges;
    s->reading = true;
    ctx->connections_open++;
    hp__counter_add(&gauges->open, 1);
    hp__counter_add(&gauges->idle, 1);
    t_set_timer(s, hp__session_head_limits(s)->idle_timeout_ms);
}

const hp_limits *hp__session_head_limits(const hp__session *s)
{
    return &(*s->vhosts)->head->limits;
}

const hp_server *hp__session_server(const hp__session *s)
{
    return s->x ? s->x->server : NULL;
}

static size_t rbuf_size(const hp__session *s)
{
    return (size_t)hp__session_head_limits(s)->max_header_bytes + 4096;
}

static void session_read_buffer(hp__session *s, char **base, size_t *len)
{
    if (closed(s)) { /* finished (closed or upgraded): no room */
        *base = NULL;
        *len = 0;
        return;
    }
    if (!s->rbuf) {
        size_t cap;
        s->rbuf = hp__http_buffer_get(s->ctx, rbuf_size(s), &cap);
        s->rcap = (uint32_t)cap;
    }
    *base = s->rbuf + s->rend;
    *len = s->rcap - s->rend;
}

static void process(hp__session *s);

static void session_on_read(hp__session *s, ssize_t nread)
{
    if (closed(s)) return;
    if (nread > 0) {
        s->rend += (uint32_t)nread;
        /* A body that keeps arriving keeps its connection alive. */
        if (s->phase == HP__PHASE_BODY)
            t_set_timer(s, hp__exchange_server(s->x)->limits.header_timeout_ms);
        process(s);
        return;
    }
    if (nread == 0) return;
    if (nread != HP__READ_EOF) {
        session_close(s);
        return;
    }
    s->peer_eof = true;
    process(s);
}

/* After a read that left a body half received, the parsed body bytes are no longer needed. */
static void drop_parsed_body(hp__session *s)
{
    hp__exchange *x = s->x;
    if (!x || !x->headers_done || x->message_done) return;
    s->rend = s->rparsed = x->head_end;
}

static int error_status(hp__session *s, llhttp_errno_t err)
{
    hp__exchange *x = s->x;
    if (x && x->error_status) return x->error_status;
    if (err == HPE_INVALID_METHOD) {
        /* A well-formed token we do not know is "not implemented"; garbage is a bad request. */
        size_t i = hp__token_length(s->rbuf, s->rend < 32 ? s->rend : 32);
        return (i > 0 && i < s->rend && s->rbuf[i] == ' ') ? 501 : 400;
    }
    if (err == HPE_INVALID_VERSION) {
        const char *v = memmem(s->rbuf, s->rend, " HTTP/", 6);
        if (v && v + 7 < s->rbuf + s->rend && v[6] >= '2' && v[6] <= '9') return 505;
    }
    return 400;
}

static void dispatch(hp__session *s);
static void dispatch_head(hp__session *s);
static void update(hp__session *s);

void hp__session_process(hp__session *s)
{
    process(s);
}

/* Parses what is buffered and runs every complete request, one at a time. Re-entrant calls
 * (an exchange finishing synchronously inside dispatch) return at once: the outer loop goes
 * on with the bytes that follow. */
static bool may_parse(const hp__exchange *x)
{
    if (!x) return true;
    if (x->message_done) return false;
    /* A streaming handler's body is parsed only while it waits for a piece. */
    return !x->handler_called || !x->streamed || x->body_wanted;
}

static void process(hp__session *s)
{
    if (s->in_process || closed(s)) return;
    s->in_process = true;
    while (!closed(s) && !s->stop_parsing) {
        if (s->x && s->x->streamed && s->x->message_done && s->x->body_wanted) {
            hp__body_deliver_end(s->x);
            continue;
        }
        bool more = s->rparsed < s->rend || (s->x && s->x->after_piece);
        if (!more || !may_parse(s->x)) break;
        if (!s->x) s->x = exchange_get(s);
        hp__exchange *x = s->x;
        x->after_piece = false;
        uint32_t len = s->rend - s->rparsed;
        llhttp_errno_t err = llhttp_execute(&s->parser, s->rbuf + s->rparsed, len);
        if (err == HPE_OK) {
            x->bytes_in += len;
            s->rparsed = s->rend;
            drop_parsed_body(s);
            break;
        }
        if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
            uint32_t end = rbuf_offset(s, llhttp_get_error_pos(&s->parser));
            x->bytes_in += end - s->rparsed;
            s->rparsed = end;
            if (err == HPE_PAUSED_UPGRADE)
                llhttp_resume_after_upgrade(&s->parser);
            else
                llhttp_resume(&s->parser);
            if (x->piece)
                hp__body_deliver_piece(x);
            else if (x->streamed && !x->handler_called)
                dispatch_head(s);
            else if (x->message_done && !x->streamed)
                dispatch(s);
            continue;
        }
        x->bytes_in += len;
        hp__session_fail(s, error_status(s, err));
        break;
    }
    s->in_process = false;
    if (!closed(s)) update(s);
}

/* Sets the phase, the timer and the reading state from what the session holds. */
static void update(hp__session *s)
{
    hp__exchange *x = s->x;
    const hp_limits *limits = x ? &hp__exchange_server(x)->limits : hp__session_head_limits(s);
    if (!x && s->rend == 0) {
        if (s->peer_eof || (s->draining && s->served)) {
            session_close(s); /* idle between keep-alive requests: nothing is lost */
            return;
        }
        if (s->draining && !s->fresh_drain_timer) {
            /* A connection that never carried a request may have its first one on the way:
             * it gets answered (with Connection: close), within the header timeout. */
            s->fresh_drain_timer = true;
            s->phase = HP__PHASE_IDLE;
            t_set_timer(s, limits->header_timeout_ms);
        } else if (s->phase != HP__PHASE_IDLE) {
            s->phase = HP__PHASE_IDLE;
            t_set_timer(s, limits->idle_timeout_ms);
        }
        release_rbuf(s);
    } else if (!x || (!x->message_done && !x->responded)) {
        if (s->peer_eof) {
            session_close(s); /* the client closed in the middle of a request */
            return;
        }
        if (!x || !x->headers_done) {
            if (s->rend >= limits->max_header_bytes) {
                hp__session_fail(s, 431);
                return;
            }
            s->phase = HP__PHASE_HEAD;
        } else if (x->handler_called && x->streamed && !x->body_wanted) {
            s->phase = HP__PHASE_HANDLER; /* the handler works: no timer, the body waits */
        } else {
            s->phase = HP__PHASE_BODY;
        }
        if (x && !x->timer_armed) {
            x->timer_armed = true;
            t_set_timer(s, limits->header_timeout_ms);
        }
    }
    bool want = !s->peer_eof && !closed(s) && (s->rbuf == NULL || s->rend < s->rcap);
    if (want != s->reading) {
        s->reading = want;
        t_set_reading(s, want);
    }
}

/* ---- parser callbacks --------------------------------------------------------------------- */

static int on_message_begin(llhttp_t *p)
{
    session_of(p)->x->start_ns = hp__exchange_now_ns();
    return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
    span_extend(&session_of(p)->x->req.method, at, len);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    hp__session *s = session_of(p);
    hp__exchange *x = s->x;
    span_extend(&x->req.target, at, len);
    if (x->req.target.len > hp__session_head_limits(s)->max_target_bytes) return reject(x, 414);
    x->head_end = rbuf_offset(s, at + len);
    /* The target ends at a space before the version, or at the end of the line when there is
     * no version (HTTP/0.9): llhttp would then wait for a header section. The byte is in rbuf
     * whenever llhttp ends the target at it (a call at the end of the bytes read has more to
     * come, then a last call, maybe empty, at the byte that ends it). */
    const char *after = at + len;
    if (after < s->rbuf + s->rend && (*after == '\r' || *after == '\n')) return reject(x, 400);
    return 0;
}

/* HTTP/1.x goes on (1.2 and later minors as 1.1, in on_headers_complete). An HTTP/0.9 request
 * has no version (on_url refuses it); "HTTP/0.x" written out is no HTTP/1 either: 400. Another
 * major version is one this HTTP/1 server does not speak: 505. */
static int on_version_complete(llhttp_t *p)
{
    if (p->http_major == 1) return 0;
    return reject(session_of(p)->x, p->http_major == 0 ? 400 : 505);
}

static hp_header *current_header(hp__exchange *x)
{
    return (hp_header *)&x->req.headers[x->req.header_count - 1];
}

/* Makes room for one more header; false when `max` headers are already there. */
static bool grow_headers(hp__exchange *x, uint32_t max)
{
    if (x->req.header_count >= max) return false;
    if (x->req.header_count < x->header_cap) return true;
    uint32_t cap = x->header_cap * 2 < max ? x->header_cap * 2 : max;
    hp_header *h = hp__realloc(x->heap_headers, cap * sizeof *h);
    if (x->req.headers == x->inline_headers) memcpy(h, x->inline_headers, sizeof x->inline_headers);
    x->heap_headers = h;
    x->req.headers = h;
    x->header_cap = cap;
    return true;
}

/* Trailers are checked as they come, then dropped: their bytes leave rbuf with the body's, so a
 * trailer's pieces cannot be put together and are checked one by one (field_syntax.h). For a
 * trailer, field_open says that a byte of its name has arrived. */
static int trailer_field(hp__exchange *x, const char *at, size_t len)
{
    if (len == 0) return 0;
    if (hp__token_length(at, len) != len) return reject(x, 400);
    x->field_open = true;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    hp__session *s = session_of(p);
    hp__exchange *x = s->x;
    if (x->headers_done) return trailer_field(x, at, len);
    if (!x->field_open) {
        if (!grow_headers(x, hp__session_head_limits(s)->max_headers)) return reject(x, 431);
        x->req.header_count++;
        *current_header(x) = (hp_header){{at, 0}, {NULL, 0}};
        x->field_open = true;
    }
    span_extend(&current_header(x)->name, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    hp__exchange *x = session_of(p)->x;
    if (x->headers_done) {
        bool named = x->field_open;
        x->field_open = false;
        return named ? 0 : reject(x, 400);
    }
    x->field_open = false;
    hp_header *h = current_header(x);
    h->value.base = h->name.base + h->name.len; /* an empty value until one arrives */
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    hp__exchange *x = session_of(p)->x;
    if (x->headers_done) return hp__field_value_valid(hp__str(at, len)) ? 0 : reject(x, 400);
    hp_header *h = current_header(x);
    if (h->value.len == 0) h->value.base = at;
    h->value.len = (size_t)(at + len - h->value.base);
    return 0;
}

static bool sane_request_id(hp_str v)
{
    if (v.len == 0 || v.len > 64) return false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

/* The fields the session reads, and the singletons that it or a handler reads as one value
 * (hp_request_header gives the first line): Host, Range, If-Range, Authorization. A second line
 * of one of those is refused: the client is broken or probes for a reader that would take the
 * other line (a proxy in front), and a 400 says so where ignoring would answer something it did
 * not ask for (nginx refuses a repeated Host, If-Range or Authorization too). Fields read as a
 * whole are not here: If-Match and If-None-Match are lists, whose lines conditional.c reads as
 * one (RFC 9110 §5.3), and it ignores a date condition sent twice (RFC 9110 §13.1.3).
 * Content-Length is llhttp's. */
typedef enum {
    FIELD_OTHER,
    FIELD_EXPECT,
    FIELD_REQUEST_ID,
    FIELD_HOST, /* this one and those after it are read once */
    FIELD_RANGE,
    FIELD_IF_RANGE,
    FIELD_AUTHORIZATION,
} field_kind;

#define ONCE_BIT(kind) ((uint16_t)(1u << (kind)))

/* One comparison for most names: the length picks the candidates. */
static field_kind field_kind_of(hp_str n)
{
    switch (n.len) {
    case 4:
        return hp__str_ieq(n, "host") ? FIELD_HOST : FIELD_OTHER;
    case 5:
        return hp__str_ieq(n, "range") ? FIELD_RANGE : FIELD_OTHER;
    case 6:
        return hp__str_ieq(n, "expect") ? FIELD_EXPECT : FIELD_OTHER;
    case 8:
        return hp__str_ieq(n, "if-range") ? FIELD_IF_RANGE : FIELD_OTHER;
    case 12:
        return hp__str_ieq(n, "x-request-id") ? FIELD_REQUEST_ID : FIELD_OTHER;
    case 13:
        return hp__str_ieq(n, "authorization") ? FIELD_AUTHORIZATION : FIELD_OTHER;
    default:
        return FIELD_OTHER;
    }
}

/* What the session takes from a header it reads; 0 or the status that refuses the request. */
static int read_field(hp__exchange *x, const hp_header *h)
{
    field_kind kind = field_kind_of(h->name);
    if (kind >= FIELD_HOST) {
        if (x->fields_seen & ONCE_BIT(kind)) return 400;
        x->fields_seen |= ONCE_BIT(kind);
    }
    switch (kind) {
    case FIELD_HOST:
        if (!hp__host_valid(h->value)) return 400;
        x->req.host = h->value;
        return 0;
    case FIELD_EXPECT:
        if (!hp__str_ieq(h->value, "100-continue")) return 417;
        x->expect_continue = true;
        return 0;
    case FIELD_REQUEST_ID:
        if (sane_request_id(h->value)) x->req.request_id = h->value;
        return 0;
    default:
        return 0;
    }
}

static int on_header_value_complete(llhttp_t *p)
{
    hp__session *s = session_of(p);
    hp__exchange *x = s->x;
    if (x->headers_done) return 0;
    hp_header *h = current_header(x);
    x->head_end = rbuf_offset(s, h->value.base + h->value.len);
    if (x->head_end > hp__session_head_limits(s)->max_header_bytes) return reject(x, 431);
    /* What llhttp lets through (field_syntax.h); obs-fold, which llhttp folds into the value
     * with its CRLF, is refused as a control in the value (RFC 9112 §5.2). */
    if (!hp__field_valid(h->name, h->value)) return reject(x, 400);
    h->value = hp__str_trim(h->value);
    int status = read_field(x, h);
    return status ? reject(x, status) : 0;
}

/* Splits the target into path and query; takes the host from an absolute-form target, whose
 * authority wins over the Host header (RFC 9112 §3.2.2) and must be a valid uri-host[:port]:
 * no userinfo (RFC 9110 §4.2.4 asks to treat one as an error), not empty. */
static int parse_target(hp__exchange *x)
{
    hp_request *r = &x->req;
    hp_str t = r->target;
    if (t.len == 1 && t.base[0] == '*') {
        if (r->method_id != HTTP_OPTIONS) return 400;
        r->path = t;
        return 0;
    }
    if (t.len >= 7 && (hp__mem_ieq(t.base, "http://", 7) || hp__mem_ieq(t.base, "https://", 8))) {
        size_t scheme = t.base[4] == ':' ? 7 : 8;
        const char *auth = t.base + scheme, *end = t.base + t.len, *q = auth;
        while (q < end && *q != '/' && *q != '?') q++;
        r->host = hp__str(auth, (size_t)(q - auth));
        if (!hp__host_valid(r->host)) return 400;
        t = hp__str(q, (size_t)(end - q));
        if (t.len == 0 || t.base[0] == '?') {
            r->path = HP_STR_LIT("/");
            if (t.len) r->query = hp__str(t.base + 1, t.len - 1);
            return 0;
        }
    } else if (t.len == 0 || t.base[0] != '/') {
        return 400;
    }
    const char *qm = memchr(t.base, '?', t.len);
    if (qm) {
        r->path = hp__str(t.base, (size_t)(qm - t.base));
        r->query = hp__str(qm + 1, t.len - r->path.len - 1);
    } else {
        r->path = t;
    }
    return 0;
}

/* Makes req.path the normalized path (core/url_path.h), the one every route and handler
 * sees, in the exchange's buffer (its worst case, three bytes per byte of the target, so it
 * never fails for room; allocated only when it grows). "*" of OPTIONS * stays as it is. */
static int normalize_path(hp__exchange *x)
{
    hp_str raw = x->req.path;
    if (raw.len == 1 && raw.base[0] == '*') return 0;
    size_t need = HP__URL_PATH_MAX(raw.len);
    if (need > x->path_cap) {
        size_t cap = x->path_cap ? x->path_cap : 256;
        while (cap < need) cap *= 2;
        free(x->path_buf);
        x->path_buf = hp__malloc(cap);
        x->path_cap = cap;
    }
    size_t len;
    int status = hp__url_path_normalize(raw, x->path_buf, x->path_cap, &len);
    if (status) return status;
    x->req.path = hp__str(x->path_buf, len);
    return 0;
}

/* A request that waits for 100 Continue but will not be given to a handler (refused by a
 * guard, no route: 404 or 405) is answered now, without the 100 (RFC 9110 §10.1.1): the client
 * need not send a body nobody reads. The body is never read, so the connection closes after
 * the answer (dispatch gives it, once llhttp paused). */
static int answer_before_body(hp__session *s, hp__exchange *x)
{
    x->expect_continue = false;
    x->message_done = true;
    x->close_after = true;
    s->stop_parsing = true;
    return HPE_PAUSED;
}

static int on_headers_complete(llhttp_t *p)
{
    hp__session *s = session_of(p);
    hp__exchange *x = s->x;
    hp_request *r = &x->req;
    x->headers_done = true;
    /* HTTP/1.1 or a later minor version, processed as 1.1 (RFC 9110 §2.5); else HTTP/1.0. */
    int minor = p->http_minor == 0 ? 0 : 1;
    r->method_id = p->method;
    r->version_minor = minor;
    r->is_head = p->method == HTTP_HEAD;
    if (p->method == HTTP_CONNECT) return reject(x, 405);
    if (minor == 1 && !(x->fields_seen & ONCE_BIT(FIELD_HOST))) return reject(x, 400);
    if (minor == 0 && (p->flags & F_TRANSFER_ENCODING)) return reject(x, 400);
    int status = parse_target(x);
    if (!status) status = normalize_path(x);
    if (status) return reject(x, status);
    if (!hp__exchange_route(x, *s->vhosts, s->ctx->worker)) return reject(x, 421);
    if (s->ctx->hooks) hp__http_hooks_start(s->ctx, x);
    bool has_body = (p->flags & F_CHUNKED) || p->content_length > 0;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > x->server->limits.max_body_bytes)
        return reject(x, 413);
    x->keep_alive = llhttp_should_keep_alive(p);
    x->upgrade_asked = p->upgrade && minor == 1;
    x->expect_continue &= has_body && minor == 1;
    if (x->expect_continue && !x->handler) return answer_before_body(s, x);
    if (x->handler && x->handler->stream_request_body) {
        /* The handler is called now, before the body (process); without a body, at its end
         * as any other, so the message is over before the next can begin. */
        x->streamed = true;
        return has_body ? HPE_PAUSED : 0;
    }
    hp__exchange_read_whole_body(x);
    if (x->expect_continue && hp__body_write_continue(x) < 0) return reject(x, 400);
    return 0;
}

/* A piece of the body: kept for a streaming handler's consumer (given to it once llhttp
 * returns: handlers are never called from inside the parser), else appended to req.body. */
static int on_body(llhttp_t *p, const char *at, size_t len)
{
    hp__session *s = session_of(p);
    hp__exchange *x = s->x;
    if (len == 0) return 0; /* llhttp flushes an empty span when it resumes with no byte */
    x->body_received += len;
    if (x->body_received > x->server->limits.max_body_bytes) return reject(x, 413);
    if (!x->handler) return 0; /* refused or no route: read and dropped, never kept */
    if (x->streamed) {
        x->piece = at;
        x->piece_len = (uint32_t)len;
        return HPE_PAUSED;
    }
    size_t need = x->req.body.len + len;
    if (need > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 4096;
        while (cap < need) cap *= 2;
        x->body = hp__realloc(x->body, cap);
        x->body_cap = cap;
    }
    memcpy(x->body + x->req.body.len, at, len);
    x->req.body.len = need;
    x->req.body.base = x->body;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    session_of(p)->x->message_done = true;
    return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_method = on_method,
    .on_url = on_url,
    .on_version_complete = on_version_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- running an exchange ------------------------------------------------------------------ */

static void answer_options_star(hp_request *req)
{
    static const char allow[] = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";
    hp_response_header(req, "Allow", 5, allow, sizeof allow - 1);
    hp_respond(req, 200, "", 0);
}

/* The head is complete and the handler streams the body: it gets the request now. */
static void dispatch_head(hp__session *s)
{
    hp__exchange *x = s->x;
    s->phase = HP__PHASE_HANDLER;
    hp__exchange_give_request_id(s->ctx, x);
    x->handler_called = true;
    x->handler->vt->on_request(x->handler, &x->req);
}

/* The whole request is here: whoever waits for the whole body gets it (the route's handler,
 * through the same helper a streaming handler may call), else the session answers. */
static void dispatch(hp__session *s)
{
    hp__exchange *x = s->x;
    hp_request *req = &x->req;
    s->phase = HP__PHASE_HANDLER;
    hp__exchange_give_request_id(s->ctx, x);
    if (req->path.len == 1 && req->path.base[0] == '*') {
        answer_options_star(req);
        return;
    }
    if (x->refused) {
        hp__exchange_refuse(x);
        return;
    }
    if (x->whole_body_cb) {
        hp_body_complete_cb cb = x->whole_body_cb;
        x->whole_body_cb = NULL;
        x->handler_called = true;
        cb(req, x->whole_body_data);
        return;
    }
    hp_respond_error(req, x->method_mismatch ? 405 : 404);
}

bool hp__request_reroute(hp_request *req, hp_str host)
{
    hp__exchange *x = req->exchange;
    hp__session *s = x->s;
    return hp__exchange_reroute(x, *s->vhosts, host, s->ctx->worker);
}

void hp__session_fail(hp__session *s, int status)
{
    if (!s->x) s->x = exchange_get(s);
    hp__exchange *x = s->x;
    hp__body_failed(x, status == 413 ? -EMSGSIZE : status == 408 ? -ETIMEDOUT : -EPROTO);
    if (closed(s) || s->x != x) return; /* the consumer gave up on the request */
    if (x->responded) {
        session_close(s);
        return;
    }
    x->message_done = true;
    x->close_after = true;
    s->stop_parsing = true; /* parse nothing more on this connection */
    hp__exchange_give_request_id(s->ctx, x);
    s->phase = HP__PHASE_HANDLER;
    hp_respond_error(&x->req, status);
}

/* The 101 is written and the exchange gone: the connection goes to the upgraded protocol,
 * which uses `server` from now on (so it is set before the worker hears the exchange ended). */
static void switch_protocol(hp__session *s, const hp_server *server,
                            const hp_upgrade_protocol *protocol, void *data)
{
    bool draining = s->draining;
    hp_upgraded *u = hp__upgraded_create(s, server, protocol, data);
    exchange_ended(s, server);
    hp__upgraded_open(u, draining);
}

void hp__exchange_finish(hp__session *s, bool ok)
{
    hp__exchange *x = s->x;
    if (x->done_cb) x->done_cb(&x->req, ok, x->done_data);
    x->done_cb = NULL;
    const hp_server *server = x->server;
    hp__exchange_observe(s->ctx, x, ok, hp__exchange_now_ns());
    bool close = !ok || x->close_after || s->draining;
    const hp_upgrade_protocol *upgrade = ok ? x->upgrade : NULL;
    void *upgrade_data = x->upgrade_data;
    s->served = true;
    hp__exchange_release(s->ctx, x);
    s->x = NULL;
    if (upgrade) {
        switch_protocol(s, server, upgrade, upgrade_data);
        return;
    }
    hp__counter_add(&s->gauges->idle, 1);
    exchange_ended(s, server);
    if (close) {
        close_connection(s, ok && s->stop_parsing && !s->peer_eof);
        return;
    }
    uint32_t left = s->rend - s->rparsed;
    if (left && s->rparsed) memmove(s->rbuf, s->rbuf + s->rparsed, left);
    s->rend = left;
    s->rparsed = 0;
    process(s);
}

/* ---- transport events --------------------------------------------------------------------- */

static void session_on_write_done(hp__session *s, int status)
{
    if (closed(s)) return;
    hp__exchange *x = s->x;
    if (status < 0 || !x) {
        session_close(s);
        return;
    }
    if (--x->writes_pending == 0) hp__exchange_write_done(x);
}

static void session_on_timeout(hp__session *s)
{
    if (closed(s)) return;
    switch (s->phase) {
    case HP__PHASE_IDLE:
        session_close(s);
        break;
    case HP__PHASE_HEAD:
    case HP__PHASE_BODY:
        hp__session_fail(s, 408);
        break;
    case HP__PHASE_WRITE:
        session_close(s);
        break;
    default:
        break;
    }
}

static void session_drain(hp__session *s)
{
    if (closed(s)) return;
    s->draining = true;
    if (!s->in_process) update(s);
}

/* ---- the protocol vtable (protocol.h) ----------------------------------------------------- */

static hp__session *session_of_protocol(hp__protocol *p)
{
    return (hp__session *)p; /* the first member */
}

static void p_read_buffer(hp__protocol *p, char **base, size_t *len)
{
    session_read_buffer(session_of_protocol(p), base, len);
}

static void p_on_read(hp__protocol *p, ssize_t nread)
{
    session_on_read(session_of_protocol(p), nread);
}

static void p_on_write_done(hp__protocol *p, int status)
{
    session_on_write_done(session_of_protocol(p), status);
}

static void p_on_timeout(hp__protocol *p)
{
    session_on_timeout(session_of_protocol(p));
}

static void p_drain(hp__protocol *p)
{
    session_drain(session_of_protocol(p));
}

static void p_abort(hp__protocol *p)
{
    hp__session_abort(session_of_protocol(p));
}

static bool p_uses_server(const hp__protocol *p, const hp_server *server)
{
    return hp__session_server((const hp__session *)p) == server;
}

static const hp__protocol_vtable http1_protocol = {
    .read_buffer = p_read_buffer,
    .on_read = p_on_read,
    .on_write_done = p_on_write_done,
    .on_timeout = p_on_timeout,
    .drain = p_drain,
    .abort = p_abort,
    .uses_server = p_uses_server,
};
