/* Validators and conditional requests (RFC 9110 sections 8.8 and 13) for static files.
 *
 * Entity-tags are strong and name one version of one file: "<mtime s>.<mtime ns>-<size>-
 * <inode>" in hex. The nanoseconds and the inode matter: an editor that rewrites a file within
 * the same second with the same size, or a rename over it (rsync, deploy scripts keep mtimes),
 * must change the tag, or a client holding the old one is told 304 for stale bytes.
 *
 * Preconditions of a GET or HEAD, in the order of RFC 9110 13.2.2:
 * 1. If-Match: 412 unless one of its tags matches by strong comparison (a W/ tag never does)
 *    or it is "*". Its lines together are one list.
 * 2. Without If-Match, If-Unmodified-Since: 412 when the file's mtime (whole seconds) is
 *    later than the date. A date in the future is no failure: the file was not modified since.
 * 3. If-None-Match decides alone, by weak comparison, "*" matching any current file: 304
 *    when a tag matches.
 * 4. Without If-None-Match, If-Modified-Since: 304 when the mtime is not later than the date,
 *    and the date is not later than now. A date in the future is ignored (RFC 9110 13.1.3
 *    reads the date on the origin server's clock; RFC 2616 14.25 said it outright: a date
 *    later than the server's current time is invalid), or a client that sent one would be
 *    told 304 for every version the file takes until then.
 * A date header that is not one valid HTTP-date, or comes in more than one line, is ignored
 * (RFC 9110 13.1.3, 13.1.4). If-Range lets a Range apply only when its validator still
 * matches: an entity-tag by strong comparison or an HTTP-date equal to Last-Modified.
 *
 * Last-Modified is never later than now (RFC 9110 8.8.2.1): a file whose mtime is in the
 * future is sent with the time of the answer. All functions are pure. */
#ifndef HP_HTTP_CONDITIONAL_H
#define HP_HTTP_CONDITIONAL_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define HP__ETAG_MAX 64 /* with quotes and the NUL */

/* Writes the quoted entity-tag of a file version into out. */
void hp__etag_format(char out[HP__ETAG_MAX], struct timespec mtime, uint64_t size, uint64_t ino);

/* What the preconditions of `req`, a GET or HEAD of the file whose validators are `etag` and
 * `mtime`, make of the answer at time `now`: 412, 304, or 0 (answer as asked). */
int hp__conditional_status(const hp_request *req, const char *etag, time_t mtime, time_t now);

/* May a Range be honoured, given If-Range (NULL when absent)? */
bool hp__conditional_range_applies(const hp_str *if_range, const char *etag, time_t mtime);

#endif
