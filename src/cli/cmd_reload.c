/* `hostpool reload`: POST /reload, the daemon reloads the file it was started with (as SIGHUP
 * does) and answers when it is done. Printed as the daemon prints a SIGHUP reload:
 *   reloaded: 5 unchanged; replaced b; added c; removed d
 * then each server that could not start, and exit 1 if any. A refused reload (400, every
 * error of the file as file:line:column: path: message) is printed like any failed call. */
#include "cli/cli.h"
#include "cli/client.h"

#include <stdio.h>

static void print_names(const char *what, const json_t *names)
{
    size_t i;
    json_t *name;
    json_array_foreach(names, i, name) printf("%s%s", i ? ", " : what, json_string_value(name));
}

static void print_result(const hp__client *c, const json_t *answer)
{
    printf("reloaded: %lld unchanged",
           (long long)json_integer_value(json_object_get(answer, "unchanged")));
    print_names("; replaced ", json_object_get(answer, "replaced"));
    print_names("; added ", json_object_get(answer, "added"));
    print_names("; removed ", json_object_get(answer, "removed"));
    printf("\n");
    size_t i;
    json_t *failure;
    json_array_foreach(json_object_get(answer, "failed"), i, failure)
        fprintf(stderr, "hostpool: %s: %s: %s\n", c->verb,
                json_string_value(json_object_get(failure, "name")),
                json_string_value(json_object_get(failure, "error")));
}

int hp__cmd_reload(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {
            .command = "reload",
            .synopsis = "reload",
            .help =
                "\n"
                "Reloads the config file the daemon was started with (POST /reload, as SIGHUP\n"
                "does): the whole file is checked first (any error, and nothing changes), then\n"
                "only what changed moves. Prints what changed when it is done, then each server\n"
                "that could not start (exit 1). During another reload it waits for it to end.\n"}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    json_t *answer;
    status = hp__client_call_json(&c, "POST", "/reload", NULL, &answer);
    if (answer && !c.json) print_result(&c, answer);
    if (json_array_size(json_object_get(answer, "failed"))) status = HP__EXIT_FAILED;
    json_decref(answer);
    hp__client_close(&c);
    return status;
}
