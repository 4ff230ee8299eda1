/* What every command-line client verb shares (`hostpool ls`, `add`, `reload`...): its
 * options, the call to the admin API, how a failed call is reported, and the exit statuses.
 *
 * Options: each verb lists its own (hp__option, read by options.c) next to the common ones,
 * --admin ADDR (default $HOSTPOOL_ADMIN, else unix:hostpool.sock), --token-file FILE (default
 * $HOSTPOOL_TOKEN_FILE; its first line is the bearer token) and --json; `--help` prints the
 * verb's help. Options may come before or after the verb's arguments, as "--name VALUE" or
 * "--name=VALUE"; "--" ends them.
 *
 * Calls: hp__client_call_json() and hp__client_call() print a failure themselves, as
 *   hostpool: VERB: STATUS CODE: MESSAGE
 *     DETAIL (one line each)
 * and return the exit status; with --json the raw answer is printed instead of the human
 * form (also for a failed call, on stdout, beside the line on stderr). */
#ifndef HP_CLI_CLIENT_H
#define HP_CLI_CLIENT_H

#include "cli/admin_client.h"
#include "cli/options.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The exit statuses of the client verbs (and HP__EXIT_USAGE, 2: bad options or arguments). */
enum {
    HP__EXIT_OK = 0,
    HP__EXIT_FAILED = 1,      /* the call failed, or the pool named a failure */
    HP__EXIT_UNREACHABLE = 3, /* no connection to the admin API */
};

typedef struct hp__client_verb {
    hp__usage usage;           /* the common options' help is added to it */
    const hp__option *options; /* the verb's own, ending with {0}; NULL: none */
} hp__client_verb;

typedef struct hp__client {
    const char *verb; /* argv[0] */
    hp__admin_client admin;
    bool json;
    char *token;       /* owned; admin.token borrows it */
    const char **args; /* the arguments that are not options (owned array, borrowed strings) */
    size_t arg_count;
} hp__client;

/* Reads argv (argv[0] is the verb) into `c` and the verb's options. True: go on (close `c`
 * after). False: the help (exit 0) or a usage error (HP__EXIT_USAGE) was printed, or the
 * token file cannot be read (usage error too); return *status; `c` needs no closing. */
bool hp__client_init(hp__client *c, const hp__client_verb *verb, int argc, char **argv,
                     int *status);
void hp__client_close(hp__client *c);

/* Prints "hostpool VERB: MESSAGE" and the verb's usage on stderr; returns HP__EXIT_USAGE. */
int hp__client_usage_error(const hp__client *c, const hp__client_verb *verb, const char *message);

/* Makes the call. A 2xx answer: HP__EXIT_OK with `resp` filled (close it). Otherwise the
 * failure is printed and its exit status returned (`resp` needs no closing). */
int hp__client_call(hp__client *c, const hp__admin_request *req, hp__admin_response *resp);

/* The same for an answer in JSON. A 2xx answer: HP__EXIT_OK with the answer in *answer (new
 * reference), which the caller prints in the human form unless --json, where the raw answer
 * has been printed already. Otherwise *answer is NULL. `body` may be NULL. */
int hp__client_call_json(hp__client *c, const char *method, const char *path, const char *body,
                         json_t **answer);

/* A GET whose answer may also come with the status `also_ok`, which is then no failure
 * either: GET /health answers 503 with the health of a pool that is not healthy. */
int hp__client_get_json(hp__client *c, const char *path, int also_ok, json_t **answer);

/* Appends `text` to the path `buf` (of `cap` bytes) percent-escaped, as a path segment or a
 * query value. False when it does not fit. */
bool hp__client_escape(char *buf, size_t cap, const char *text);
/* Appends "PREFIX=VALUE" (VALUE escaped) to the path `buf` when VALUE is not NULL. False when
 * it does not fit. */
bool hp__client_add_query(char *buf, size_t cap, const char *prefix, const char *value);

/* GETs `path`, a stream of Server-Sent Events, each given to `on_event` (sse_reader.h) with
 * `c` as its argument, until the daemon ends it; the exit status. */
int hp__client_follow(hp__client *c, const char *path,
                      void (*on_event)(void *c, const char *event, const char *data));

#endif
