/* hostpool: the daemon and its command-line client in one binary. Each command reads its own
 * options (options.h) and answers --help with its own usage. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: hostpool <command> [options]     (hostpool <command> --help: its options)\n"
    "\n"
    "the daemon:\n"
    "  run          --config FILE   run every server of a config file as one pool, with its\n"
    "               admin API\n"
    "  validate     --config FILE   check a config, print every error\n"
    "\n"
    "one server, from the command line:\n"
    "  respond      --listen ADDR --body TEXT   answer every request with a fixed response\n"
    "  file-server  --listen ADDR --root DIR    serve the files under DIR\n"
    "  reverse-proxy --from ADDR --to ADDR[,ADDR...]   forward every request to the targets\n"
    "\n"
    "clients of a running daemon's admin API (--admin ADDR, --token-file FILE, --json):\n"
    "  ls           the servers as a table\n"
    "  status       [NAME]  the pool's health, or one server in detail\n"
    "  add          -f FILE  add and start a server\n"
    "  rm           NAME  drain, stop and remove a server\n"
    "  start, stop, restart   NAME | --all\n"
    "  reload       reload the daemon's config file; prints what changed\n"
    "  events       [PATTERN]  follow the pool's events\n"
    "  metrics      the Prometheus metrics\n"
    "  upstreams    [NAME]  the named upstreams' targets: health, breaker, pools\n"
    "  logs         NAME [-f]  what a process server's program wrote\n"
    "  journal      NAME [-f]  a server's last requests, from its journal\n"
    "  publish      SERVER TOPIC JSON  a message to a server's WebSocket pubsub subscribers\n"
    "\n"
    "  hash-password [--user NAME] [--method M]   a basic_auth users file line, the password\n"
    "               read from stdin\n"
    "  version      hostpool's version and its libraries' (also --version)\n";

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", hp__cmd_run},
    {"validate", hp__cmd_validate},
    {"respond", hp__cmd_respond},
    {"file-server", hp__cmd_file_server},
    {"reverse-proxy", hp__cmd_reverse_proxy},
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
    {"upstreams", hp__cmd_upstreams},
    {"logs", hp__cmd_logs},
    {"journal", hp__cmd_journal},
    {"hash-password", hp__cmd_hash_password},
    {"publish", hp__cmd_publish},
    {"version", hp__cmd_version},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return hp__cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hostpool: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
