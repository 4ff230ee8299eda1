/* `hostpool journal NAME [--since SEQ] [-f]`: a server's record of its last requests (GET
 * /servers/NAME/journal), one line each, oldest first, as the access log writes them:
 *   CLIENT "METHOD PATH?QUERY" STATUS BYTES_OUT SECONDS REQUEST_ID SERVER [UPSTREAM]
 * (control bytes and the quote of a text as \xHH); with -f, then each new entry as it comes
 * (?follow=1, Server-Sent Events), until the server is removed or given a new journal, the
 * daemon stops (exit 0) or Ctrl+C. --json prints the answer (or each entry's JSON, with -f). */
#include "cli/cli.h"
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A text of the entry, its control bytes, backslash and quote escaped. */
static void put_text(const json_t *entry, const char *key, const char *absent)
{
    const json_t *v = json_object_get(entry, key);
    const char *s = json_string_value(v);
    if (!s || !*s) {
        fputs(absent, stdout);
        return;
    }
    for (size_t i = 0; i < json_string_length(v); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static json_int_t number(const json_t *entry, const char *key)
{
    return json_integer_value(json_object_get(entry, key));
}

static void print_entry(const json_t *entry, const char *server)
{
    put_text(entry, "client", "-");
    fputs(" \"", stdout);
    put_text(entry, "method", "-");
    putchar(' ');
    put_text(entry, "path", "-");
    const char *query = json_string_value(json_object_get(entry, "query"));
    if (query && *query) {
        putchar('?');
        put_text(entry, "query", "");
    }
    printf("\" %lld %lld %.6f ", (long long)number(entry, "status"),
           (long long)number(entry, "bytes_out"), (double)number(entry, "duration_us") / 1e6);
    put_text(entry, "request_id", "-");
    printf(" %s", server);
    if (json_string_value(json_object_get(entry, "upstream"))) {
        putchar(' ');
        put_text(entry, "upstream", "");
    }
    putchar('\n');
    fflush(stdout);
}

static void on_event(void *arg, const char *event, const char *data)
{
    const hp__client *c = arg;
    if (c->json) {
        printf("%s\n", data);
        fflush(stdout);
        return;
    }
    if (strcmp(event, "entry") != 0) return;
    json_t *j = json_loads(data, 0, NULL);
    if (j) print_entry(j, c->args[0]);
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
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(answer, "entries"), i, entry) print_entry(entry, c->args[0]);
    json_decref(answer);
    return status;
}

int hp__cmd_journal(int argc, char **argv)
{
    bool follow_flag = false;
    const char *since = NULL;
    const hp__option options[] = {
        {.name = "--follow", .short_name = "-f", .set = &follow_flag},
        {.name = "--since", .value = &since},
        {0},
    };
    const hp__client_verb verb = {
        .usage = {.command = "journal",
                  .synopsis = "journal NAME [-f] [--since SEQ]",
                  .help = "\n"
                          "Prints a server's last requests as its journal kept them (the server's\n"
                          "`journal:` in the config), oldest first, as access log lines.\n"
                          "  -f, --follow   then print each new request as it ends, until the\n"
                          "                 server is removed, the daemon stops, or Ctrl+C\n"
                          "  --since SEQ    only the entries after sequence number SEQ\n",
                  .min_args = 1,
                  .max_args = 1},
        .options = options};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[1024] = "/servers/";
    bool fits =
        hp__client_escape(path, sizeof path, c.args[0]) &&
        hp__client_add_query(path, sizeof path, "/journal?follow", follow_flag ? "1" : "0") &&
        hp__client_add_query(path, sizeof path, "&since", since);
    if (!fits)
        status = hp__client_usage_error(&c, &verb, "NAME or a value is too long");
    else
        status = follow_flag ? hp__client_follow(&c, path, on_event) : show(&c, path);
    hp__client_close(&c);
    return status;
}
