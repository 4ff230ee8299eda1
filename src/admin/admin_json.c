/* The admin API's answers: servers (with their request and error counts, http/stats.h),
 * results of operations over several servers, errors ({"error":{"code","message","details"}},
 * as ../shared/DESIGN.md fixes), health and metrics. */
#include "admin/admin_internal.h"

#include "http/server.h"
#include "pool/pool_internal.h"
#include "pool/supervisor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp__admin_answer_error(hp__control_job *job, int status, const char *code, json_t *details,
                            const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    json_t *error = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_object_set_new(error, "details", details ? details : json_array());
    hp__control_job_answer_json(job, status, json_pack("{s:o}", "error", error));
}

hp__cfg_node *hp__admin_body_node(hp__control_job *job)
{
    json_error_t jerr;
    json_t *json = json_loadb(job->body, job->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        hp__admin_answer_error(job, 400, "bad_json", NULL,
                               "the body is not JSON: %s (line %d, column %d)", jerr.text,
                               jerr.line, jerr.column);
        return NULL;
    }
    hp__cfg_node *node = hp__cfg_node_from_json(json);
    json_decref(json);
    return node;
}

json_t *hp__admin_errors_json(const hp__config_errors *errs)
{
    json_t *details = json_array();
    for (size_t i = 0; i < errs->count; i++)
        json_array_append_new(
            details, json_sprintf("%s: %s", errs->items[i].path[0] ? errs->items[i].path : "(body)",
                                  errs->items[i].message));
    return details;
}

static json_t *listen_json(hp_pool *pool, const hp_server *server)
{
    json_t *list = json_array();
    for (size_t i = 0; i < hp_server_listen_count(server); i++)
        json_array_append_new(list, json_pack("{s:s, s:i}", "address",
                                              hp_server_listen_address(server, i), "port",
                                              hp_pool_bound_port(pool, server, i)));
    return list;
}

static json_t *hosts_json(const hp_server *server)
{
    json_t *list = json_array();
    for (size_t i = 0; i < hp_server_host_count(server); i++)
        json_array_append_new(list, json_string(hp_server_host(server, i)));
    return list;
}

/* A process server's program: its supervisor's state, pid (null when none runs), port,
 * restarts since the last start, and the command as configured. NULL for another server. */
static json_t *process_json(hp_pool *pool, const char *name)
{
    hp__supervisor *s = hp__pool_supervisor(pool, name);
    const hp_process_config *config = hp__pool_process(pool, name);
    if (!s || !config) return NULL;
    hp__supervisor_info info;
    hp__supervisor_info_get(s, &info);
    json_t *command = json_array();
    for (size_t i = 0; i < config->command_count; i++)
        json_array_append_new(command, json_string(config->command[i]));
    return json_pack("{s:s, s:o, s:i, s:I, s:o}", "state", hp__process_state_name(info.state),
                     "pid", info.pid ? json_integer(info.pid) : json_null(), "port",
                     hp__supervisor_port(s), "restarts", (json_int_t)info.restarts, "command",
                     command);
}

json_t *hp__admin_server_json(hp_pool *pool, const char *name)
{
    hp_server_info info;
    if (hp_pool_info(pool, name, &info) != 0) return NULL;
    const char *expose = hp_server_expose(info.server);
    hp__stats_totals t;
    hp__stats_totals_read(info.server->stats, &t);
    json_t *server = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:s, s:I, s:I}", "name",
                               info.name, "state", hp_server_state_name(info.state), "listen",
                               listen_json(pool, info.server), "hosts", hosts_json(info.server),
                               "expose", expose ? json_string(expose) : json_null(), "uptime_ms",
                               (json_int_t)info.uptime_ms, "last_error",
                               info.last_error ? json_string(info.last_error) : json_null(),
                               "health", hp_health_name(info.health), "requests",
                               (json_int_t)t.responses, "errors", (json_int_t)t.errors);
    hp__stats_totals_close(&t);
    /* Only a server made on demand says so: every other server's answer is as it was. */
    const char *switchboard = hp__pool_server_switchboard(pool, name);
    if (switchboard) {
        json_object_set_new(server, "on_demand", json_true());
        json_object_set_new(server, "switchboard", json_string(switchboard));
    }
    json_t *process = process_json(pool, name);
    if (process) json_object_set_new(server, "process", process);
    return server;
}

json_t *hp__admin_result_json(const hp_pool_result *result)
{
    json_t *failed = json_array();
    for (size_t i = 0; i < result->failed; i++)
        json_array_append_new(failed, json_pack("{s:s, s:s}", "name", result->failures[i].name,
                                                "error", result->failures[i].error));
    return json_pack("{s:I, s:o}", "attempted", (json_int_t)result->attempted, "failed", failed);
}
