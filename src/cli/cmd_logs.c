/* `hostpool logs NAME [-f] [--since SEQ] [--lines N]`: the last lines a process server's
 * program wrote (GET /servers/NAME/logs), each printed as it was written, stdout's lines on
 * stdout and stderr's on stderr; with -f, then each new line as it comes (?follow=1, Server-Sent
 * Events), until the server is removed or replaced, the daemon stops (exit 0) or Ctrl+C. Lines
 * the daemon's ring dropped before they could be sent are reported on stderr. --json prints
 * the answer (or each line's JSON, with -f) instead. */
#include "cli/cli.h"
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_line(const json_t *line)
{
    json_t *text = json_object_get(line, "text");
    const char *stream = json_string_value(json_object_get(line, "stream"));
    FILE *out = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
    fwrite(json_string_value(text), 1, json_string_length(text), out);
    fputc('\n', out);
    fflush(out);
}

static void report_missed(json_int_t missed)
{
    if (missed > 0)
        fprintf(stderr, "hostpool: logs: %lld lines were dropped before they could be shown\n",
                (long long)missed);
}

static void on_event(void *arg, const char *event, const char *data)
{
    const hp__client *c = arg;
    if (c->json) {
        printf("%s\n", data);
        fflush(stdout);
        return;
    }
    json_t *j = json_loads(data, 0, NULL);
    if (strcmp(event, "line") == 0)
        print_line(j);
    else if (strcmp(event, "missed") == 0)
        report_missed(json_integer_value(json_object_get(j, "missed")));
    json_decref(j);
}

static int show(hp__client *c, const char *path)
{
    json_t *answer;
    int status = hp__client_call_json(c, "GET", path, NULL, &answer);
    if (status != HP__EXIT_OK || c->json) {
        json_decref(answer);
        return status;
    }
    report_missed(json_integer_value(json_object_get(answer, "missed")));
    size_t i;
    json_t *line;
    json_array_foreach(json_object_get(answer, "lines"), i, line) print_line(line);
    json_decref(answer);
    return status;
}

int hp__cmd_logs(int argc, char **argv)
{
    bool follow_flag = false;
    const char *since = NULL, *lines = NULL;
    const hp__option options[] = {
        {.name = "--follow", .short_name = "-f", .set = &follow_flag},
        {.name = "--since", .value = &since},
        {.name = "--lines", .short_name = "-n", .value = &lines},
        {0},
    };
    const hp__client_verb verb = {
        .usage = {.command = "logs",
                  .synopsis = "logs NAME [-f] [--since SEQ] [-n N]",
                  .help =
                      "\n"
                      "Prints the last lines a process server's program wrote (the daemon keeps\n"
                      "1,000, each cut at 4 KiB), stdout's on stdout and stderr's on stderr.\n"
                      "  -f, --follow   then print each new line as it comes, until the server\n"
                      "                 is removed or replaced, the daemon stops, or Ctrl+C\n"
                      "  --since SEQ    only the lines after sequence number SEQ\n"
                      "  -n, --lines N  at most the last N lines (1-1000)\n",
                  .min_args = 1,
                  .max_args = 1},
        .options = options};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[1024] = "/servers/";
    bool fits = hp__client_escape(path, sizeof path, c.args[0]) &&
                hp__client_add_query(path, sizeof path, "/logs?follow", follow_flag ? "1" : "0") &&
                hp__client_add_query(path, sizeof path, "&since", since) &&
                hp__client_add_query(path, sizeof path, "&limit", lines);
    if (!fits)
        status = hp__client_usage_error(&c, &verb, "NAME or a value is too long");
    else
        status = follow_flag ? hp__client_follow(&c, path, on_event) : show(&c, path);
    hp__client_close(&c);
    return status;
}
