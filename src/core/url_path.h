/* The normalized path of a request: the one form every route and handler sees.
 *
 * Why: a route guard (`match: { path: /secret/ }` answered 403) and the file handler must
 * judge the same path, or "/x/../secret/f", "//secret/f" and "/%73ecret/f" reach the file the
 * guard was meant to hide. The engine normalizes the request's path once, when its head is
 * complete (src/http/session.c), routes compare it with route prefixes normalized the same
 * way (src/http/server.c), and handlers get it as `hp_request.path`.
 *
 * The normalized form (canonical: two paths are the same resource iff their forms are equal):
 * - The path is split into segments at each '/' as sent. An escaped slash, %2F, never
 *   separates segments: it is a byte of its segment, and stays "%2F" (no file has a '/' in its
 *   name, so the file handler answers 404 for it).
 * - Each segment is percent-decoded, then written back with every byte a segment may hold
 *   literally (RFC 3986 pchar: unreserved, sub-delims, ':' and '@') as itself and every other
 *   byte as %XX in uppercase hex: "%73ecret" is "secret", "%7e" is "~", "%c3%a9" and a raw é
 *   are "%C3%A9", a raw '"' or '\' is "%22" or "%5C". So the form is plain printable ASCII
 *   (no space, CR, LF or backslash), and the segments it names are its decoded bytes.
 * - Dot segments are resolved as RFC 3986 5.2.4 does, after decoding (so "%2e%2E" is ".."):
 *   "." is dropped, ".." drops the segment before it; climbing above the root ("/../x") is an
 *   error (400, as nginx answers). Empty segments ("//") are dropped: slashes are merged.
 * - It starts with one '/' and ends with '/' when the path names a folder: the last segment
 *   as sent was empty, "." or ".." ("/a/", "/a/.", "/a/b/.." are "/a/").
 * - An escape that is not '%' and two hex digits, and a NUL byte (raw or %00), are errors
 *   (400). A path that does not start with '/' is an error too.
 * The query is not part of the path: split it off first. */
#ifndef HP_CORE_URL_PATH_H
#define HP_CORE_URL_PATH_H

#include "hostpool/request.h"

#include <stddef.h>

/* The most bytes the normalized form of a `raw_len`-byte path can take, with its NUL: every
 * byte escaped. */
#define HP__URL_PATH_MAX(raw_len) (3 * (raw_len) + 1)

/* Writes the normalized form of `raw` (a path, without the query) into out[cap], NUL-terminated,
 * and its length into *len. Returns 0, or an HTTP status: 400 (not a valid path, or above the
 * root) or 414 (the form does not fit: never with cap >= HP__URL_PATH_MAX(raw.len)). */
int hp__url_path_normalize(hp_str raw, char *out, size_t cap, size_t *len);

#endif
