/* `hostpool status [NAME]`: without NAME, the pool's health (GET /health) and how many servers
 * are in each state, exit 0 whatever the health (GET /health's 503 for a pool that is not
 * healthy is for load balancers; here it is the answer, shown); with NAME, that server (GET
 * /servers/NAME), one field per line: state, each listen address with the port it is bound to,
 * hosts, expose URL, uptime, health, last error, the request counts when the daemon keeps them,
 * and a process server's program (state, pid, port, restarts, command). */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/client_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The states in lifecycle order, as GET /health names them. */
static const char *const states[] = {"starting", "running", "draining", "stopped", "failed"};
#define STATE_COUNT (sizeof states / sizeof *states)

static void print_field(const char *label, const char *value)
{
    printf("%-11s %s\n", label, value && value[0] ? value : "-");
}

/* Prints the field and frees `value`. */
static void print_owned(const char *label, char *value)
{
    print_field(label, value);
    free(value);
}

/* ---- the pool ---- */

static void print_pool(const json_t *answer)
{
    size_t counts[STATE_COUNT] = {0}, i;
    json_t *servers = json_object_get(answer, "servers"), *server;
    json_array_foreach(servers, i, server)
    {
        const char *state = json_string_value(json_object_get(server, "state"));
        for (size_t s = 0; s < STATE_COUNT; s++)
            if (state && strcmp(state, states[s]) == 0) counts[s]++;
    }
    print_field("health:", json_string_value(json_object_get(answer, "health")));
    printf("%-11s %zu", "servers:", json_array_size(servers));
    const char *separator = " (";
    for (size_t s = 0; s < STATE_COUNT; s++) {
        if (!counts[s]) continue;
        printf("%s%s %zu", separator, states[s], counts[s]);
        separator = ", ";
    }
    printf("%s\n", separator[0] == ',' ? ")" : "");
}

/* ---- one server ---- */

/* "ADDRESS (port N)" for each listen address, comma-separated. */
static void print_listen(const json_t *server)
{
    printf("%-11s ", "listen:");
    size_t i;
    json_t *listen;
    json_array_foreach(json_object_get(server, "listen"), i, listen)
    {
        const char *address = json_string_value(json_object_get(listen, "address"));
        json_int_t port = json_integer_value(json_object_get(listen, "port"));
        printf("%s%s", i ? ", " : "", address ? address : "-");
        if (port > 0)
            printf(" (port %lld)", (long long)port);
        else if (address && strncmp(address, "unix:", 5) != 0)
            printf(" (not bound)");
    }
    printf("%s\n", i ? "" : "-");
}

/* A process server's program: "process:  ready, pid 1234, port 20001, 2 restarts" and its
 * command, its arguments joined by spaces. Nothing for another server. */
static void print_process(const json_t *server)
{
    const json_t *process = json_object_get(server, "process");
    if (!json_is_object(process)) return;
    const char *state = json_string_value(json_object_get(process, "state"));
    json_int_t pid = json_integer_value(json_object_get(process, "pid"));
    printf("%-11s %s", "process:", state ? state : "-");
    if (pid > 0) printf(", pid %lld", (long long)pid);
    printf(", port %lld, %lld restarts\n",
           (long long)json_integer_value(json_object_get(process, "port")),
           (long long)json_integer_value(json_object_get(process, "restarts")));
    printf("%-11s ", "command:");
    size_t i;
    json_t *arg;
    json_array_foreach(json_object_get(process, "command"), i, arg)
        printf("%s%s", i ? " " : "", json_string_value(arg) ? json_string_value(arg) : "");
    printf("\n");
}

static void print_server(const json_t *server)
{
    print_owned("name:", hp__server_string_text(server, "name"));
    print_owned("state:", hp__server_string_text(server, "state"));
    print_listen(server);
    print_owned("hosts:", hp__server_hosts_text(server));
    print_owned("expose:", hp__server_string_text(server, "expose"));
    print_owned("uptime:", hp__server_uptime_text(server));
    print_owned("health:", hp__server_string_text(server, "health"));
    print_owned("last error:", hp__server_string_text(server, "last_error"));
    print_owned("requests:", hp__server_count_text(server, "requests"));
    print_owned("errors:", hp__server_count_text(server, "errors"));
    print_process(server);
}

static int show_pool(hp__client *c)
{
    json_t *answer;
    /* 503: the pool is not healthy (ko, or no check done yet); an answer all the same */
    int status = hp__client_get_json(c, "/health", 503, &answer);
    if (answer && !c->json) print_pool(answer);
    json_decref(answer);
    return status;
}

static int show_server(hp__client *c, const hp__client_verb *verb)
{
    char path[512] = "/servers/";
    if (!hp__client_escape(path, sizeof path, c->args[0]))
        return hp__client_usage_error(c, verb, "NAME is too long");
    json_t *answer;
    int status = hp__client_call_json(c, "GET", path, NULL, &answer);
    if (answer && !c->json) print_server(answer);
    json_decref(answer);
    return status;
}

int hp__cmd_status(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {
            .command = "status",
            .synopsis = "status [NAME]",
            .help = "\n"
                    "Without NAME: the pool's health and its servers by state (GET /health; also\n"
                    "when the pool is not healthy). With NAME: that server, one field a line (GET\n"
                    "/servers/NAME).\n",
            .max_args = 1}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    status = c.arg_count ? show_server(&c, &verb) : show_pool(&c);
    hp__client_close(&c);
    return status;
}
