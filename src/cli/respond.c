/* `hostpool respond`: answer every request with a fixed response. */
#include "cli/cli.h"
#include "cli/serve.h"

#include <string.h>

int hp__cmd_respond(int argc, char **argv)
{
    serve_options o;
    if (hp__serve_parse_options(argc, argv, &o) != 0) return 2;
    const char *body = o.body ? o.body : "";
    hp_handler *h =
        hp_respond_handler_create(o.status, body, strlen(body), o.headers, o.header_count);
    return hp__serve(&o, "respond", h);
}
