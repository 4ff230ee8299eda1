/* The upstream response parser (src/http/upstream_response.c) over byte strings: each
 * response is fed whole and one byte at a time (the same buffer, growing), and both must give
 * the same verdict, status, fields and body. */
#include "http/upstream_response.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define HEAD_LIMIT 1024

typedef struct outcome {
    hp__upstream_event last; /* END, ERROR, or MORE when the bytes ran out first */
    int status;
    hp__upstream_framing framing;
    bool keep_alive;
    size_t field_count;
    char body[512];
    size_t body_len;
    size_t left; /* bytes after the response's end */
    const char *error;
} outcome;

static hp__upstream_response parser;

/* Feeds `text` `step` bytes at a time (0: all at once); `eof`: the upstream closes after.
 * `flags`: the request's (HP__UPSTREAM_HEAD_REQUEST, HP__UPSTREAM_UPGRADE_ASKED; true is a
 * HEAD). */
static outcome feed(const char *text, unsigned flags, size_t step, bool eof)
{
    outcome o = {.last = HP__UPSTREAM_MORE};
    hp__upstream_response *r = &parser;
    hp__upstream_response_init(r, HEAD_LIMIT, flags);
    size_t total = strlen(text), offered = 0, at = 0;
    for (;;) {
        size_t used;
        hp__upstream_event e = hp__upstream_response_parse(r, text + at, offered - at, &used);
        at += used;
        if (e == HP__UPSTREAM_HEAD) {
            o.status = r->status;
            o.framing = r->framing;
            o.field_count = r->field_count;
        } else if (e == HP__UPSTREAM_BODY) {
            assert_true(o.body_len + r->piece.len <= sizeof o.body);
            memcpy(o.body + o.body_len, r->piece.base, r->piece.len);
            o.body_len += r->piece.len;
        } else if (e == HP__UPSTREAM_END || e == HP__UPSTREAM_ERROR) {
            o.last = e;
            break;
        } else if (offered < total) {
            offered = step && offered + step < total ? offered + step : total;
        } else {
            if (eof) o.last = hp__upstream_response_eof(r);
            break;
        }
    }
    o.keep_alive = r->keep_alive;
    o.left = total - at;
    o.error = r->error;
    return o;
}

/* The verdict whole and byte by byte must agree; returns the whole one. */
static outcome parse(const char *text, unsigned flags, bool eof)
{
    outcome whole = feed(text, flags, 0, eof), bytes = feed(text, flags, 1, eof);
    assert_int_equal(whole.last, bytes.last);
    assert_int_equal(whole.status, bytes.status);
    assert_int_equal(whole.field_count, bytes.field_count);
    assert_int_equal(whole.body_len, bytes.body_len);
    assert_memory_equal(whole.body, bytes.body, whole.body_len);
    return whole;
}

static void refused(const char *text)
{
    outcome o = parse(text, false, true);
    if (o.last != HP__UPSTREAM_ERROR) fail_msg("accepted: %s", text);
    assert_non_null(o.error);
}

static void a_content_length_response_gives_head_body_and_end(void **state)
{
    outcome o = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.framing, HP__UPSTREAM_LENGTH);
    assert_int_equal(o.field_count, 2);
    assert_int_equal(o.body_len, 5);
    assert_memory_equal(o.body, "hello", 5);
    assert_true(o.keep_alive);
    assert_int_equal(o.left, 0);
    assert_int_equal(parser.content_length, 5);
}

static void fields_keep_their_names_and_trimmed_values(void **state)
{
    parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Long-Name:   v a l  \r\nEmpty:\r\n\r\n", false,
          false);
    hp__upstream_response *r = &parser;
    assert_int_equal(r->field_count, 3);
    assert_int_equal(r->fields[1].name.len, strlen("X-Long-Name"));
    assert_memory_equal(r->fields[1].name.base, "X-Long-Name", r->fields[1].name.len);
    assert_int_equal(r->fields[1].value.len, strlen("v a l"));
    assert_memory_equal(r->fields[1].value.base, "v a l", r->fields[1].value.len);
    assert_int_equal(r->fields[2].value.len, 0);
}

static void a_chunked_response_is_dechunked(void **state)
{
    outcome o = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                      false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.framing, HP__UPSTREAM_CHUNKED);
    assert_int_equal(o.body_len, 5);
    assert_memory_equal(o.body, "abcde", 5);
    assert_true(o.keep_alive);
}

static void a_response_without_length_ends_with_the_close(void **state)
{
    outcome o = parse("HTTP/1.1 200 OK\r\n\r\nuntil the end", false, true);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.framing, HP__UPSTREAM_CLOSE);
    assert_false(o.keep_alive);
    assert_int_equal(o.body_len, strlen("until the end"));
}

static void head_204_and_304_have_no_body(void **state)
{
    outcome o = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.framing, HP__UPSTREAM_NO_BODY);
    assert_int_equal(o.body_len, 0);
    assert_true(o.keep_alive);
    o = parse("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n", false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.framing, HP__UPSTREAM_NO_BODY);
    assert_int_equal(o.left, strlen("HTTP/1.1 200 OK\r\n")); /* the next bytes are not its body */
    o = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.status, 304);
}

static void interim_responses_are_skipped(void **state)
{
    outcome o = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                      false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.status, 201);
    assert_int_equal(o.field_count, 1);
    assert_memory_equal(o.body, "ok", 2);
    /* an interim response has no body, whatever its head says */
    o = parse("HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nHTTP/1.1 200 OK\r\n"
              "Content-Length: 2\r\n\r\nok",
              false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.status, 200);
    assert_memory_equal(o.body, "ok", 2);
    o = parse("HTTP/1.1 199 Odd\r\nContent-Length: 2\r\n\r\nHTTP/1.1 200 OK\r\n"
              "Content-Length: 2\r\n\r\nok",
              false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.status, 200);
}

static void bytes_after_the_response_are_left_unparsed(void **state)
{
    outcome o = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_int_equal(o.left, 5);
}

static void a_connection_close_response_is_not_kept_alive(void **state)
{
    outcome o =
        parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
    assert_false(o.keep_alive);
    o = parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false);
    assert_false(o.keep_alive);
}

static void both_content_length_and_transfer_encoding_are_refused(void **state)
{
    refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            "3\r\nabc\r\n0\r\n\r\n");
}

static void conflicting_or_invalid_lengths_are_refused(void **state)
{
    refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd");
    refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
}

static void transfer_codings_other_than_chunked_are_refused(void **state)
{
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\n\r\n");
}

static void invalid_status_lines_are_refused(void **state)
{
    refused("garbage\r\n\r\n");
    refused("HTTP/1.1 2000 OK\r\n\r\n");
    refused("HTTP/1.1 20 OK\r\n\r\n");
    refused("HTTP/1.1 abc OK\r\n\r\n");
    refused("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    refused("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n");
    refused("HTTP/1.1 200 OK\nContent-Length: 0\n\n");
}

static void invalid_field_lines_are_refused(void **state)
{
    refused("HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nX-A: a\x01z\r\nContent-Length: 0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n");
}

static void a_head_over_the_limit_is_refused(void **state)
{
    static char text[HEAD_LIMIT + 200];
    int n = snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(text + n, 'b', HEAD_LIMIT);
    strcpy(text + n + HEAD_LIMIT, "\r\nContent-Length: 0\r\n\r\n");
    refused(text);
    /* endless interim responses count too */
    static char interims[HEAD_LIMIT * 2];
    interims[0] = '\0';
    while (strlen(interims) + 30 < sizeof interims)
        strcat(interims, "HTTP/1.1 100 Continue\r\n\r\n");
    refused(interims);
}

static void too_many_fields_are_refused(void **state)
{
    static char text[4096];
    strcpy(text, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= HP__UPSTREAM_MAX_FIELDS; i++) strcat(text, "A: 1\r\n");
    strcat(text, "\r\n");
    hp__upstream_response *r = &parser;
    hp__upstream_response_init(r, sizeof text, false);
    size_t used;
    assert_int_equal(hp__upstream_response_parse(r, text, strlen(text), &used), HP__UPSTREAM_ERROR);
}

static void a_close_before_or_inside_the_response_is_an_error(void **state)
{
    outcome o = parse("", false, true);
    assert_int_equal(o.last, HP__UPSTREAM_ERROR);
    assert_false(hp__upstream_response_started(&parser));
    o = parse("HTTP/1.1 200 OK\r\nContent-Le", false, true);
    assert_int_equal(o.last, HP__UPSTREAM_ERROR);
    assert_true(hp__upstream_response_started(&parser));
    o = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", false, true);
    assert_int_equal(o.last, HP__UPSTREAM_ERROR);
    o = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, true);
    assert_int_equal(o.last, HP__UPSTREAM_ERROR);
}

static void a_bad_chunk_is_refused(void **state)
{
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");
}

static void a_101_to_a_request_that_asked_ends_at_its_head(void **state)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n"
                               "\x81\x05hello";
    for (size_t step = 0; step < 2; step++) {
        outcome o = feed(text, HP__UPSTREAM_UPGRADE_ASKED, step, step == 1);
        assert_int_equal(o.last, HP__UPSTREAM_END);
        assert_int_equal(o.status, 101);
        assert_int_equal(o.framing, HP__UPSTREAM_NO_BODY);
        assert_int_equal(o.field_count, 3);
        assert_int_equal(o.body_len, 0);
        assert_false(o.keep_alive);
        assert_int_equal(o.left, 7); /* the new protocol's bytes are not parsed */
    }
    /* the same 101 to a request that did not ask */
    assert_int_equal(feed(text, 0, 0, false).last, HP__UPSTREAM_ERROR);
    assert_int_equal(feed(text, HP__UPSTREAM_HEAD_REQUEST, 0, false).last, HP__UPSTREAM_ERROR);
}

static void a_101_without_one_upgrade_protocol_is_refused(void **state)
{
    static const char *const texts[] = {
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: a\r\nUpgrade: b\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: a/\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade:\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        outcome o = parse(texts[i], HP__UPSTREAM_UPGRADE_ASKED, false);
        if (o.last != HP__UPSTREAM_ERROR) fail_msg("accepted: %s", texts[i]);
    }
    outcome o = parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c/1\r\n\r\n",
                      HP__UPSTREAM_UPGRADE_ASKED, false);
    assert_int_equal(o.last, HP__UPSTREAM_END);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_content_length_response_gives_head_body_and_end),
        cmocka_unit_test(fields_keep_their_names_and_trimmed_values),
        cmocka_unit_test(a_chunked_response_is_dechunked),
        cmocka_unit_test(a_response_without_length_ends_with_the_close),
        cmocka_unit_test(head_204_and_304_have_no_body),
        cmocka_unit_test(interim_responses_are_skipped),
        cmocka_unit_test(bytes_after_the_response_are_left_unparsed),
        cmocka_unit_test(a_connection_close_response_is_not_kept_alive),
        cmocka_unit_test(both_content_length_and_transfer_encoding_are_refused),
        cmocka_unit_test(conflicting_or_invalid_lengths_are_refused),
        cmocka_unit_test(transfer_codings_other_than_chunked_are_refused),
        cmocka_unit_test(invalid_status_lines_are_refused),
        cmocka_unit_test(invalid_field_lines_are_refused),
        cmocka_unit_test(a_head_over_the_limit_is_refused),
        cmocka_unit_test(too_many_fields_are_refused),
        cmocka_unit_test(a_close_before_or_inside_the_response_is_an_error),
        cmocka_unit_test(a_bad_chunk_is_refused),
        cmocka_unit_test(a_101_to_a_request_that_asked_ends_at_its_head),
        cmocka_unit_test(a_101_without_one_upgrade_protocol_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
