/* Event topics and the patterns that select them.
 *
 * A topic is dot-separated segments ("server.started"). In a pattern, `*` matches exactly one
 * segment and `**`, allowed only as the last segment, matches one or more; anything else
 * matches itself. So `server.*` matches `server.started` but neither `server` nor
 * `server.health.changed`; `server.**` matches both of the latter two's longer forms; `**`
 * matches every topic. A pattern with an empty segment, a `**` before the end, or a `*` inside
 * a segment ("ser*") is invalid. */
#ifndef HP_CORE_TOPIC_H
#define HP_CORE_TOPIC_H

#include <stdbool.h>

bool hp__topic_pattern_valid(const char *pattern);
/* Does `topic` match the valid `pattern`? */
bool hp__topic_match(const char *pattern, const char *topic);

#endif
