/* From the request's path to a path relative to the served root, and the folder redirect.
 *
 * The request's path is the engine's normalized form (src/core/url_path.h): no dot segments,
 * no empty ones, every byte that is not plain in a segment written as %XX. So turning it into
 * a file's path is only: drop the leading '/', note a trailing one (the client names a
 * folder), and decode each segment into the name's bytes ("%20" is a space). There is no
 * second normalization here: the path the routes matched is the path served. A segment that
 * holds an escaped slash (%2F) names no file, since no name holds a '/': 404 (it is never
 * turned into a separator, which would serve "/secret/f" for "/secret%2Ff" past a route
 * that guards "/secret/"). Symlinks are judged when the file is opened beneath the root
 * (file_cache.c: openat2 with RESOLVE_BENEATH), which also refuses any ".." that a path not
 * made by the engine might hold. */
#ifndef HP_HANDLERS_FILE_PATH_H
#define HP_HANDLERS_FILE_PATH_H

#include "hostpool/request.h"

#include <stdbool.h>

/* Writes the root-relative, decoded path of the normalized `path` into out[cap],
 * NUL-terminated ("" for the root; its length in *len), and whether `path` ends in '/' into
 * *folder. Returns 0 or an HTTP status: 404 (an escaped '/'), 414 (longer than cap), 400
 * (not a normalized path: no leading '/', a bad escape or a NUL, which the engine never
 * passes). */
int hp__file_path_from_request(hp_str path, char *out, size_t cap, size_t *len, bool *folder);

/* The Location of the redirect from a folder asked without its trailing slash: the request's
 * normalized `path`, "/", then "?" and `query` when there is one. A normalized path starts
 * with one '/' followed by a segment, never "//" or "/\" (a backslash is "%5C"), so the
 * Location cannot name another host ("//evil.example/../docs" is "/docs", redirected to
 * "/docs/"). Returns the length written into out[cap] (NUL-terminated), 0 when it does not
 * fit. */
size_t hp__file_path_folder_location(hp_str path, hp_str query, char *out, size_t cap);

#endif
