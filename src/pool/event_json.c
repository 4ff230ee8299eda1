#include "pool/event_json.h"

#include <string.h>

json_t *hp__event_json(const hp_event *e)
{
    json_t *data = json_pack("{s:I, s:s, s:s?, s:i, s:s?, s:I}", "seq", (json_int_t)e->seq, "topic",
                             e->topic, "server", e->server, "port", e->port, "message", e->message,
                             "time_ms", (json_int_t)e->time_ms);
    if (e->upstream) json_object_set_new(data, "upstream", json_string(e->upstream));
    if (e->target) json_object_set_new(data, "target", json_string(e->target));
    if (e->switchboard) json_object_set_new(data, "switchboard", json_string(e->switchboard));
    if (e->pid) json_object_set_new(data, "pid", json_integer(e->pid));
    if (strcmp(e->topic, "process.exited") == 0) {
        json_object_set_new(data, "code", e->signal ? json_null() : json_integer(e->exit_code));
        json_object_set_new(data, "signal", e->signal ? json_integer(e->signal) : json_null());
    }
    if (e->attempt) json_object_set_new(data, "attempt", json_integer(e->attempt));
    if (e->attempt) json_object_set_new(data, "delay_ms", json_integer((json_int_t)e->delay_ms));
    if (e->boot_ms) json_object_set_new(data, "boot_ms", json_integer((json_int_t)e->boot_ms));
    if (e->count) json_object_set_new(data, "count", json_integer((json_int_t)e->count));
    if (e->connection) json_object_set_new(data, "id", json_integer((json_int_t)e->connection));
    if (e->name) json_object_set_new(data, "name", json_string(e->name));
    return data;
}
