/* Environment variables in a config file's values: ${NAME}, ${NAME:-default} and $$.
 *
 * hp__config_expand_env() rewrites every scalar value of a parsed tree (not the keys) before
 * the checker reads it, so a port, a duration or a boolean can come from a variable as well
 * as a string: the expanded text is read as if it had been written there, plain or quoted as
 * the source had it. Rules:
 *   - ${NAME} is the variable's value; NAME is [A-Za-z_][A-Za-z0-9_]*;
 *   - ${NAME:-default} is the value when NAME is set and not empty, else `default`, taken as
 *     written (no expansion inside it; it ends at the first '}');
 *   - $$ is one '$';
 *   - a '$' followed by anything else (or by nothing) is kept as it is: "costs $5", "^a$";
 *   - an unset variable without a default, and a "${" that is not one of the forms above, is
 *     an error at the scalar (file:line:column: path), every one of them reported.
 * The config loader calls it on a file's document once its includes are merged (config.c,
 * config_include.h), each value's errors naming the file it came from (node.h: `file`); the
 * admin API's JSON bodies are not expanded (the daemon's environment is not the client's). */
#ifndef HP_CONFIG_ENV_H
#define HP_CONFIG_ENV_H

#include "config/config_errors.h"
#include "config/node.h"

/* Expands every scalar value under `root` from the process's environment (getenv), in place.
 * `file` names the source in errors (may be NULL) where a node has no file of its own. Errors are
 * added to `errs`; a scalar with an error keeps its text. */
void hp__config_expand_env(hp__cfg_node *root, const char *file, hp__config_errors *errs);

#endif
