/* `hostpool upstreams [NAME]`: the named upstreams as a table, one row per target, from GET
 * /upstreams (or GET /upstreams/NAME for one): UPSTREAM TARGET AVAILABLE HEALTH BREAKER
 * REQUESTS FAILURES and the connection pools' figures summed over the workers, OPEN IDLE
 * IN_USE WAITING. A field the daemon does not send is "-". */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/client_print.h"
#include "common/alloc.h"

#include <stdio.h>

static const char *const columns[] = {"UPSTREAM", "TARGET",   "AVAILABLE", "HEALTH",
                                      "BREAKER",  "REQUESTS", "FAILURES",  "OPEN",
                                      "IDLE",     "IN_USE",   "WAITING"};
#define COLUMNS (sizeof columns / sizeof *columns)

/* "yes" or "no"; "-" when the field is not a boolean. */
static char *yes_no_text(const json_t *object, const char *field)
{
    const json_t *v = json_object_get(object, field);
    return hp__strdup(!json_is_boolean(v) ? "-" : json_is_true(v) ? "yes" : "no");
}

static void add_rows(hp__table *t, const json_t *upstream)
{
    size_t i;
    json_t *target;
    json_array_foreach(json_object_get(upstream, "targets"), i, target)
    {
        const json_t *pool = json_object_get(target, "pool");
        char *row[COLUMNS] = {
            hp__server_string_text(upstream, "name"),  hp__server_string_text(target, "address"),
            yes_no_text(target, "available"),          hp__server_string_text(target, "health"),
            hp__server_string_text(target, "breaker"), hp__server_count_text(target, "requests"),
            hp__server_count_text(target, "failures"), hp__server_count_text(pool, "open"),
            hp__server_count_text(pool, "idle"),       hp__server_count_text(pool, "in_use"),
            hp__server_count_text(pool, "waiting"),
        };
        hp__table_add(t, row);
    }
}

/* `answer` is {"upstreams": [...]} or one upstream. */
static void print_table(const json_t *answer)
{
    hp__table t;
    hp__table_init(&t, columns, COLUMNS);
    const json_t *list = json_object_get(answer, "upstreams");
    if (list) {
        size_t i;
        json_t *upstream;
        json_array_foreach(list, i, upstream) add_rows(&t, upstream);
    } else {
        add_rows(&t, answer);
    }
    hp__table_print(&t, stdout);
    hp__table_close(&t);
}

int hp__cmd_upstreams(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {.command = "upstreams",
                  .synopsis = "upstreams [NAME]",
                  .help =
                      "\n"
                      "The named upstreams as a table, one row per target (GET /upstreams, or\n"
                      "GET /upstreams/NAME for one): UPSTREAM TARGET AVAILABLE HEALTH BREAKER\n"
                      "REQUESTS FAILURES, then the connection pools summed over the workers:\n"
                      "OPEN IDLE IN_USE WAITING. HEALTH is the active checks' verdict (unknown,\n"
                      "ok, warn, ko; off without checks), BREAKER the circuit breaker's state\n"
                      "(closed, open, half_open; off without one).\n",
                  .max_args = 1}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[512] = "/upstreams/";
    if (!c.arg_count) {
        path[sizeof "/upstreams" - 1] = '\0';
    } else if (!hp__client_escape(path, sizeof path, c.args[0])) {
        status = hp__client_usage_error(&c, &verb, "NAME is too long");
        hp__client_close(&c);
        return status;
    }
    json_t *answer;
    status = hp__client_call_json(&c, "GET", path, NULL, &answer);
    if (answer && !c.json) print_table(answer);
    json_decref(answer);
    hp__client_close(&c);
    return status;
}
