/* What the session refuses in a request's syntax, through the memory transport, as sweeps:
 * every byte value in a field name and a field value (of a header and of a trailer), requests
 * cut at every byte (so a name or a request line that reaches the session in pieces is judged
 * whole), request-line versions, and the fields read once. A refusal is a 400 (505 for another
 * major version) with Connection: close, the handler never runs, and the session closes.
 *
 * The byte sweeps are here rather than in tests/data/http: the case format has no loop, and
 * 700-odd generated files would say less than one loop over the 256 byte values. The cases
 * there hold one example of each refusal against the real binary. */
#include "session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int seen_version_minor;

static void answer_ok(hp_request *req, void *data)
{
    seen_version_minor = req->version_minor;
    hp_respond(req, 200, "ok", 2);
}

typedef struct outcome {
    int status;        /* of the first response, 0 when none came */
    bool closed;       /* the session closed */
    bool says_close;   /* the response said Connection: close */
    unsigned requests; /* the handler ran this many times */
} outcome;

/* Feeds `len` bytes of `wire`, cut in two at `cut`, to a new session. */
static outcome send_cut(const char *wire, size_t len, size_t cut)
{
    session_fixture *f = session_fixture_create(answer_ok, NULL);
    mem_transport_feed(f->m, wire, cut);
    if (!f->m->closed) mem_transport_feed(f->m, wire + cut, len - cut);
    outcome o = {0};
    const char *out = session_fixture_output(f);
    if (strncmp(out, "HTTP/1.1 ", 9) == 0) o.status = atoi(out + 9);
    o.closed = f->m->closed;
    o.says_close = strstr(out, "\r\nConnection: close\r\n") != NULL;
    o.requests = f->requests;
    session_fixture_destroy(f);
    return o;
}

static outcome send_all(const char *wire, size_t len)
{
    return send_cut(wire, len, len);
}

static bool refused(outcome o, int status)
{
    return o.status == status && o.closed && o.says_close && o.requests == 0;
}

static bool answered(outcome o)
{
    return o.status == 200 && !o.closed && o.requests == 1;
}

/* Every cut of `wire` is refused with `status`. */
static void assert_refused_at_every_cut(const char *wire, int status)
{
    size_t len = strlen(wire);
    for (size_t cut = 0; cut <= len; cut++) {
        outcome o = send_cut(wire, len, cut);
        if (!refused(o, status))
            fail_msg("%s cut at %zu: status %d, closed %d", wire, cut, o.status, o.closed);
    }
}

static void assert_answered_at_every_cut(const char *wire)
{
    size_t len = strlen(wire);
    for (size_t cut = 0; cut <= len; cut++) {
        outcome o = send_cut(wire, len, cut);
        if (!answered(o)) fail_msg("%s cut at %zu: status %d", wire, cut, o.status);
    }
}

static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The three places of a byte in a name: first, inside, last (just before the colon). */
static const char *const name_forms[] = {"@X-Probe", "X-@Probe", "X-Probe@"};

/* Sends head + a field line whose name is name_forms[form] with byte c for its '@' + tail. */
static outcome send_field_name(const char *head, const char *tail, int form, int c)
{
    char wire[256];
    size_t n = strlen(head);
    memcpy(wire, head, n);
    for (const char *p = name_forms[form]; *p; p++) wire[n++] = *p == '@' ? (char)c : *p;
    memcpy(wire + n, ": v\r\n", 5);
    n += 5;
    memcpy(wire + n, tail, strlen(tail));
    n += strlen(tail);
    return send_all(wire, n);
}

static void sweep_field_names(const char *head, const char *tail)
{
    for (int form = 0; form < 3; form++) {
        for (int c = 0; c < 256; c++) {
            /* Two bytes are no part of a name where they stand: a colon after the first byte
             * ends the name ("X-:Probe: v" is the field "X-" with the value "Probe: v"), and a
             * line that is a bare LF ends the section (RFC 9112 §2.2 lets a recipient take LF
             * for CRLF; llhttp does so for the empty line only). */
            if ((c == ':' && form > 0) || (c == '\n' && form == 0)) continue;
            outcome o = send_field_name(head, tail, form, c);
            bool ok = is_tchar(c) ? answered(o) : refused(o, 400);
            if (!ok) fail_msg("name form %d, byte 0x%02x: status %d", form, c, o.status);
        }
    }
}

static void every_byte_outside_tchar_in_a_field_name_is_refused(void **state)
{
    sweep_field_names("GET / HTTP/1.1\r\nHost: h\r\n", "\r\n");
}

static void every_byte_outside_tchar_in_a_trailer_name_is_refused(void **state)
{
    sweep_field_names("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "2\r\nab\r\n0\r\n",
                      "\r\n");
}

static void sweep_field_values(const char *format)
{
    char wire[256];
    for (int c = 0; c < 256; c++) {
        int len = snprintf(wire, sizeof wire, format, 'Z');
        *(char *)memchr(wire, 'Z', (size_t)len) = (char)c;
        outcome o = send_all(wire, (size_t)len);
        bool allowed = c == '\t' || (c >= 0x20 && c != 0x7f);
        bool ok = allowed ? answered(o) : refused(o, 400);
        if (!ok) fail_msg("value byte 0x%02x: status %d", c, o.status);
    }
}

static void every_control_byte_but_htab_in_a_field_value_is_refused(void **state)
{
    sweep_field_values("GET / HTTP/1.1\r\nHost: h\r\nX-Probe: a%cb\r\n\r\n");
}

static void every_control_byte_but_htab_in_a_trailer_value_is_refused(void **state)
{
    sweep_field_values("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "2\r\nab\r\n0\r\nX-Probe: a%cb\r\n\r\n");
}

/* The name reaches the session in pieces wherever the cut is; it is judged whole. */
static void a_bad_field_name_is_refused_wherever_the_request_is_cut(void **state)
{
    assert_refused_at_every_cut("GET / HTTP/1.1\r\nHost: h\r\nX-Probe : foo\r\n\r\n", 400);
    assert_refused_at_every_cut("GET / HTTP/1.1\r\nHost: h\r\n: foo\r\n\r\n", 400);
    assert_refused_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "2\r\nab\r\n0\r\nX-Trailer : 1\r\n\r\n",
                                400);
    assert_refused_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "2\r\nab\r\n0\r\n: 1\r\n\r\n",
                                400);
    assert_answered_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "2\r\nab\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n");
}

/* "Transfer-Encoding : chunked" and "Content-Length : 5" never frame a body: the bytes after
 * the head are not read as one (or as a smuggled request). */
static void framing_headers_with_space_before_the_colon_are_refused(void **state)
{
    assert_refused_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n"
                                "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
                                400);
    assert_refused_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 5\r\n\r\n"
                                "helloGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
                                400);
    assert_refused_at_every_cut("POST / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 5\r\n\r\nhello",
                                400);
}

/* HTTP/0.9: answered at once, the header timer never needed. */
static void a_request_line_without_version_is_refused_at_once(void **state)
{
    assert_refused_at_every_cut("GET /\r\n", 400);
    assert_refused_at_every_cut("GET /index.html\n", 400);
    assert_refused_at_every_cut("GET / HTTP/0.9\r\n", 400);
}

static void a_higher_minor_version_is_processed_as_http11(void **state)
{
    seen_version_minor = -1;
    assert_answered_at_every_cut("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
    assert_int_equal(seen_version_minor, 1);
    assert_answered_at_every_cut("GET / HTTP/1.9\r\nHost: h\r\n\r\n");
    assert_int_equal(seen_version_minor, 1);
    assert_refused_at_every_cut("GET / HTTP/1.2\r\n\r\n", 400); /* 1.1 rules: Host is needed */
    static const char close[] = "GET / HTTP/1.2\r\nHost: h\r\nConnection: close\r\n\r\n";
    outcome o = send_all(close, sizeof close - 1);
    assert_int_equal(o.status, 200);
    assert_true(o.closed);
    seen_version_minor = -1;
    assert_answered_at_every_cut("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(seen_version_minor, 0);
}

/* 505 as soon as the request line ends, without waiting for the header section. */
static void another_major_version_is_refused_with_505_at_the_request_line(void **state)
{
    assert_refused_at_every_cut("GET / HTTP/2.0\r\n", 505);
    assert_refused_at_every_cut("GET / HTTP/3.0\r\n", 505);
    assert_refused_at_every_cut("GET / HTTP/9.9\r\n", 505);
    assert_refused_at_every_cut("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

/* Each field read as one value, sent once: answered; twice (the second line with its name in
 * other letters): 400. */
static void a_field_read_once_is_refused_when_repeated(void **state)
{
    static const char *const fields[][2] = {
        {"Host: h", "HOST: h"},
        {"Range: bytes=0-1", "range: bytes=2-3"},
        {"If-Range: \"a\"", "IF-RANGE: \"b\""},
        {"Authorization: Bearer a", "AUTHORIZATION: Bearer b"},
    };
    char wire[300];
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *host = i == 0 ? "" : "Host: h\r\n";
        int len = snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\n%s%s\r\n\r\n", host, fields[i][0]);
        if (!answered(send_all(wire, (size_t)len))) fail_msg("%s once", fields[i][0]);
        len = snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\n%s%s\r\n%s\r\n\r\n", host,
                       fields[i][0], fields[i][1]);
        if (!refused(send_all(wire, (size_t)len), 400)) fail_msg("%s twice", fields[i][0]);
    }
}

/* A field the engine does not read as one value may come in several lines: lists (If-Match
 * and If-None-Match are read as one list by the conditionals) and any other field. */
static void other_fields_may_be_repeated(void **state)
{
    assert_answered_at_every_cut("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\n"
                                 "Cookie: a=1\r\nCookie: b=2\r\nIf-Match: \"a\"\r\n"
                                 "If-Match: \"b\"\r\nIf-None-Match: \"c\"\r\n"
                                 "If-None-Match: \"d\"\r\nIf-Modified-Since: x\r\n"
                                 "If-Modified-Since: y\r\n\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_outside_tchar_in_a_field_name_is_refused),
        cmocka_unit_test(every_byte_outside_tchar_in_a_trailer_name_is_refused),
        cmocka_unit_test(every_control_byte_but_htab_in_a_field_value_is_refused),
        cmocka_unit_test(every_control_byte_but_htab_in_a_trailer_value_is_refused),
        cmocka_unit_test(a_bad_field_name_is_refused_wherever_the_request_is_cut),
        cmocka_unit_test(framing_headers_with_space_before_the_colon_are_refused),
        cmocka_unit_test(a_request_line_without_version_is_refused_at_once),
        cmocka_unit_test(a_higher_minor_version_is_processed_as_http11),
        cmocka_unit_test(another_major_version_is_refused_with_505_at_the_request_line),
        cmocka_unit_test(a_field_read_once_is_refused_when_repeated),
        cmocka_unit_test(other_fields_may_be_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
