/* Whether an answer is compressed, decided when it starts (http/response.c), and what that
 * changes in its head. Only for a request whose route has a policy (x->compress, http/
 * compress.h); for every other request nothing here runs.
 *
 * An answer is a candidate when its Content-Type matches the policy's types and it carries no
 * Content-Encoding already (a handler or an upstream encoded it: the handler owns it then). A
 * candidate gets `Vary: Accept-Encoding` whatever the outcome (unless a Vary of the handler's
 * names it), since its representation depends on that field. It is encoded when its status has
 * a body a cache keeps whole (not 1xx, 204, 206, 304), the request has no Range (ranges apply to
 * the identity body), its length is unknown or at least min_bytes, and Accept-Encoding picks
 * gzip or br (http/accept_encoding.h). An encoded answer gets Content-Encoding and its ETag, if
 * any, becomes the variant's: `"x"` becomes `"x-gz"` or `"x-br"` (W/ kept), so a cache or a
 * client never takes one encoding's bytes for another's.
 *
 * A handler that checks validators itself (the file handler: If-None-Match) first asks
 * hp__compress_choose what its 200 would be, compares with hp__etag_variant of its tag, and
 * its 304 then carries that same variant tag. Worker thread, like the exchange. */
#ifndef HP_HTTP_COMPRESS_PLAN_H
#define HP_HTTP_COMPRESS_PLAN_H

#include "http/accept_encoding.h"
#include "http/exchange.h"

#include <stdint.h>

/* The coding of the answer `x` starts (`length` its identity body's, -1 unknown), with the
 * handler's headers in x->extra, to which it adds Vary, Content-Encoding and the variant's ETag
 * as above. Requires x->compress. */
hp__coding hp__compress_plan(hp__exchange *x, int status, int64_t length);

/* hp__compress_choose's part for a route that compresses (out of line). */
hp__coding hp__compress_choose_slow(hp_request *req, const char *type, uint64_t size);

/* The coding a 200 of `size` bytes of `type` would have for `req`: identity when its route
 * does not compress (tested inline: the usual file route pays a pointer test, not a call).
 * Remembered (with the type's match) for the handler's answer: its 304, which has no
 * Content-Type, is then a candidate too and carries Vary and the variant's ETag. */
static inline hp__coding hp__compress_choose(hp_request *req, const char *type, uint64_t size)
{
    const hp__exchange *x = req->exchange;
    return x->compress ? hp__compress_choose_slow(req, type, size) : HP__CODING_IDENTITY;
}

/* The entity-tag of the `coding` variant of `etag` (a quoted tag, W/ or not) into out[cap]:
 * its length, 0 when it does not fit or is not a quoted tag. */
size_t hp__etag_variant(const char *etag, size_t len, hp__coding coding, char *out, size_t cap);

#endif
