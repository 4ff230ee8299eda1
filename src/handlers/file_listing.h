/* The listing of a folder the file handler serves with `browse: true` (docs/CONFIG.md), for a
 * folder asked with its trailing '/' that has no index file.
 *
 * HTML (names HTML-escaped in the text, percent-escaped in the links; sizes, modification
 * times in UTC; folders first with a trailing '/', then files, each group sorted by name; a
 * link to ../ except at the root), or JSON for a request whose Accept names
 * application/json: [{"name", "type": "file" | "dir", "size", "mtime"}] (mtime in RFC 3339,
 * UTC). Names starting with '.' are hidden; so are entries that are neither files nor folders,
 * and symbolic links that lead outside the root (a link is resolved beneath the root, as the
 * file handler opens files: what it lists, it would serve).
 *
 * Bounded: at most HP__FILE_LISTING_MAX entries are read from the folder (a folder of 100,000
 * entries costs the worker one such pass, not a hundred), and a listing cut there says so:
 * a line in the HTML, the field `Listing-Truncated: HP__FILE_LISTING_MAX` with the JSON.
 *
 * Threading: the worker's, like the file handler; the folder is read there (one getdents pass
 * and one fstatat per entry listed). The entries and the answer's body are allocated per answer;
 * the body is freed when the exchange ends. */
#ifndef HP_HANDLERS_FILE_LISTING_H
#define HP_HANDLERS_FILE_LISTING_H

#include "hostpool/request.h"

#include <stddef.h>

#define HP__FILE_LISTING_MAX 1000

/* Answers `req` with the listing of the folder `path` (root-relative and decoded, as
 * handlers/file_path.h makes it; "" is the root), opened beneath `root_fd`: 200, or the error
 * status opening it gives (404, 403, 500). */
void hp__file_listing_respond(hp_request *req, int root_fd, const char *path, size_t len);

#endif
