/* The verbs that change servers: `add -f FILE`, `rm NAME`, and `start|stop|restart NAME` or
 * `start|stop|restart --all`.
 *
 * add: FILE (or "-", stdin) is one server, in YAML or JSON, as one entry of a config's
 * `servers:` list. The config parser reads it (src/config/parse.c), so a syntax error is
 * reported here as file:line:column; the tree is sent as the JSON the daemon's running config
 * would hold (hp__cfg_node_to_json), and the daemon checks what it means (every error, 400).
 * The daemon is the only judge of a server: the client never validates against its own idea
 * of the config.
 *
 * --all uses the pool-wide endpoints, whose answer names each server that failed: those are
 * printed, and any failure is exit 1 (partial failure is never hidden). */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/client_print.h"

#include "common/alloc.h"
#include "config/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- add ---- */

static char *read_stream(FILE *in, size_t *len)
{
    char *text = NULL;
    *len = 0;
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        text = hp__realloc(text, *len + got + 1);
        memcpy(text + *len, buf, got);
        *len += got;
    }
    return text ? text : hp__strdup("");
}

/* FILE ("-": stdin) parsed into a tree; NULL after printing every error. */
static hp__cfg_node *parse_server_file(const char *verb, const char *path)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__cfg_node *root;
    if (strcmp(path, "-") == 0) {
        size_t len;
        char *text = read_stream(stdin, &len);
        root = hp__cfg_parse_yaml(text, len, "<stdin>", &errs);
        free(text);
    } else {
        root = hp__cfg_parse_file(path, &errs);
    }
    if (errs.count) {
        hp__config_errors_print(&errs, stderr);
        fprintf(stderr, "hostpool %s: %zu error%s in %s\n", verb, errs.count,
                errs.count == 1 ? "" : "s", path);
        hp__cfg_node_destroy(root);
        root = NULL;
    }
    hp__config_errors_close(&errs);
    return root;
}

/* The server file as compact JSON text (owned), or NULL after printing why. */
static char *server_file_json(const char *verb, const char *path)
{
    hp__cfg_node *root = parse_server_file(verb, path);
    if (!root) return NULL;
    json_t *json = hp__cfg_node_to_json(root);
    hp__cfg_node_destroy(root);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    return text;
}

int hp__cmd_add(int argc, char **argv)
{
    const char *file = NULL;
    const hp__option options[] = {{.name = "--file", .short_name = "-f", .value = &file}, {0}};
    const hp__client_verb verb = {
        .usage =
            {.command = "add",
             .synopsis = "add -f FILE",
             .help =
                 "\n"
                 "Adds and starts the server FILE describes (POST /servers): one server, in YAML\n"
                 "or JSON, as one entry of a config's servers: list. The daemon checks it and\n"
                 "reports every error; nothing is added then.\n"
                 "\n"
                 "  -f, --file FILE   the server's file; - reads it from stdin\n"},
        .options = options};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char *body = NULL;
    if (!file) {
        status = hp__client_usage_error(&c, &verb, "-f FILE is required");
    } else if (!(body = server_file_json(c.verb, file))) {
        status = HP__EXIT_FAILED;
    } else {
        json_t *server;
        status = hp__client_call_json(&c, "POST", "/servers", body, &server);
        if (server && !c.json) {
            char *listen = hp__server_listen_text(server);
            printf("added %s: %s on %s\n", json_string_value(json_object_get(server, "name")),
                   json_string_value(json_object_get(server, "state")), listen);
            free(listen);
        }
        json_decref(server);
    }
    free(body);
    hp__client_close(&c);
    return status;
}

/* ---- rm ---- */

/* "/servers/NAME" and `suffix` in `path`; false when NAME does not fit. */
static bool server_path(char *path, size_t cap, const char *name, const char *suffix)
{
    snprintf(path, cap, "/servers/");
    if (!hp__client_escape(path, cap, name)) return false;
    size_t len = strlen(path);
    return (size_t)snprintf(path + len, cap - len, "%s", suffix) < cap - len;
}

int hp__cmd_rm(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {
            .command = "rm",
            .synopsis = "rm NAME",
            .help =
                "\n"
                "Drains, stops and removes the server NAME (DELETE /servers/NAME); answers when\n"
                "its requests in flight have finished.\n",
            .min_args = 1,
            .max_args = 1}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[512];
    if (!server_path(path, sizeof path, c.args[0], "")) {
        status = hp__client_usage_error(&c, &verb, "NAME is too long");
    } else {
        json_t *answer;
        status = hp__client_call_json(&c, "DELETE", path, NULL, &answer);
        if (answer && !c.json)
            printf("removed %s\n", json_string_value(json_object_get(answer, "removed")));
        json_decref(answer);
    }
    hp__client_close(&c);
    return status;
}

/* ---- start, stop, restart ---- */

static const char *past_tense(const char *verb)
{
    return strcmp(verb, "start") == 0  ? "started"
           : strcmp(verb, "stop") == 0 ? "stopped"
                                       : "restarted";
}

/* {"attempted": N, "failed": [{"name", "error"}]}: a summary, and each failure on stderr. */
static void print_pool_result(const hp__client *c, const json_t *answer)
{
    json_t *failed = json_object_get(answer, "failed"), *failure;
    json_int_t attempted = json_integer_value(json_object_get(answer, "attempted"));
    printf("%s %lld of %lld servers\n", past_tense(c->verb),
           (long long)(attempted - (json_int_t)json_array_size(failed)), (long long)attempted);
    size_t i;
    json_array_foreach(failed, i, failure)
        fprintf(stderr, "hostpool: %s: %s: %s\n", c->verb,
                json_string_value(json_object_get(failure, "name")),
                json_string_value(json_object_get(failure, "error")));
}

static int pool_wide(hp__client *c)
{
    char path[64];
    snprintf(path, sizeof path, "/pool/%s", c->verb);
    json_t *answer;
    int status = hp__client_call_json(c, "POST", path, NULL, &answer);
    if (answer && !c->json) print_pool_result(c, answer);
    if (json_array_size(json_object_get(answer, "failed"))) status = HP__EXIT_FAILED;
    json_decref(answer);
    return status;
}

static int one_server(hp__client *c, const hp__client_verb *verb)
{
    char path[512], suffix[16];
    snprintf(suffix, sizeof suffix, "/%s", c->verb);
    if (!server_path(path, sizeof path, c->args[0], suffix))
        return hp__client_usage_error(c, verb, "NAME is too long");
    json_t *server;
    int status = hp__client_call_json(c, "POST", path, NULL, &server);
    if (server && !c->json)
        printf("%s %s: %s\n", past_tense(c->verb),
               json_string_value(json_object_get(server, "name")),
               json_string_value(json_object_get(server, "state")));
    json_decref(server);
    return status;
}

/* start, stop and restart: argv[0] says which. */
int hp__cmd_lifecycle(int argc, char **argv)
{
    bool all = false;
    const hp__option options[] = {{.name = "--all", .set = &all}, {0}};
    char synopsis[64], help[512];
    snprintf(synopsis, sizeof synopsis, "%s NAME | %s --all", argv[0], argv[0]);
    snprintf(help, sizeof help,
             "\n"
             "%s the server NAME (POST /servers/NAME/%s), or with --all every server but the\n"
             "admin one (POST /pool/%s), naming each that failed (exit 1).%s\n",
             strcmp(argv[0], "start") == 0  ? "Starts"
             : strcmp(argv[0], "stop") == 0 ? "Stops (drains)"
                                            : "Restarts",
             argv[0], argv[0],
             strcmp(argv[0], "start") == 0 ? "" : " Answers when the drain is over.");
    const hp__client_verb verb = {
        .usage = {.command = argv[0], .synopsis = synopsis, .help = help, .max_args = 1},
        .options = options};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    if (all == (c.arg_count == 1))
        status = hp__client_usage_error(&c, &verb, "give either NAME or --all");
    else
        status = all ? pool_wide(&c) : one_server(&c, &verb);
    hp__client_close(&c);
    return status;
}
