/* The check of a config in progress, and the reads the checker shares with handler kinds.
 *
 * The public reads (hostpool/handler_kind.h: hp_config_string, hp_config_integer, ...) are
 * what the config checker (config.c) and every handler kind's check use, so a setting of a
 * registered kind is read, marked and reported exactly as a built-in one. What only the
 * checker needs is here. */
#ifndef HP_CONFIG_CHECK_H
#define HP_CONFIG_CHECK_H

#include "config/config_errors.h"
#include "config/node.h"
#include "hostpool/handler_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_config_check {
    const char *file; /* names the source in errors; NULL when it is not a file */
    hp__config_errors *errs;
};

/* Records what a scalar was read as (node.h), so the JSON of a checked tree is its checked
 * form: the running config the admin API keeps and shows. */
static inline void hp__config_read_as(hp__cfg_node *n, hp__cfg_read read)
{
    n->read = read;
}

/* An error under the path of `path_node`, at the position of `pos_node`. */
void hp__config_fail_at(hp_config_check *c, hp__cfg_node *path_node, hp__cfg_node *pos_node,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "expected `expected`, got <what n is>". */
void hp__config_fail_type(hp_config_check *c, hp__cfg_node *n, const char *expected);
/* What a node is, for messages: "a mapping", "a list", "null", or the scalar quoted (at most
 * HP_CONFIG_QUOTE_MAX characters of it) in `buf`. */
const char *hp__config_describe(const hp__cfg_node *n, char *buf, size_t len);
/* An unknown key of `map`, with the known key it is one slip away from, if any. */
void hp__config_fail_unknown_key(hp_config_check *c, hp__cfg_node *map, hp__cfg_node *key,
                                 const char *const *allowed);
/* Is it an unquoted integer ("-12", "80")? */
bool hp__config_plain_integer(const hp__cfg_node *n);
/* A number written plain, not quoted and starting with a digit (2, 1.5, 0.05, 5e-1), into
 * *out; false (nothing reported) for anything else. */
bool hp__config_plain_number(const hp__cfg_node *n, double *out);

/* What hp__config_amount reads: a duration (common/units.h: "250ms", "10s"; a bare number is
 * seconds) in milliseconds, a size ("16KiB"; a bare number is bytes), or a plain integer. */
typedef enum { HP__CONFIG_DURATION, HP__CONFIG_SIZE, HP__CONFIG_COUNT } hp__config_amount_kind;
/* A duration, a size or a count in [min, max] (min 0 or 1) into *out ("must be greater than 0"
 * below min, "... is too large (at most 24h)" above max). A duration or size written as a bare
 * number is kept a number in the checked document, with its unit a string. */
bool hp__config_amount(hp_config_check *c, hp__cfg_node *n, hp__config_amount_kind kind,
                       uint64_t min, uint64_t max, uint64_t *out);

/* The names of servers and upstreams: 1 to HP__CONFIG_NAME_MAX of A-Z a-z 0-9 . _ - */
#define HP__CONFIG_NAME_MAX 64
bool hp__config_name_valid(const char *s);

#endif
