/* Validators and conditional requests (RFC 9110 sections 8.8 and 13) for static files.
 *
 * Entity-tags are strong and name one version of one file: "<mtime s>.<mtime ns>-<size>-
 * <inode>" in hex. The nanoseconds and the inode matter: an editor that rewrites a file within
 * the same second with the same size, or a rename over it (rsync, deploy scripts keep mtimes),
 * must change the tag, or a client holding the old one is told 304 for stale bytes.
 *
 * Precedence (RFC 9110 13.2.2): If-None-Match, when present, decides alone, by weak
 * comparison, "*" matching any current file; only without it is If-Modified-Since consulted
 * (not modified when the file's mtime, in whole seconds, is not later than the date; an
 * invalid date is ignored). If-Range lets a Range apply only when its validator still
 * matches: an entity-tag by strong comparison (a W/ tag never matches) or an HTTP-date equal
 * to Last-Modified. All functions are pure. */
#ifndef HP_HTTP_CONDITIONAL_H
#define HP_HTTP_CONDITIONAL_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define HP__ETAG_MAX 64 /* with quotes and the NUL */

/* Writes the quoted entity-tag of a file version into out. */
void hp__etag_format(char out[HP__ETAG_MAX], struct timespec mtime, uint64_t size, uint64_t ino);

/* Does the If-None-Match value `list` match `etag` (weak comparison; "*" matches)? */
bool hp__etag_list_matches(hp_str list, const char *etag);

/* Should the answer be 304? The header arguments are NULL when absent. */
bool hp__conditional_not_modified(const hp_str *if_none_match, const hp_str *if_modified_since,
                                  const char *etag, time_t mtime);

/* May a Range be honoured, given If-Range (NULL when absent)? */
bool hp__conditional_range_applies(const hp_str *if_range, const char *etag, time_t mtime);

#endif
