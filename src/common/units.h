/* Durations ("250ms", "10s", "15m", "1h") and sizes ("512", "16KiB", "1MiB", "1GiB"; "KB"/"MB"
 * are taken as the same powers of two, as nginx does), as config files and flags write them. */
#ifndef HP_COMMON_UNITS_H
#define HP_COMMON_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* A bare number of a duration is seconds. Returns false on anything else. */
bool hp__parse_duration_ms(const char *text, uint64_t *ms);
/* A bare number of a size is bytes. */
bool hp__parse_size(const char *text, uint64_t *bytes);

#endif
