/* Options and the run loop shared by the single-server commands (respond, file-server). */
#ifndef HP_CLI_SERVE_H
#define HP_CLI_SERVE_H

#include "hostpool/hostpool.h"

#define MAX_HEADERS 32

typedef struct serve_options {
    const char *listen;
    unsigned workers;
    bool access_log;
    hp_limits limits;
    /* respond */
    const char *body;
    int status;
    const char *headers[2 * MAX_HEADERS];
    size_t header_count;
    /* file-server */
    const char *root;
} serve_options;

/* Parses argv (argv[0] is the command name); prints the problem and returns -1 on a bad one. */
int hp__serve_parse_options(int argc, char **argv, serve_options *o);
/* Runs one server named `name` whose only route is `handler` (owned from now on) until
 * SIGINT/SIGTERM; returns the exit status. */
int hp__serve(const serve_options *o, const char *name, hp_handler *handler);

#endif
