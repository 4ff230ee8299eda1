/* The WebSocket endpoints of the admin API, over every WebSocket route of a server (each
 * handler's hub and registry, ws/hub.h):
 *
 *   GET    /servers/{name}/connections       {"connections": [{id, client, name,
 *          connected_since, subscriptions, messages_in, messages_out, bytes_in, bytes_out,
 *          bytes_queued}]}, oldest first, route by route
 *   DELETE /servers/{name}/connections/{id}  closes it with 1000 (on its worker): {"id", "code"};
 *                                            404 when no connection `id` is open there
 *   POST   /servers/{name}/publish           {"topic": TOPIC, "data": JSON} to the server's
 *          pubsub routes as {"type":"message","topic":...,"data":...,"from":"server"}:
 *          {"reached": N}, the connections subscribed to it when it was published; 400 lists
 *          every problem of the body; 404 when the server has no pubsub route.
 *
 * Control thread; the registry's lock is taken once per route for a listing. */
#include "admin/admin_internal.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "http/server.h"
#include "pool/pool_internal.h"
#include "ws/pubsub.h"
#include "ws/ws_conn.h"
#include "ws/ws_topics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The running server `name`, or NULL once answered 404. */
static const hp_server *server_of(hp__admin *a, hp__control_job *job, const char *name)
{
    const hp_server *s = hp__pool_server(a->pool, name);
    if (!s) hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
    return s;
}

static json_t *time_json(uint64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03uZ", (unsigned)(ms % 1000));
    return json_string(buf);
}

static void add_connection(const hp__ws_entry *e, void *list)
{
    hp__ws_counters k;
    hp__ws_counters_read(e->conn, &k);
    json_t *subs = json_array();
    for (unsigned i = 0; i < e->pattern_count; i++)
        json_array_append_new(subs, json_string(e->patterns[i]));
    json_array_append_new(
        list,
        json_pack("{s:I, s:s, s:s?, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)e->id,
                  "client", e->client, "name", e->name, "connected_since", time_json(e->since_ms),
                  "subscriptions", subs, "messages_in", (json_int_t)k.messages_in, "messages_out",
                  (json_int_t)k.messages_out, "bytes_in", (json_int_t)k.bytes_in, "bytes_out",
                  (json_int_t)k.bytes_out, "bytes_queued", (json_int_t)k.bytes_queued));
}

void hp__admin_connections(hp__admin *a, hp__control_job *job, const char *name)
{
    const hp_server *s = server_of(a, job, name);
    if (!s) return;
    json_t *list = json_array();
    for (size_t i = 0; i < s->route_count; i++) {
        hp__ws_hub *hub = hp__ws_topics_hub(s->routes[i].handler);
        if (hub) hp__ws_registry_each(hp__ws_hub_registry(hub), add_connection, list);
    }
    hp__control_job_answer_json(job, 200, json_pack("{s:o}", "connections", list));
}

void hp__admin_connection_close(hp__admin *a, hp__control_job *job, const char *name,
                                const char *id_text)
{
    const hp_server *s = server_of(a, job, name);
    if (!s) return;
    char *end;
    errno = 0;
    uint64_t id = strtoull(id_text, &end, 10);
    bool number = *id_text >= '0' && *id_text <= '9' && !*end && errno == 0;
    for (size_t i = 0; number && i < s->route_count; i++) {
        hp__ws_hub *hub = hp__ws_topics_hub(s->routes[i].handler);
        if (hub && hp__ws_hub_close_connection(hub, id, 1000) == 0) {
            hp__control_job_answer_json(
                job, 200, json_pack("{s:I, s:i}", "id", (json_int_t)id, "code", 1000));
            return;
        }
    }
    hp__admin_answer_error(job, 404, "not_found", NULL, "no WebSocket connection %s on \"%s\"",
                           id_text, name);
}

/* The body's topic and data, or false once answered 400 with every problem. */
static bool read_publish(hp__control_job *job, json_t **body, const char **topic, json_t **data)
{
    json_error_t jerr;
    *body = json_loadb(job->body, job->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*body) {
        hp__admin_answer_error(job, 400, "bad_json", NULL,
                               "the body is not JSON: %s (line %d, column %d)", jerr.text,
                               jerr.line, jerr.column);
        return false;
    }
    json_t *details = json_array();
    if (!json_is_object(*body)) {
        json_array_append_new(details, json_string("(body): expected an object"));
    } else {
        const char *key;
        json_t *value;
        json_object_foreach(*body, key,
                            value) if (strcmp(key, "topic") != 0 && strcmp(key, "data") != 0)
            json_array_append_new(details, json_sprintf("%s: unknown key", key));
        json_t *t = json_object_get(*body, "topic");
        *topic = json_string_value(t);
        if (!t)
            json_array_append_new(details, json_string("topic: required"));
        else if (!*topic)
            json_array_append_new(details, json_string("topic: expected a string"));
        else if (!hp__topic_valid(*topic))
            json_array_append_new(
                details, json_sprintf("topic: not a topic: \"%.60s\" (dot-separated segments, "
                                      "no wildcard)",
                                      *topic));
        *data = json_object_get(*body, "data");
        if (!*data) json_array_append_new(details, json_string("data: required"));
    }
    size_t n = json_array_size(details);
    if (!n) {
        json_decref(details);
        return true;
    }
    hp__admin_answer_error(job, 400, "invalid_publish", details, "%zu error%s in the body", n,
                           n == 1 ? "" : "s");
    json_decref(*body);
    return false;
}

void hp__admin_publish(hp__admin *a, hp__control_job *job, const char *name)
{
    const hp_server *s = server_of(a, job, name);
    if (!s) return;
    json_t *body, *data;
    const char *topic;
    if (!read_publish(job, &body, &topic, &data)) return;
    json_t *msg = json_pack("{s:s, s:s, s:O, s:s}", "type", "message", "topic", topic, "data", data,
                            "from", "server");
    char *text = json_dumps(msg, JSON_COMPACT);
    int routes = 0;
    json_int_t reached = 0;
    for (size_t i = 0; i < s->route_count; i++) {
        hp_handler *h = s->routes[i].handler;
        if (!hp__pubsub_handler_is(h)) continue;
        routes++;
        int n = hp_websocket_publish(h, topic, text, strlen(text), false);
        if (n > 0) reached += n;
    }
    free(text);
    json_decref(msg);
    json_decref(body);
    if (!routes)
        hp__admin_answer_error(job, 404, "not_found", NULL,
                               "the server \"%s\" has no websocket pubsub route", name);
    else
        hp__control_job_answer_json(job, 200, json_pack("{s:I}", "reached", reached));
}
