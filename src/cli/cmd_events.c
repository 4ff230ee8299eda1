/* `hostpool events [PATTERN]`: follows GET /events?topic=PATTERN (Server-Sent Events) and
 * prints one line per event as it arrives, flushed at once, until the daemon ends the stream
 * (exit 0; it does so when it stops) or Ctrl+C.
 *
 * The body is read as Server-Sent Events (sse_reader.h). The stream's first comment
 * line means the subscription exists: from then on no event is missed, and a note saying so
 * goes to stderr. An event prints as "TOPIC SERVER [port N][: MESSAGE]" from its JSON data,
 * or with --json as its data line, one JSON object per line. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/sse_reader.h"

#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct event_reader {
    const hp__client *client;
    const char *pattern;
    bool subscribed;
} event_reader;

/* The figures of process.*, journal.dropped and ws.* events, as " pid 123 code 1" and the
 * like. */
static void print_figures(json_t *event)
{
    static const char *const names[] = {"pid",      "code",    "signal", "attempt",
                                        "delay_ms", "boot_ms", "count",  "id"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *value = json_object_get(event, names[i]);
        if (json_is_integer(value))
            printf(" %s %lld", names[i], (long long)json_integer_value(value));
    }
}

static void print_event(const char *data)
{
    json_t *event = json_loads(data, 0, NULL);
    const char *topic = json_string_value(json_object_get(event, "topic"));
    const char *server = json_string_value(json_object_get(event, "server"));
    const char *message = json_string_value(json_object_get(event, "message"));
    json_int_t port = json_integer_value(json_object_get(event, "port"));
    if (server)
        printf("%-15s %s", topic ? topic : "?", server);
    else
        printf("%s", topic ? topic : "?");
    if (port > 0) printf(" port %lld", (long long)port);
    print_figures(event);
    const char *name = json_string_value(json_object_get(event, "name"));
    if (name) printf(" name %s", name);
    if (message) printf(": %s", message);
    printf("\n");
    json_decref(event);
}

static void on_event(void *arg, const char *event, const char *data)
{
    event_reader *r = arg;
    if (r->client->json)
        printf("%s\n", data);
    else
        print_event(data);
    fflush(stdout);
}

static void on_comment(void *arg, const char *comment)
{
    event_reader *r = arg;
    if (r->subscribed) return;
    r->subscribed = true;
    fprintf(stderr, "hostpool: events: following %s (Ctrl+C stops)\n", r->pattern);
}

static void on_body(const char *bytes, size_t len, void *arg)
{
    hp__sse_reader_feed(arg, bytes, len);
}

int hp__cmd_events(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {
            .command = "events",
            .synopsis = "events [PATTERN]",
            .help =
                "\n"
                "Follows the pool's events (GET /events) and prints one line per event as it\n"
                "comes, until the daemon stops (exit 0) or Ctrl+C. PATTERN is dot-separated: "
                "\"*\"\n"
                "matches one segment, \"**\" the rest (server.*, server.**, pool.*; default **).\n"
                "Once subscribed it says so on stderr; no event is missed from then on.\n",
            .max_args = 1}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    event_reader r = {.client = &c, .pattern = c.arg_count ? c.args[0] : "**"};
    hp__sse_reader sse = {.on_event = on_event, .on_comment = on_comment, .arg = &r};
    char path[1024] = "/events?topic=";
    if (!hp__client_escape(path, sizeof path, r.pattern)) {
        status = hp__client_usage_error(&c, &verb, "PATTERN is too long");
    } else {
        hp__admin_request req = {.method = "GET", .path = path, .on_body = on_body, .arg = &sse};
        hp__admin_response resp;
        status = hp__client_call(&c, &req, &resp);
        if (status == HP__EXIT_OK) hp__admin_response_close(&resp);
    }
    hp__sse_reader_close(&sse);
    hp__client_close(&c);
    return status;
}
