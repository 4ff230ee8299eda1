/* The `access_log` key (top level and per server) and the top-level `error_log`.
 *
 * access_log is a boolean (on: one line per request on stderr, hostpool's own format; the
 * default) or a mapping of at least one key, which turns it on: `path` (a file instead of stderr),
 * `format` (default, combined or json) and `buffer` (a size: each worker's buffer for the file, 64
 * KiB by default). A server's access_log replaces the top level's as a whole. error_log is a
 * mapping: `path` (the daemon's diagnostics and messages go there instead of stderr) and `level`
 * (error, warning, info or debug: the most detailed written; info by default). */
#ifndef HP_CONFIG_LOGS_H
#define HP_CONFIG_LOGS_H

#include "common/log.h"
#include "config/config_check.h"
#include "hostpool/server.h"

#include <stdbool.h>

/* What `access_log` says beyond on or off; owned strings. */
typedef struct hp__config_access_log {
    char *path; /* NULL: stderr */
    hp_access_log_format format;
    size_t buffer_bytes; /* 0: the default */
} hp__config_access_log;

typedef struct hp__config_error_log {
    char *path; /* NULL: stderr */
    hp_log_level level;
} hp__config_error_log;

/* Reads `access_log` at `n` into *on and *out (replacing what *out held). */
void hp__config_read_access_log(hp_config_check *c, hp__cfg_node *n, bool *on,
                                hp__config_access_log *out);
void hp__config_access_log_copy(hp__config_access_log *to, const hp__config_access_log *from);
void hp__config_access_log_close(hp__config_access_log *a);
bool hp__config_access_log_equal(const hp__config_access_log *a, const hp__config_access_log *b);
/* The view hp_server_config takes (borrowing the path). */
hp_access_log_output hp__config_access_log_output(const hp__config_access_log *a);

void hp__config_read_error_log(hp_config_check *c, hp__cfg_node *n, hp__config_error_log *out);

#endif
