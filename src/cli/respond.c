/* `hostpool respond`: answer every request with a fixed response. */
#include "cli/cli.h"
#include "cli/serve.h"

#include <string.h>

int hp__cmd_respond(int argc, char **argv)
{
    serve_options o;
    const hp__option options[] = {
        {.name = "--body", .value = &o.body},
        {.name = "--status", .apply = hp__serve_apply, .ctx = &o},
        {.name = "--header", .apply = hp__serve_apply, .ctx = &o, .repeats = true},
        {0},
    };
    const hp__usage usage = {
        .command = "respond",
        .synopsis = "respond --listen ADDR [--body TEXT] [--status N] [--header 'Name: value']... "
                    "[options]",
        .help =
            "\n"
            "Answers every request with one fixed response, until SIGINT or SIGTERM.\n"
            "\n"
            "  --body TEXT              the body (default: empty)\n"
            "  --status N               its status, 200 to 999 (default: 200)\n"
            "  --header 'Name: value'   a header of the response; may be repeated (32 at most)\n",
        .common_help = hp__serve_options_help,
    };
    int status;
    if (!hp__serve_read_options(&usage, options, argc, argv, &o, &status)) return status;
    const char *body = o.body ? o.body : "";
    hp_handler *h =
        hp_respond_handler_create(o.status, body, strlen(body), o.headers, o.header_count);
    return hp__serve(&o, "respond", h);
}
