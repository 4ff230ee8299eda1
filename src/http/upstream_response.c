/* The upstream response parser (upstream_response.h): llhttp in response mode, paused at
 * every event so that each parse call returns one, and the proxy's own checks on the head. */
#include "http/upstream_response.h"

#include "common/str.h"
#include "http/field_syntax.h"

#include <string.h>

enum { FIELD_NONE, FIELD_NAME, FIELD_VALUE };

static hp__upstream_response *of(llhttp_t *p)
{
    return p->data;
}

/* Refuses the response: llhttp stops with HPE_USER and parse returns ERROR with `why`. */
static int refuse(hp__upstream_response *r, const char *why)
{
    r->error = why;
    return -1;
}

static int on_message_begin(llhttp_t *p)
{
    hp__upstream_response *r = of(p);
    r->interim = false; /* llhttp ends a 100 without on_message_complete */
    r->field_count = 0;
    r->field_state = FIELD_NONE;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    hp__upstream_response *r = of(p);
    if (r->field_state == FIELD_NAME) {
        r->fields[r->field_count].name.len += len; /* the bytes follow in the one buffer */
        return 0;
    }
    if (r->field_count == HP__UPSTREAM_MAX_FIELDS) return refuse(r, "too many header fields");
    r->fields[r->field_count] = (hp_header){.name = {at, len}, .value = {at + len, 0}};
    r->field_state = FIELD_NAME;
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    hp__upstream_response *r = of(p);
    r->field_count++;
    r->field_state = FIELD_NONE;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    hp__upstream_response *r = of(p);
    hp_header *f = &r->fields[r->field_count - 1];
    if (r->field_state == FIELD_VALUE)
        f->value.len += len;
    else
        f->value = (hp_str){at, len};
    r->field_state = FIELD_VALUE;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    hp__upstream_response *r = of(p);
    hp_header *f = &r->fields[r->field_count - 1];
    r->field_state = FIELD_NONE;
    f->value = hp__str_trim(f->value);
    return hp__field_valid(f->name, f->value) ? 0 : refuse(r, "invalid header field");
}

/* Transfer-Encoding, when sent, must be exactly one field `chunked`. */
static bool transfer_coding_is_chunked(const hp__upstream_response *r)
{
    size_t seen = 0;
    for (size_t i = 0; i < r->field_count; i++) {
        if (!hp__str_ieq(r->fields[i].name, "transfer-encoding")) continue;
        if (++seen > 1 || !hp__str_ieq(r->fields[i].value, "chunked")) return false;
    }
    return true;
}

/* A 101 names the one protocol switched to: exactly one Upgrade field, one protocol. */
static bool upgrade_named(const hp__upstream_response *r)
{
    size_t seen = 0;
    for (size_t i = 0; i < r->field_count; i++) {
        if (!hp__str_ieq(r->fields[i].name, "upgrade")) continue;
        if (++seen > 1 || !hp__upgrade_protocol_valid(r->fields[i].value)) return false;
    }
    return seen == 1;
}

static hp__upstream_framing framing_of(const hp__upstream_response *r, const llhttp_t *p)
{
    if (r->head_request || r->status == 204 || r->status == 304) return HP__UPSTREAM_NO_BODY;
    if (p->flags & F_CHUNKED) return HP__UPSTREAM_CHUNKED;
    if (p->flags & F_CONTENT_LENGTH) return HP__UPSTREAM_LENGTH;
    return HP__UPSTREAM_CLOSE;
}

static int on_headers_complete(llhttp_t *p)
{
    hp__upstream_response *r = of(p);
    int status = p->status_code;
    if (p->http_major != 1) return refuse(r, "not an HTTP/1.x response");
    if (status < 100 || status > 999) return refuse(r, "invalid status code");
    if (status == 101 && !r->upgrade_asked)
        return refuse(r, "101 Switching Protocols was not asked for");
    if ((p->flags & F_CONTENT_LENGTH) && (p->flags & F_TRANSFER_ENCODING))
        return refuse(r, "both Content-Length and Transfer-Encoding");
    if ((p->flags & F_TRANSFER_ENCODING) && !transfer_coding_is_chunked(r))
        return refuse(r, "a Transfer-Encoding other than chunked");
    if (status == 101) {
        if (!upgrade_named(r)) return refuse(r, "a 101 without one Upgrade protocol");
        /* The final head: END at its end (on_message_complete), and nothing after it parsed. */
        r->status = status;
        r->framing = HP__UPSTREAM_NO_BODY;
        r->keep_alive = false;
        r->pending = HP__UPSTREAM_HEAD;
        return 1;
    }
    if (status < 200) {
        r->interim = true; /* skipped: a message without a body, whatever its head says */
        return 1;
    }
    r->status = status;
    r->framing = framing_of(r, p);
    r->content_length = r->framing == HP__UPSTREAM_LENGTH ? p->content_length : 0;
    r->keep_alive = r->framing != HP__UPSTREAM_CLOSE && llhttp_should_keep_alive(p);
    r->pending = HP__UPSTREAM_HEAD;
    if (r->framing == HP__UPSTREAM_NO_BODY) return 1; /* whatever the head says; END next */
    return HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    hp__upstream_response *r = of(p);
    if (len == 0) return 0; /* llhttp flushes an empty span when it resumes with no byte */
    r->piece = (hp_str){at, len};
    r->pending = HP__UPSTREAM_BODY;
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
    hp__upstream_response *r = of(p);
    if (r->interim) {
        r->interim = false;
        return 0;
    }
    if (r->pending == HP__UPSTREAM_HEAD && !r->head_done) {
        r->end_queued = true; /* paused once, for the head; END is the next call's */
    } else {
        r->pending = HP__UPSTREAM_END;
    }
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void hp__upstream_response_init(hp__upstream_response *r, uint32_t max_head_bytes, unsigned flags)
{
    memset(r, 0, offsetof(hp__upstream_response, fields));
    llhttp_init(&r->parser, HTTP_RESPONSE, &settings);
    r->parser.data = r;
    r->max_head_bytes = max_head_bytes;
    r->head_request = flags & HP__UPSTREAM_HEAD_REQUEST;
    r->upgrade_asked = flags & HP__UPSTREAM_UPGRADE_ASKED;
    r->pending = HP__UPSTREAM_MORE;
}

static hp__upstream_event fail(hp__upstream_response *r, const char *why)
{
    if (!r->error) r->error = why;
    r->pending = HP__UPSTREAM_ERROR;
    return HP__UPSTREAM_ERROR;
}

/* Counts the bytes parsed before the final head's end against the limit. */
static bool head_within_limit(hp__upstream_response *r, size_t parsed)
{
    if (r->head_done) return true;
    r->head_bytes += (uint32_t)(parsed < UINT32_MAX ? parsed : UINT32_MAX);
    return r->head_bytes <= r->max_head_bytes;
}

hp__upstream_event hp__upstream_response_parse(hp__upstream_response *r, const char *data,
                                               size_t len, size_t *used)
{
    *used = 0;
    if (r->pending == HP__UPSTREAM_ERROR || r->pending == HP__UPSTREAM_END) return r->pending;
    if (r->end_queued) {
        r->end_queued = false;
        r->pending = HP__UPSTREAM_END;
        return HP__UPSTREAM_END;
    }
    if (len) r->started = true;
    if (len > r->max_head_bytes && !r->head_done) len = (size_t)r->max_head_bytes + 1;
    llhttp_errno_t err = llhttp_execute(&r->parser, data, len);
    if (err == HPE_OK) {
        *used = len;
        if (!head_within_limit(r, len)) return fail(r, "the response head is too large");
        return HP__UPSTREAM_MORE;
    }
    if (err != HPE_PAUSED) return fail(r, llhttp_get_error_reason(&r->parser));
    *used = (size_t)(llhttp_get_error_pos(&r->parser) - data);
    llhttp_resume(&r->parser);
    if (!head_within_limit(r, *used)) return fail(r, "the response head is too large");
    if (r->pending == HP__UPSTREAM_HEAD) r->head_done = true;
    return r->pending;
}

hp__upstream_event hp__upstream_response_eof(hp__upstream_response *r)
{
    if (r->pending == HP__UPSTREAM_END || r->pending == HP__UPSTREAM_ERROR) return r->pending;
    if (r->head_done && r->framing == HP__UPSTREAM_CLOSE) {
        r->pending = HP__UPSTREAM_END;
        return HP__UPSTREAM_END;
    }
    return fail(r, r->started ? "the upstream closed in the middle of the response"
                              : "the upstream closed before responding");
}

bool hp__upstream_response_started(const hp__upstream_response *r)
{
    return r->started;
}
