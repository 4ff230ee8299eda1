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
 * Invalid patterns are refused (hp__topic_pattern_valid() is false): NULL or empty, longer than
 * HP__TOPIC_MAX bytes, an empty segment ("a..b", ".a", "a."), `**` before the last segment
 * ("**.a"), and `*` inside a segment ("ser*", "*x", "***"). A topic is bounded alike, so what a
 * WebSocket peer subscribes to or publishes on is too.
 *
 * Pure functions over NUL-terminated strings; no allocation, any thread. */
#ifndef HP_CORE_TOPIC_H
#define HP_CORE_TOPIC_H

#include <stdbool.h>

#define HP__TOPIC_MAX 255 /* bytes of a topic or a pattern */
#include <stddef.h>

bool hp__topic_pattern_valid(const char *pattern);
/* Is `topic` a valid topic (see above)? The bus publishes only valid topics. */
bool hp__topic_valid(const char *topic);
/* Does `topic` match `pattern`? Both must be valid; an invalid one never matches. */
bool hp__topic_match(const char *pattern, const char *topic);

/* Can some topic match both patterns? (`chat.*` and `*.room`: yes; `chat.*` and `chat.**`:
 * yes; `a.*` and `a.*.b`: no.) False when either is invalid. */
bool hp__topic_patterns_overlap(const char *a, const char *b);

/* Is every topic `pattern` matches matched by at least one of the `n` patterns `allowed`?
 * (`chat.*` is covered by {`chat.**`}; `chat.**` by {`chat.*`, `chat.*.**`} together, though by
 * neither alone; `*` is not covered by {`a`, `b`}.) False when `pattern` is invalid; invalid
 * patterns of `allowed` cover nothing.
 *
 * How: a `*` of `pattern` stands for every segment, so it is covered only where an allowed
 * pattern has a wildcard, which covers every literal too: the test puts in its place a "fresh"
 * segment that only a wildcard matches. A final `**` stands for 1, 2, 3 ... fresh segments;
 * an allowed pattern without `**` matches one length only and one ending in `**` every length
 * from its own, so the lengths up to (the longest allowed pattern + 1) decide them all. A
 * pattern of more than 64 segments is never covered. */
bool hp__topic_pattern_covered(const char *pattern, const char *const *allowed, size_t n);

#endif
