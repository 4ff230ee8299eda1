/* Options and the run loop shared by the single-server commands (respond, file-server). */
#ifndef HP_CLI_SERVE_H
#define HP_CLI_SERVE_H

#include "cli/options.h"
#include "hostpool/hostpool.h"

#define MAX_HEADERS 32

typedef struct serve_options {
    const char *listen;
    unsigned workers;
    bool access_log;
    bool no_access_log; /* --no-access-log, read into access_log */
    hp_limits limits;
    /* respond */
    const char *body;
    int status;
    const char *headers[2 * MAX_HEADERS];
    size_t header_count;
    /* file-server */
    const char *root;
} serve_options;

/* Reads argv (argv[0] is the command name) into `o`: the options every single-server command
 * takes (--listen, --workers, --no-access-log, the limits) and the command's own `options`
 * (ending with {0}), whose values hp__serve_apply may check and store (ctx: `o`). --listen is
 * required. False: the help or a usage error was printed; return *status. */
bool hp__serve_read_options(const hp__usage *u, const hp__option *options, int argc, char **argv,
                            serve_options *o, int *status);
/* An hp__option `apply` for serve_options (ctx): --status, --header (repeats) and the others. */
bool hp__serve_apply(void *o, const char *name, const char *value);
/* The help of the common options, for the commands' hp__usage.common_help. */
extern const char hp__serve_options_help[];

/* Runs one server named `name` whose only route is `handler` (owned from now on) until
 * SIGINT/SIGTERM; returns the exit status. */
int hp__serve(const serve_options *o, const char *name, hp_handler *handler);

#endif
