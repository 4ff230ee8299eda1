/* fuzz_upstream_response: arbitrary bytes from a backend through the reverse proxy's response
 * parser (src/http/upstream_response.c).
 *
 * Input: [flags] [step] [backend bytes]. flags bit 0: the request was HEAD; bit 1: the
 * backend closes after its bytes (EOF); bit 2: the request asked for an upgrade. step: the bytes
 * are offered step + 1 at a time (255: all at once), in one growing buffer, as the proxy reads
 * them.
 *
 * Invariants checked: every call parses no more than it was given and returns MORE only
 * when it parsed all of it; HEAD comes once, before any body piece, with a status 200-999,
 * or 101 when the request asked for an upgrade, and then END follows at once without parsing
 * a byte (the rest is the new protocol's); no body for a HEAD request, 204 or 304; a Content-Length
 * body that ends is exactly that long; the head's bytes never pass the limit; once END or ERROR is
 * returned it is returned again. */
#include "http/upstream_response.h"

#include <stdint.h>
#include <stdlib.h>

#define HEAD_LIMIT 4096

static hp__upstream_response parser;

static void check(bool ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    bool head_request = data[0] & 1, eof = data[0] & 2, upgrade = data[0] & 4;
    size_t step = data[1] == 255 ? size : (size_t)data[1] + 1;
    const char *bytes = (const char *)data + 2;
    size_t total = size - 2, offered = 0, at = 0;
    hp__upstream_response *r = &parser;
    hp__upstream_response_init(r, HEAD_LIMIT,
                               (head_request ? HP__UPSTREAM_HEAD_REQUEST : 0) |
                                   (upgrade ? HP__UPSTREAM_UPGRADE_ASKED : 0));
    bool head = false, switched = false;
    uint64_t body = 0;
    hp__upstream_event e;
    for (;;) {
        size_t used;
        e = hp__upstream_response_parse(r, bytes + at, offered - at, &used);
        check(used <= offered - at);
        check(e != HP__UPSTREAM_MORE || used == offered - at);
        check(!switched || (e == HP__UPSTREAM_END && used == 0));
        at += used;
        if (e == HP__UPSTREAM_HEAD) {
            switched = r->status == 101;
            check(!head && ((r->status >= 200 && r->status <= 999) || (switched && upgrade)));
            check(!switched || (r->framing == HP__UPSTREAM_NO_BODY && !r->keep_alive));
            check(r->field_count <= HP__UPSTREAM_MAX_FIELDS);
            check(r->head_bytes <= HEAD_LIMIT);
            head = true;
        } else if (e == HP__UPSTREAM_BODY) {
            check(head && r->piece.len > 0 && r->framing != HP__UPSTREAM_NO_BODY);
            body += r->piece.len;
        } else if (e == HP__UPSTREAM_END || e == HP__UPSTREAM_ERROR) {
            break;
        } else if (offered < total) {
            offered = offered + step < total ? offered + step : total;
        } else {
            if (!eof) return 0;
            e = hp__upstream_response_eof(r);
            break;
        }
    }
    if (e == HP__UPSTREAM_END) {
        check(head);
        if (r->framing == HP__UPSTREAM_LENGTH) check(body == r->content_length);
        if (r->framing == HP__UPSTREAM_NO_BODY) check(body == 0);
    } else {
        check(r->error != NULL);
    }
    size_t used;
    check(hp__upstream_response_parse(r, bytes + at, total - at, &used) == e && used == 0);
    return 0;
}
