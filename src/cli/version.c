/* `hostpool version` (and `hostpool --version`): hostpool's version, the CMake project's, and
 * the versions of the libraries it runs with, one per line: libuv's and libyaml's and
 * jansson's as the shared libraries loaded at run time report them, llhttp's from its header
 * (its C sources are compiled into the binary, so that is the one that runs). There is no TLS
 * library yet; the line says so rather than leave the reader to guess. */
#include "cli/cli.h"
#include "cli/options.h"

#include <jansson.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>
#include <yaml.h>

#ifndef HP_VERSION
#error "HP_VERSION (the CMake project version) is defined by CMakeLists.txt"
#endif

static void print_versions(void)
{
    printf("hostpool %s\n", HP_VERSION);
    printf("libuv %s\n", uv_version_string());
    printf("llhttp %d.%d.%d\n", LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
    printf("jansson %s\n", jansson_version_str());
    printf("libyaml %s\n", yaml_get_version_string());
    printf("TLS: none (no OpenSSL linked yet)\n");
}

int hp__cmd_version(int argc, char **argv)
{
    const hp__usage usage = {
        .command = "version",
        .synopsis = "version",
        .help = "\n"
                "Prints hostpool's version and the versions of the libraries it runs with (also\n"
                "hostpool --version).\n",
    };
    const hp__option *const tables[] = {NULL};
    hp__args args;
    int status;
    if (!hp__options_read(&usage, tables, argc, argv, &args, &status)) return status;
    free(args.items);
    print_versions();
    return 0;
}
