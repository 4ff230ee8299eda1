/* `hostpool file-server`: serve the files under a folder. */
#include "cli/cli.h"
#include "cli/serve.h"

#include <stdio.h>

int hp__cmd_file_server(int argc, char **argv)
{
    serve_options o;
    if (hp__serve_parse_options(argc, argv, &o) != 0) return 2;
    if (!o.root) {
        fprintf(stderr, "hostpool file-server: --root DIR is required\n");
        return 2;
    }
    hp_file_options fo = {.root = o.root};
    int err = 0;
    hp_handler *h = hp_file_handler_create(&fo, &err);
    if (!h) {
        fprintf(stderr, "hostpool file-server: --root %s: %s\n", o.root, hp_strerror(err));
        return 1;
    }
    return hp__serve(&o, "file-server", h);
}
