/* Durations and sizes as config files and flags write them, and back.
 *
 * Exactly what docs/CONFIG.md lists is accepted, nothing that merely looks close:
 *   - a duration is a whole number followed by ms, s, m or h ("250ms", "10s", "15m", "1h");
 *     a bare number is seconds;
 *   - a size is a whole number followed by KiB, MiB or GiB ("16KiB", "1MiB"); a bare number is
 *     bytes. Decimal-looking units ("10MB", "1GB", "k") are refused rather than guessed at.
 * No sign, no space, no fraction, units as written (case matters). */
#ifndef HP_COMMON_UNITS_H
#define HP_COMMON_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is accepted, for error messages. */
#define HP__DURATION_SYNTAX                                                                        \
    "a whole number followed by ms, s, m or h (250ms, 10s, 15m, 1h); a bare number is seconds"
#define HP__SIZE_SYNTAX                                                                            \
    "a whole number followed by KiB, MiB or GiB (16KiB, 1MiB); a bare number is bytes (512)"

/* Returns false on anything else, and on a value that does not fit in 64 bits. */
bool hp__parse_duration_ms(const char *text, uint64_t *ms);
bool hp__parse_size(const char *text, uint64_t *bytes);

/* `ms` or `bytes` in the largest unit that writes it exactly ("24h", "90s", "250ms"; "1MiB",
 * "1536KiB", "100"), as the parsers above read it. */
void hp__format_duration_ms(uint64_t ms, char *out, size_t cap);
void hp__format_size(uint64_t bytes, char *out, size_t cap);

#endif
