/* Event topics and the patterns that select them.
 *
 * A topic is one or more dot-separated, non-empty segments without `*`: "server.started",
 * "server.health.changed", "pool". A pattern is made of segments of three kinds:
 *
 *   `*`   matches exactly one segment, whatever it is;
 *   `**`  matches one or more segments; it may only be the last segment of a pattern;
 *   other segments match themselves literally (case-sensitive).
 *
 * So `server.*` matches `server.started` but neither `server.health.changed` nor `server`;
 * `server.**` matches `server.started` and `server.health.changed` but not `server`; `**`
 * alone matches every topic; `*` alone matches every one-segment topic.
 *
 * Invalid patterns are refused (hp__topic_pattern_valid() is false): NULL or empty, an empty
 * segment ("a..b", ".a", "a."), `**` before the last segment ("**.a"), and `*` inside a
 * segment ("ser*", "*x", "***").
 *
 * Pure functions over NUL-terminated strings; no allocation, any thread. */
#ifndef HP_CORE_TOPIC_H
#define HP_CORE_TOPIC_H

#include <stdbool.h>

bool hp__topic_pattern_valid(const char *pattern);
/* Is `topic` a valid topic (see above)? The bus publishes only valid topics. */
bool hp__topic_valid(const char *topic);
/* Does `topic` match `pattern`? Both must be valid; an invalid one never matches. */
bool hp__topic_match(const char *pattern, const char *topic);

#endif
