/* `hostpool reverse-proxy`: one server that forwards every request to a list of targets. */
#include "cli/cli.h"
#include "cli/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits "a,b,c" into `to` (pointers into `text`, which is modified); false when an item is
 * empty or there are more than `max`. */
static bool split_targets(char *text, const char **to, size_t max, size_t *count)
{
    *count = 0;
    for (char *item = text;; item++) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        if (*item == '\0' || *count == max) return false;
        to[(*count)++] = item;
        if (!comma) return true;
        item = comma;
    }
}

int hp__cmd_reverse_proxy(int argc, char **argv)
{
    serve_options o;
    memset(&o, 0, sizeof o);
    hp_limits_init(&o.limits);
    const char *from = NULL, *to_text = NULL;
    const hp__option options[] = {
        {.name = "--from", .value = &from},
        {.name = "--to", .value = &to_text},
        {.name = "--workers", .apply = hp__serve_apply, .ctx = &o},
        {.name = "--no-access-log", .set = &o.no_access_log},
        {0},
    };
    const hp__usage usage = {
        .command = "reverse-proxy",
        .synopsis = "reverse-proxy --from ADDR --to ADDR[,ADDR...] [--workers N] [--no-access-log]",
        .help = "\n"
                "Forwards every request received on --from to the targets of --to, in turn\n"
                "(round robin), over keep-alive connections, until SIGINT or SIGTERM. An\n"
                "upstream that cannot be reached or answers a malformed response gives 502, one\n"
                "that does not answer in time 504 (docs/PROXY.md).\n"
                "\n"
                "  --from ADDR              required: where to listen: 127.0.0.1:8080, 8080,\n"
                "                           [::1]:8080, unix:PATH (port 0: any free port)\n"
                "  --to ADDR[,ADDR...]      required: the targets, host:port or unix:PATH\n"
                "  --workers N              worker threads (default: one per CPU)\n"
                "  --no-access-log          no line per request on stderr\n",
    };
    const hp__option *const tables[] = {options, NULL};
    hp__args args;
    int status;
    if (!hp__options_read(&usage, tables, argc, argv, &args, &status)) return status;
    free(args.items);
    if (!from) return hp__usage_error(&usage, "--from ADDR is required");
    if (!to_text) return hp__usage_error(&usage, "--to ADDR[,ADDR...] is required");
    char *targets_text = strdup(to_text);
    const char *to[HP_PROXY_MAX_TARGETS];
    hp_proxy_options po;
    hp_proxy_options_init(&po);
    po.to = to;
    if (!split_targets(targets_text, to, HP_PROXY_MAX_TARGETS, &po.to_count)) {
        free(targets_text);
        return hp__usage_error(&usage, "--to: 1 to 64 addresses separated by commas");
    }
    char err[256];
    hp_handler *h = hp_proxy_handler_create(&po, err, sizeof err);
    free(targets_text);
    if (!h) return hp__usage_error(&usage, "%s", err);
    o.listen = from;
    o.access_log = !o.no_access_log;
    return hp__serve(&o, "reverse-proxy", h);
}
