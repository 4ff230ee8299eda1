/* `hostpool file-server`: serve the files under a folder. */
#include "cli/cli.h"
#include "cli/serve.h"

#include <stdio.h>

int hp__cmd_file_server(int argc, char **argv)
{
    serve_options o;
    const hp__option options[] = {{.name = "--root", .value = &o.root}, {0}};
    const hp__usage usage = {
        .command = "file-server",
        .synopsis = "file-server --listen ADDR --root DIR [options]",
        .help = "\n"
                "Serves the files under DIR (GET and HEAD; index.html for a folder, ranges,\n"
                "conditional requests), until SIGINT or SIGTERM.\n"
                "\n"
                "  --root DIR               required: the folder to serve\n",
        .common_help = hp__serve_options_help,
    };
    int status;
    if (!hp__serve_read_options(&usage, options, argc, argv, &o, &status)) return status;
    if (!o.root) return hp__usage_error(&usage, "--root DIR is required");
    hp_file_options fo = {.root = o.root};
    int err = 0;
    hp_handler *h = hp_file_handler_create(&fo, &err);
    if (!h) {
        fprintf(stderr, "hostpool file-server: --root %s: %s\n", o.root, hp_strerror(err));
        return 1;
    }
    return hp__serve(&o, "file-server", h);
}
