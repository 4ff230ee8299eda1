/* Turning a request path into a path relative to the served root.
 *
 * The path is percent-decoded first (so %2e%2e and %2f are judged as what they decode to),
 * then split at '/': empty and "." segments are dropped and ".." removes the previous
 * segment, as nginx does. A ".." that would climb above the root, a NUL byte (raw or %00), or
 * an invalid escape make the request a 400. The result never starts with '/' and is "" for the
 * root itself. Symlinks are judged later, when the file is opened beneath the root
 * (file_cache.c: openat2 with RESOLVE_BENEATH). */
#ifndef HP_HANDLERS_FILE_PATH_H
#define HP_HANDLERS_FILE_PATH_H

#include "hostpool/request.h"

#include <stdbool.h>

/* Returns 0 and writes a NUL-terminated relative path into out[cap] (its length in *len), or
 * an HTTP status: 400 (bad path) or 414 (longer than cap). */
int hp__file_path_normalize(hp_str path, char *out, size_t cap, size_t *len);

/* The Location of the redirect from a folder asked without its trailing slash: "/", the
 * normalized `path` percent-encoded, "/" (unless `path` is the root ""), then "?" and `query`
 * when there is one. Built from the normalized path, never from the request's, so a request
 * for "//host/../dir" cannot produce the protocol-relative "//host/../dir/" (an open
 * redirect). Returns the length written into out[cap] (NUL-terminated), 0 when it does not
 * fit. */
size_t hp__file_path_folder_location(const char *path, size_t len, hp_str query, char *out,
                                     size_t cap);

#endif
