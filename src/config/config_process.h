/* A supervised process's settings in a config (`process:` of a `servers:` entry, and of a
 * switchboard's template): read into an hp__process_model, every problem reported as config
 * errors are (file:line:column: path: message).
 *
 * The model owns its strings; `config` is a view of them, what the pool and the supervisor
 * take (hostpool/process.h). Every field of `config` holds its value, defaults included
 * (boot_timeout 30 s, stop_timeout 10 s, queue 100, restart permanent 100 ms..5 s, factor 2,
 * jitter 0.1, 10 restarts within 60 s); `port` 0 is `auto`.
 *
 * Templates: "{port}" may appear in command arguments, cwd and env values (the port the
 * process listens on); "{name}" only in a switchboard's template (`is_template`), where the
 * name is known. Any other placeholder is an error, found here rather than when a process is
 * started (core/switch_name.h: hp__template_check). A template takes its port from the pool's
 * range, so `port` is refused there. */
#ifndef HP_CONFIG_CONFIG_PROCESS_H
#define HP_CONFIG_CONFIG_PROCESS_H

#include "config/config_check.h"
#include "hostpool/process.h"

#include <stdbool.h>

#define HP__PROCESS_MAX_QUEUE 100000 /* requests waiting while it boots */
#define HP__PROCESS_MAX_ARGS 1024    /* command arguments, and env entries */

typedef struct hp__process_model {
    hp_process_config config; /* a view of the strings below */
    char **command;           /* config.command_count of them */
    char *cwd;                /* NULL: hostpool's working directory */
    char **env;               /* "NAME=VALUE", config.env_count of them */
    char *ready_path;         /* NULL: ready when the port accepts a connection */
} hp__process_model;

/* Reads a `process:` mapping; in a switchboard's template (`is_template`) "{name}" may
 * appear in command, cwd and env values, "{port}" always. Every problem reported. Returns
 * whether it read without a problem; either way *out holds what was read (free it with
 * hp__process_model_free). */
bool hp__config_read_process(hp_config_check *c, hp__cfg_node *node, bool is_template,
                             hp__process_model *out);
/* Frees the strings of `m` and zeroes it; a zeroed model is a no-op. */
void hp__process_model_free(hp__process_model *m);
/* A deep copy of `from` into `to` (not initialized before), its zero fields given their
 * defaults. */
void hp__process_model_copy(hp__process_model *to, const hp_process_config *from);

/* The process config's defaults (hostpool/process.h) in a zero field of `config`. */
void hp__process_config_defaults(hp_process_config *config);

#endif
