/* The pubsub mode (pubsub.h): the JSON protocol on the WebSocket C API. Each connection's user
 * pointer is a `client` (its server and, once joined, its name); the handler's data is the
 * `pubsub` below (the settings, the pool it is bound to, the events subscription). */
#include "ws/pubsub.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "handlers/websocket.h"
#include "hostpool/errors.h"
#include "hostpool/pool.h"
#include "http/exchange.h"
#include "io/call.h"
#include "pool/event_json.h"
#include "pool/pool_internal.h"
#include "ws/ws_topics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRESENCE "presence"
#define MAX_NAME 64

typedef struct pubsub {
    hp__pubsub_options *o;
    hp_handler *handler;
    hp_pool *pool; /* bound (control thread, before a connection can open); NULL: none */
    uint64_t events_id;
    bool events_subscribed;
} pubsub;

typedef struct client {
    const char *server; /* its server's name (the server outlives its connections) */
    char *name;         /* joined as; NULL before */
} client;

/* ---- options ------------------------------------------------------------------------------ */

hp__pubsub_options *hp__pubsub_options_copy(const hp__pubsub_options *o)
{
    hp__pubsub_options *copy = HP_NEW(hp__pubsub_options);
    if (!o) return copy;
    copy->allow = hp__calloc(o->allow_count ? o->allow_count : 1, sizeof *copy->allow);
    for (size_t i = 0; i < o->allow_count; i++) copy->allow[i] = hp__strdup(o->allow[i]);
    copy->allow_count = o->allow_count;
    copy->server_only = o->server_only;
    copy->events = o->events ? hp__strdup(o->events) : NULL;
    return copy;
}

void hp__pubsub_options_free(hp__pubsub_options *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->allow_count; i++) free(o->allow[i]);
    free(o->allow);
    free(o->events);
    free(o);
}

static bool allowed(const pubsub *ps, const char *pattern)
{
    return !ps->o->allow_count ||
           hp__topic_pattern_covered(pattern, (const char *const *)ps->o->allow,
                                     ps->o->allow_count);
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Sends `msg` (stolen) as a text message. */
static void send_json(hp_ws *ws, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    hp_ws_send(ws, text, strlen(text), false);
    free(text);
    json_decref(msg);
}

static void send_error(hp_ws *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void send_error(hp_ws *ws, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    send_json(ws, json_pack("{s:s, s:s}", "type", "error", "message", message));
}

static void reply_topic(hp_ws *ws, const char *type, const char *topic)
{
    send_json(ws, json_pack("{s:s, s:s}", "type", type, "topic", topic));
}

/* Publishes `msg` (stolen) on `topic` to the handler's subscribers. */
static void publish_json(hp_handler *handler, const char *topic, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    hp_websocket_publish(handler, topic, text, strlen(text), false);
    free(text);
    json_decref(msg);
}

static void id_text(const hp_ws *ws, char buf[24])
{
    snprintf(buf, 24, "%" PRIu64, hp_ws_id(ws));
}

/* ---- ws.joined and ws.left on the pool's bus (from a worker to the control thread) ---------- */

typedef struct ws_event {
    hp__call call; /* first */
    hp_pool *pool;
    const char *topic;
    uint64_t id;
    char *server, *name;
} ws_event;

static void publish_ws_event(hp__call *call)
{
    ws_event *e = (ws_event *)call;
    hp_event ev = {.topic = e->topic, .server = e->server, .connection = e->id, .name = e->name};
    hp__pool_publish_event(e->pool, &ev);
    free(e->server);
    free(e->name);
    free(e);
}

static void post_ws_event(const pubsub *ps, const char *topic, const hp_ws *ws, const client *cl)
{
    if (!ps->pool) return;
    ws_event *e = HP_NEW(ws_event);
    e->pool = ps->pool;
    e->topic = topic;
    e->id = hp_ws_id(ws);
    e->server = hp__strdup(cl->server);
    e->name = hp__strdup(cl->name);
    hp__call_control(&e->call, publish_ws_event);
}

static void announce(const pubsub *ps, hp_ws *ws, const client *cl, const char *type)
{
    char id[24];
    id_text(ws, id);
    publish_json(ps->handler, PRESENCE,
                 json_pack("{s:s, s:s, s:s}", "type", type, "name", cl->name, "id", id));
    post_ws_event(ps, strcmp(type, "joined") == 0 ? "ws.joined" : "ws.left", ws, cl);
}

/* ---- the requests ------------------------------------------------------------------------- */

static const char *topic_of(hp_ws *ws, json_t *msg)
{
    const char *topic = json_string_value(json_object_get(msg, "topic"));
    if (!topic) send_error(ws, "\"topic\" must be a string");
    return topic;
}

static void on_subscribe(pubsub *ps, hp_ws *ws, json_t *msg, bool subscribe)
{
    const char *topic = topic_of(ws, msg);
    if (!topic) return;
    if (!hp__topic_pattern_valid(topic)) {
        send_error(ws, "not a topic pattern: %.64s", topic);
        return;
    }
    if (subscribe && !allowed(ps, topic)) {
        send_error(ws, "topic not allowed: %.64s", topic);
        return;
    }
    int rc = subscribe ? hp_ws_subscribe(ws, topic) : hp_ws_unsubscribe(ws, topic);
    if (rc == HP_ELIMIT)
        send_error(ws, "too many subscriptions (%d at most)", HP__WS_MAX_SUBSCRIPTIONS);
    else if (rc == HP_ENOTFOUND)
        send_error(ws, "not subscribed to %.64s", topic);
    else if (rc == 0 || rc == HP_EEXISTS)
        reply_topic(ws, subscribe ? "subscribed" : "unsubscribed", topic);
}

static void on_publish(pubsub *ps, hp_ws *ws, json_t *msg)
{
    if (ps->o->server_only) {
        send_error(ws, "publishing is for the server only on this route");
        return;
    }
    const char *topic = topic_of(ws, msg);
    if (!topic) return;
    if (!hp__topic_valid(topic)) {
        send_error(ws, "not a topic: %.64s", topic);
        return;
    }
    if (!allowed(ps, topic)) {
        send_error(ws, "topic not allowed: %.64s", topic);
        return;
    }
    json_t *data = json_object_get(msg, "data");
    char id[24];
    id_text(ws, id);
    publish_json(ps->handler, topic,
                 json_pack("{s:s, s:s, s:O, s:s}", "type", "message", "topic", topic, "data",
                           data ? data : json_null(), "from", id));
}

static void on_join(pubsub *ps, hp_ws *ws, json_t *msg)
{
    client *cl = hp_ws_user(ws);
    const char *name = json_string_value(json_object_get(msg, "name"));
    if (!name || !*name || strlen(name) > MAX_NAME) {
        send_error(ws, "\"name\" must be a string of 1 to %d bytes", MAX_NAME);
        return;
    }
    if (cl->name) {
        send_error(ws, "already joined as %s", cl->name);
        return;
    }
    if (hp__ws_join(ws, name) != 0) {
        send_error(ws, "name taken: %s", name);
        return;
    }
    cl->name = hp__strdup(name);
    announce(ps, ws, cl, "joined");
}

static void add_member(const hp__ws_entry *e, void *members)
{
    if (!e->name) return;
    char id[24];
    snprintf(id, sizeof id, "%" PRIu64, e->id);
    json_array_append_new(members, json_pack("{s:s, s:s}", "id", id, "name", e->name));
}

static void on_who(pubsub *ps, hp_ws *ws)
{
    json_t *members = json_array();
    hp__ws_registry_each(hp__ws_hub_registry(hp__ws_topics_hub(ps->handler)), add_member, members);
    send_json(ws, json_pack("{s:s, s:o}", "type", "present", "members", members));
}

static void on_message(hp_ws *ws, const char *bytes, size_t len, bool binary, void *data)
{
    pubsub *ps = data;
    if (binary) {
        send_error(ws, "expected a JSON text message, got a binary one");
        return;
    }
    json_error_t error;
    json_t *msg = json_loadb(bytes, len, 0, &error);
    if (!msg) {
        send_error(ws, "invalid JSON: %s", error.text);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type)
        send_error(ws, "\"type\" must be a string");
    else if (strcmp(type, "subscribe") == 0)
        on_subscribe(ps, ws, msg, true);
    else if (strcmp(type, "unsubscribe") == 0)
        on_subscribe(ps, ws, msg, false);
    else if (strcmp(type, "publish") == 0)
        on_publish(ps, ws, msg);
    else if (strcmp(type, "join") == 0)
        on_join(ps, ws, msg);
    else if (strcmp(type, "who") == 0)
        on_who(ps, ws);
    else if (strcmp(type, "ping") == 0)
        send_json(ws, json_pack("{s:s}", "type", "pong"));
    else
        send_error(ws, "unknown type: %.32s", type);
    json_decref(msg);
}

static void on_open(hp_ws *ws, const hp_request *req, void *data)
{
    client *cl = HP_NEW(client);
    cl->server = hp_server_name(hp__exchange_server(req->exchange));
    hp_ws_set_user(ws, cl);
    char id[24];
    id_text(ws, id);
    send_json(ws, json_pack("{s:s, s:s}", "type", "welcome", "id", id));
}

static void on_close(hp_ws *ws, uint16_t code, void *data)
{
    client *cl = hp_ws_user(ws);
    if (!cl) return;
    if (cl->name) announce(data, ws, cl, "left");
    free(cl->name);
    free(cl);
}

/* ---- the handler: bound to a pool, the events; cloned, destroyed ---------------------------- */

static int forward_event(const hp_event *event, void *data)
{
    pubsub *ps = data;
    if (!event) { /* the bus closes: nothing to unsubscribe any more */
        ps->events_subscribed = false;
        return 0;
    }
    char topic[HP__TOPIC_MAX + 1];
    if (snprintf(topic, sizeof topic, "events.%s", event->topic) >= (int)sizeof topic) return 0;
    publish_json(ps->handler, topic,
                 json_pack("{s:s, s:s, s:o, s:s}", "type", "message", "topic", topic, "data",
                           hp__event_json(event), "from", "server"));
    return 0;
}

static void unsubscribe_events(pubsub *ps)
{
    if (ps->events_subscribed) hp_pool_unsubscribe(ps->pool, ps->events_id);
    ps->events_subscribed = false;
}

static void bind_pool(hp_handler *handler, void *data, hp_pool *pool)
{
    pubsub *ps = data;
    unsubscribe_events(ps);
    ps->pool = pool;
    if (ps->o->events &&
        hp_pool_subscribe(pool, ps->o->events, forward_event, ps, &ps->events_id) == 0)
        ps->events_subscribed = true;
}

static void release(void *data)
{
    pubsub *ps = data;
    unsubscribe_events(ps);
    hp__pubsub_options_free(ps->o);
    free(ps);
}

static hp_handler *clone_pubsub(const hp_handler *handler, void *data)
{
    const pubsub *ps = data;
    int err;
    return hp__pubsub_handler_create(&hp__websocket_config(handler)->options, ps->o, &err);
}

static const hp__ws_mode pubsub_mode = {
    .bind = bind_pool,
    .release = release,
    .clone = clone_pubsub,
};

static const hp_ws_callbacks pubsub_callbacks = {
    .on_open = on_open,
    .on_message = on_message,
    .on_close = on_close,
};

hp_handler *hp__pubsub_handler_create(const hp_ws_options *ws, const hp__pubsub_options *o,
                                      int *err)
{
    for (size_t i = 0; o && i < o->allow_count; i++)
        if (!hp__topic_pattern_valid(o->allow[i])) return *err = HP_EINVAL, NULL;
    if (o && o->events && !hp__topic_pattern_valid(o->events)) return *err = HP_EINVAL, NULL;
    pubsub *ps = HP_NEW(pubsub);
    ps->o = hp__pubsub_options_copy(o);
    ps->handler = hp__websocket_handler_create_mode(ws, &pubsub_callbacks, ps, &pubsub_mode, err);
    if (!ps->handler) release(ps);
    return ps->handler;
}

bool hp__pubsub_handler_is(const hp_handler *handler)
{
    const hp__ws_config *c = hp__websocket_config(handler);
    return c && c->mode == &pubsub_mode;
}
