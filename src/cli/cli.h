/* The hostpool command's subcommands. Each returns the process exit status. */
#ifndef HP_CLI_CLI_H
#define HP_CLI_CLI_H

#include <stddef.h>

int hp__cmd_respond(int argc, char **argv);
int hp__cmd_file_server(int argc, char **argv);
int hp__cmd_reverse_proxy(int argc, char **argv);
int hp__cmd_run(int argc, char **argv);
int hp__cmd_validate(int argc, char **argv);
int hp__cmd_version(int argc, char **argv);
int hp__cmd_hash_password(int argc, char **argv);

/* Clients of a running daemon's admin API (client.h): argv[0] is the verb. */
int hp__cmd_ls(int argc, char **argv);
int hp__cmd_status(int argc, char **argv);
int hp__cmd_add(int argc, char **argv);
int hp__cmd_rm(int argc, char **argv);
int hp__cmd_lifecycle(int argc, char **argv); /* start, stop, restart */
int hp__cmd_reload(int argc, char **argv);
int hp__cmd_events(int argc, char **argv);
int hp__cmd_metrics(int argc, char **argv);
int hp__cmd_upstreams(int argc, char **argv);
int hp__cmd_publish(int argc, char **argv);
int hp__cmd_logs(int argc, char **argv);
int hp__cmd_journal(int argc, char **argv);

/* Daemon parts. */
typedef struct hp_pool hp_pool;
typedef struct hp__live_config hp__live_config;
/* Adds and starts the admin listener's server (admin_server.c) on the live config's
 * admin.listen; HP_E* and `err` on failure. */
int hp__daemon_add_admin(hp_pool *pool, hp__live_config *live, char *err, size_t errlen);

#endif
