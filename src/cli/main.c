/* hostpool: the daemon and its command-line client in one binary. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: hostpool <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          --config FILE [--admin ADDR]\n"
    "               run every server of a config file (YAML or JSON) as one pool, with the\n"
    "               admin API on ADDR (default: the config's admin.listen)\n"
    "  validate     --config FILE\n"
    "               check a config, print every error (file:line:column: path: message)\n"
    "  respond      --listen ADDR --body TEXT [--status N] [--header 'Name: value']...\n"
    "               answer every request with a fixed response\n"
    "  file-server  --listen ADDR --root DIR\n"
    "               serve the files under DIR\n"
    "\n"
    "clients of a running daemon's admin API:\n"
    "  ls           [--name N] [--bind ADDR] [--expose URL]\n"
    "               the servers as a table; a filter is exact, or a regex as ~REGEX\n"
    "  status       [NAME]\n"
    "               the pool's health and servers by state, or one server in detail\n"
    "  add          -f FILE\n"
    "               add and start the server FILE describes (YAML or JSON; - reads stdin)\n"
    "  rm           NAME\n"
    "               drain, stop and remove a server\n"
    "  start, stop, restart   NAME | --all\n"
    "               one server, or every server but the admin one\n"
    "  reload       reload the daemon's config file; prints what changed\n"
    "  events       [PATTERN]\n"
    "               follow the pool's events (server.*, server.**, pool.*; default **)\n"
    "  metrics      the Prometheus metrics\n"
    "\n"
    "options of respond and file-server:\n"
    "  --workers N            worker threads (default: number of CPUs)\n"
    "  --no-access-log        no line per request on stderr\n"
    "  --max-header-bytes SIZE  --max-target-bytes SIZE  --max-body-bytes SIZE\n"
    "  --max-headers N        --max-connections N (per worker)\n"
    "  --header-timeout DUR   --idle-timeout DUR  --write-timeout DUR  --drain-timeout DUR\n"
    "SIZE: 1024, 16KiB, 1MiB; DUR: 250ms, 10s, 15m. ADDR: 127.0.0.1:8080 (port 0: any free port)\n"
    "\n"
    "options of the clients:\n"
    "  --admin ADDR           unix:PATH or HOST:PORT (default: $HOSTPOOL_ADMIN, else\n"
    "                         unix:hostpool.sock)\n"
    "  --token-file FILE      send its first line as the bearer token (default:\n"
    "                         $HOSTPOOL_TOKEN_FILE)\n"
    "  --json                 print the API's JSON answer instead of the human form\n"
    "exit status of the clients: 0 done, 1 the call failed (or a server named in the answer\n"
    "did), 2 usage, 3 the admin API cannot be reached\n";

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", hp__cmd_run},
    {"validate", hp__cmd_validate},
    {"respond", hp__cmd_respond},
    {"file-server", hp__cmd_file_server},
    {"ls", hp__cmd_ls},
    {"status", hp__cmd_status},
    {"add", hp__cmd_add},
    {"rm", hp__cmd_rm},
    {"start", hp__cmd_lifecycle},
    {"stop", hp__cmd_lifecycle},
    {"restart", hp__cmd_lifecycle},
    {"reload", hp__cmd_reload},
    {"events", hp__cmd_events},
    {"metrics", hp__cmd_metrics},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hostpool: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
