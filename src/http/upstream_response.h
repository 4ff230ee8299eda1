/* The response of an upstream (a backend the reverse proxy forwards to), parsed sans-IO.
 *
 * Bytes in, one event out, no I/O, no allocation: the reverse proxy feeds what it reads from
 * an upstream connection, the unit tests and the fuzz target feed byte strings. llhttp parses
 * in HTTP_RESPONSE mode (compiled strict), and on top of it this parser refuses what a proxy
 * must never forward as it is (RFC 9112 §6.3, RFC 9110 §5):
 *   - a field line that is not `token: value without controls` (hp__field_valid, the very
 *     check the request side makes), more than HP__UPSTREAM_MAX_FIELDS fields;
 *   - Content-Length with Transfer-Encoding, two different or an invalid Content-Length, a
 *     Transfer-Encoding other than exactly `chunked` (a proxy cannot re-frame `gzip, chunked`
 *     without changing the representation);
 *   - an invalid status line, a head (interim ones included) longer than the limit given at
 *     init;
 *   - a 101 to a request that did not ask for an upgrade (HP__UPSTREAM_UPGRADE_ASKED not
 *     given), or one without exactly one Upgrade field naming one protocol (what the client
 *     is told it switched to).
 * A 101 to a request that asked is the final response: HEAD, then END, and the parse stops
 * right after its head: the bytes after it are the new protocol's, never parsed here (*used
 * stops at the head's end). Interim responses (1xx but 101) are skipped: the proxy strips Expect,
 * so a 100 Continue is not owed to the client, and the engine cannot send other 1xx (RFC 9110 §15.2
 * lets a proxy drop those it can't pass on only for HTTP/1.0 clients; docs/PROXY.md says so). Their
 * bytes count towards the head limit, so a backend cannot send them for ever.
 *
 * Framing of the final response: none for a HEAD request, 1xx, 204 and 304; else chunked,
 * Content-Length, or the body ends when the upstream closes (hp__upstream_response_eof).
 *
 * Driving it: call hp__upstream_response_parse() with the bytes not yet parsed; it returns an
 * event and in *used how many bytes it parsed. Call it again with the rest (even when nothing
 * is left: the end of a message may need no byte) until it returns MORE, then read more.
 * Until the HEAD event the bytes must stay where they were given, each call's bytes right
 * after the previous call's in one buffer (the field pointers point into it); after HEAD the
 * caller may move or drop them. After END or ERROR, init again before another response. */
#ifndef HP_HTTP_UPSTREAM_RESPONSE_H
#define HP_HTTP_UPSTREAM_RESPONSE_H

#include "hostpool/request.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP__UPSTREAM_MAX_FIELDS 100

typedef enum hp__upstream_event {
    HP__UPSTREAM_MORE,  /* every byte given was parsed: give the next ones */
    HP__UPSTREAM_HEAD,  /* the final head is complete: status, fields, framing are set */
    HP__UPSTREAM_BODY,  /* `piece` is the next piece of the body (borrowed from the input) */
    HP__UPSTREAM_END,   /* the response is complete */
    HP__UPSTREAM_ERROR, /* malformed or cut short: `error` says why; never forward the rest */
} hp__upstream_event;

typedef enum hp__upstream_framing {
    HP__UPSTREAM_NO_BODY, /* HEAD request, 1xx, 204, 304 */
    HP__UPSTREAM_LENGTH,  /* Content-Length (content_length bytes) */
    HP__UPSTREAM_CHUNKED,
    HP__UPSTREAM_CLOSE, /* until the upstream closes */
} hp__upstream_framing;

/* What the request was (the flags of hp__upstream_response_init). */
enum {
    HP__UPSTREAM_HEAD_REQUEST = 1,  /* a HEAD: no body, whatever the head says */
    HP__UPSTREAM_UPGRADE_ASKED = 2, /* it asked for an upgrade: a 101 may answer it */
};

typedef struct hp__upstream_response {
    llhttp_t parser;
    uint32_t max_head_bytes;
    uint32_t head_bytes; /* bytes before the final head's end, interim heads included */
    bool head_request;
    bool upgrade_asked;
    bool started;    /* a byte arrived */
    bool head_done;  /* the final head was returned */
    bool end_queued; /* the message ended with its head (HEAD): END is the next event */
    bool interim;    /* the message being parsed is a 1xx */
    uint8_t field_state;
    hp__upstream_event pending; /* what the callback that paused decided */
    /* the final response */
    int status;
    hp__upstream_framing framing;
    uint64_t content_length; /* for HP__UPSTREAM_LENGTH */
    bool keep_alive;         /* after END, the connection may carry another request */
    hp_str piece;
    const char *error; /* static text, for ERROR */
    size_t field_count;
    hp_header fields[HP__UPSTREAM_MAX_FIELDS]; /* names as sent, values trimmed */
} hp__upstream_response;

/* Ready for one response to a request described by `flags` (HP__UPSTREAM_HEAD_REQUEST,
 * HP__UPSTREAM_UPGRADE_ASKED, or 0); a head (interim heads included) longer than
 * `max_head_bytes` is an error. */
void hp__upstream_response_init(hp__upstream_response *r, uint32_t max_head_bytes, unsigned flags);

/* Parses from `data` (len may be 0); see the top of this file. */
hp__upstream_event hp__upstream_response_parse(hp__upstream_response *r, const char *data,
                                               size_t len, size_t *used);

/* The upstream closed its side: END when the body was delimited by the close and the whole
 * head arrived, else ERROR (closed before a response, or in the middle of one). */
hp__upstream_event hp__upstream_response_eof(hp__upstream_response *r);

/* Did any byte of a response arrive? (A pooled connection closed before answering anything
 * may be retried on a fresh one.) */
bool hp__upstream_response_started(const hp__upstream_response *r);

#endif
