/* `hostpool ls [--name N] [--bind ADDR] [--expose URL]`: the pool as a table, one row per
 * server, from GET /servers; then, when the daemon has switchboards, a second table, one row
 * per switchboard, from GET /switchboards (a daemon without that endpoint prints none).
 *
 * Each filter is exact, or a POSIX extended regex when its value starts with "~"; they map
 * one to one onto the API's query (--name web: name=web; --name '~^w': name_re=^w), so the
 * daemon does all the matching and a bad regex is its 400. REQUESTS and ERRORS come from the
 * server's "requests" and "errors" fields, "-" with a daemon that does not count. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/client_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ls_filters {
    const char *name, *bind, *expose;
} ls_filters;

/* Appends "&key=value" (or "&key_re=regex" for "~regex") to the query in `path`. */
static bool add_filter(char *path, size_t cap, const char *key, const char *value)
{
    if (!value) return true;
    bool regex = value[0] == '~';
    size_t len = strlen(path);
    int added = snprintf(path + len, cap - len, "%c%s%s=", strchr(path, '?') ? '&' : '?', key,
                         regex ? "_re" : "");
    return (size_t)added < cap - len && hp__client_escape(path, cap, value + regex);
}

static const char *const columns[] = {"NAME",   "STATE",    "LISTEN", "HOSTS",
                                      "UPTIME", "REQUESTS", "ERRORS"};

static void print_table(const json_t *answer)
{
    hp__table t;
    hp__table_init(&t, columns, sizeof columns / sizeof *columns);
    size_t i;
    json_t *server;
    json_array_foreach(json_object_get(answer, "servers"), i, server)
    {
        char *row[] = {
            hp__server_string_text(server, "name"), hp__server_string_text(server, "state"),
            hp__server_listen_text(server),         hp__server_hosts_text(server),
            hp__server_uptime_text(server),         hp__server_count_text(server, "requests"),
            hp__server_count_text(server, "errors")};
        hp__table_add(&t, row);
    }
    hp__table_print(&t, stdout);
    hp__table_close(&t);
}

static const char *const switchboard_columns[] = {"SWITCHBOARD", "LISTEN", "HOSTS", "TEMPLATE",
                                                  "SERVERS",     "MAX",    "IDLE"};

static char *integer_text(const json_t *o, const char *field)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(json_object_get(o, field)));
    return strdup(buf);
}

static char *idle_text(const json_t *sb)
{
    json_int_t ms = json_integer_value(json_object_get(sb, "idle_timeout_ms"));
    char buf[32] = "never";
    if (ms > 0) hp__format_duration((uint64_t)ms, buf, sizeof buf);
    return strdup(buf);
}

/* The SWITCHBOARD table, after the servers', when there is any switchboard. */
static void print_switchboards(hp__client *c)
{
    json_t *answer = NULL;
    hp__client_get_json(c, "/switchboards", 404, &answer);
    json_t *list = json_object_get(answer, "switchboards");
    if (json_array_size(list) > 0) {
        hp__table t;
        hp__table_init(&t, switchboard_columns,
                       sizeof switchboard_columns / sizeof *switchboard_columns);
        size_t i;
        json_t *sb;
        json_array_foreach(list, i, sb)
        {
            char *row[] = {hp__server_string_text(sb, "name"),
                           hp__server_string_text(sb, "listen"),
                           hp__server_hosts_text(sb),
                           hp__server_string_text(sb, "template"),
                           integer_text(sb, "count"),
                           integer_text(sb, "max_servers"),
                           idle_text(sb)};
            hp__table_add(&t, row);
        }
        printf("\n");
        hp__table_print(&t, stdout);
        hp__table_close(&t);
    }
    json_decref(answer);
}

int hp__cmd_ls(int argc, char **argv)
{
    ls_filters f = {0};
    const hp__option options[] = {
        {.name = "--name", .value = &f.name},
        {.name = "--bind", .value = &f.bind},
        {.name = "--expose", .value = &f.expose},
        {0},
    };
    const hp__client_verb verb = {
        .usage =
            {.command = "ls",
             .synopsis = "ls [--name N|~REGEX] [--bind ADDR|~REGEX] [--expose URL|~REGEX]",
             .help =
                 "\n"
                 "The daemon's servers as a table (GET /servers): NAME STATE LISTEN HOSTS UPTIME\n"
                 "REQUESTS ERRORS. A filter is exact, or a POSIX extended regex after \"~\";\n"
                 "several filters intersect. Then, if there are any, the switchboards\n"
                 "(GET /switchboards): SWITCHBOARD LISTEN HOSTS TEMPLATE SERVERS MAX IDLE.\n"
                 "\n"
                 "  --name N       the server's name\n"
                 "  --bind ADDR    one of its listen addresses (127.0.0.1:8080)\n"
                 "  --expose URL   its expose URL\n"},
        .options = options};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[4096] = "/servers";
    if (!add_filter(path, sizeof path, "name", f.name) ||
        !add_filter(path, sizeof path, "bind", f.bind) ||
        !add_filter(path, sizeof path, "expose", f.expose)) {
        status = hp__client_usage_error(&c, &verb, "the filters are too long");
    } else {
        json_t *answer;
        status = hp__client_call_json(&c, "GET", path, NULL, &answer);
        if (answer && !c.json) {
            print_table(answer);
            print_switchboards(&c);
        }
        json_decref(answer);
    }
    hp__client_close(&c);
    return status;
}
