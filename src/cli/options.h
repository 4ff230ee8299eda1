/* The options of every hostpool command, read one way (options.c): the daemon's (`run`,
 * `validate`), the single-server commands' (`respond`, `file-server`) and the client verbs'
 * (`ls`, `add`, `reload`...).
 *
 * A command lists its options in tables of hp__option and says how it is used in an
 * hp__usage. hp__options_read() reads argv with them:
 *   - "--name VALUE", "--name=VALUE", or the short name "-f VALUE"; a switch takes no value;
 *   - options and arguments in any order; "--" ends the options (what follows is arguments);
 *   - an option that is not in the tables, a missing value, a bad value (refused by the
 *     option's `apply`), an option given twice (unless it `repeats`), too few or too many
 *     arguments: a usage error, printed as
 *       hostpool CMD: WHY
 *       usage: hostpool SYNOPSIS
 *       (hostpool CMD --help says more)
 *     on stderr, exit 2; nothing else happens;
 *   - "--help" or "-h" anywhere before "--": the command's help on stdout, exit 0, whatever
 *     else the line holds (a command's help never needs a daemon or a config).
 * Control thread only; nothing here keeps state between calls. */
#ifndef HP_CLI_OPTIONS_H
#define HP_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* The exit status of a usage error, for every command. */
#define HP__EXIT_USAGE 2

/* One option; exactly one of `value`, `set` and `apply` says what it takes. Tables end with an
 * entry whose `name` is NULL. */
typedef struct hp__option {
    const char *name;       /* "--config" */
    const char *short_name; /* "-c", or NULL */
    const char **value;     /* takes a value, stored here (borrowed from argv) */
    bool *set;              /* a switch: set to true when given */
    /* takes a value that `apply` checks and stores; false when the value is bad */
    bool (*apply)(void *ctx, const char *name, const char *value);
    void *ctx;
    bool repeats; /* may be given more than once (each value goes to `apply`) */
} hp__option;

typedef struct hp__usage {
    const char *command;     /* "ls" */
    const char *synopsis;    /* after "usage: hostpool ": "ls [--name N]" */
    const char *help;        /* what --help prints after the usage line (ends with "\n") */
    const char *common_help; /* printed after `help`: options shared by commands, or NULL */
    size_t min_args, max_args;
} hp__usage;

typedef struct hp__args {
    const char **items; /* the arguments that are not options (owned array, borrowed strings) */
    size_t count;
} hp__args;

/* Reads argv (argv[0] is the command) with `tables` (NULL-terminated). True: the command goes
 * on with its arguments in `args` (free args->items). False: the help or a usage error was
 * printed; return *exit_status (0 or HP__EXIT_USAGE) at once; `args` needs no freeing. */
bool hp__options_read(const hp__usage *u, const hp__option *const *tables, int argc, char **argv,
                      hp__args *args, int *exit_status);

/* A usage error found after reading (a required option missing): prints it as above and
 * returns HP__EXIT_USAGE. */
int hp__usage_error(const hp__usage *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
