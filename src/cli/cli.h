/* The hostpool command's subcommands. Each returns the process exit status. */
#ifndef HP_CLI_CLI_H
#define HP_CLI_CLI_H

int hp__cmd_respond(int argc, char **argv);
int hp__cmd_file_server(int argc, char **argv);
int hp__cmd_run(int argc, char **argv);
int hp__cmd_validate(int argc, char **argv);

#endif
