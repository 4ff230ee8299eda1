/* The websocket kind: what a route's `websocket: {...}` means (docs/CONFIG.md,
 * docs/WEBSOCKET.md), checked into an hp__websocket_model (kinds.h); the handler is
 * websocket.c's.
 *
 *   websocket: { echo: {}, max_message: 64KiB, max_backpressure: 1MiB, on_backpressure: close,
 *                idle_timeout: 120s, ping_interval: 30s, compression: false }
 *
 * The common options apply to every mode; exactly one mode says what the connections do
 * (`modes` below: the one place a mode is added). */
#include "common/alloc.h"
#include "config/config_check.h"
#include "config/config_pubsub.h"
#include "handlers/kinds.h"
#include "handlers/websocket.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

/* ---- echo: every message goes back as it came (text as text, binary as binary) ---- */

static void echo_message(hp_ws *ws, const char *bytes, size_t len, bool binary, void *data)
{
    hp_ws_send(ws, bytes, len, binary);
}

static bool echo_check(hp_config_check *c, hp_config_node *settings, hp__websocket_model *m)
{
    static const char *const keys[] = {NULL};
    if (!hp_config_expect_mapping(c, settings)) return false;
    hp_config_keys(c, settings, keys);
    return true;
}

static hp_handler *echo_build(const hp__websocket_model *m, int *err)
{
    static const hp_ws_callbacks echo = {.on_message = echo_message};
    return hp_websocket_handler_create(&m->options, &echo, NULL, err);
}

/* ---- pubsub: topics, names and presence (ws/pubsub.h; its keys: config/config_pubsub.c) ---- */

static bool pubsub_check(hp_config_check *c, hp_config_node *settings, hp__websocket_model *m)
{
    m->pubsub = hp__config_pubsub(c, settings);
    return true;
}

static hp_handler *pubsub_build(const hp__websocket_model *m, int *err)
{
    return hp__pubsub_handler_create(&m->options, m->pubsub, err);
}

/* ---- the modes: a route names exactly one. A mode checks its settings into the model and
 * builds the handler from it. ---- */

typedef struct mode {
    const char *key;
    bool (*check)(hp_config_check *c, hp_config_node *settings, hp__websocket_model *m);
    hp_handler *(*build)(const hp__websocket_model *m, int *err);
} mode;

static const mode modes[] = {
    {"echo", echo_check, echo_build},
    {"pubsub", pubsub_check, pubsub_build},
};
#define MODE_COUNT (sizeof modes / sizeof *modes)

static const char *const option_keys[] = {"max_message",  "max_backpressure", "on_backpressure",
                                          "idle_timeout", "ping_interval",    "compression"};
#define OPTION_COUNT (sizeof option_keys / sizeof *option_keys)

static void check_keys(hp_config_check *c, hp_config_node *map)
{
    const char *keys[OPTION_COUNT + MODE_COUNT + 1];
    memcpy(keys, option_keys, sizeof option_keys);
    for (size_t i = 0; i < MODE_COUNT; i++) keys[OPTION_COUNT + i] = modes[i].key;
    keys[OPTION_COUNT + MODE_COUNT] = NULL;
    hp_config_keys(c, map, keys);
}

static void check_mode(hp_config_check *c, hp_config_node *map, hp__websocket_model *m)
{
    hp_config_node *chosen = NULL;
    for (size_t i = 0; i < MODE_COUNT; i++) {
        hp_config_node *n = hp_config_get(map, modes[i].key);
        if (!n) continue;
        if (chosen) {
            hp_config_error(c, n, "a websocket route has one mode: %s and %s exclude each other",
                            modes[m->mode].key, modes[i].key);
            return;
        }
        chosen = n;
        m->mode = (unsigned)i;
    }
    if (!chosen) {
        hp_config_error(c, map, "a mode is required: echo: {} or pubsub: {...}");
        return;
    }
    modes[m->mode].check(c, chosen, m);
}

static void check_options(hp_config_check *c, hp_config_node *map, hp_ws_options *o)
{
    hp_config_node *n;
    if ((n = hp_config_get(map, "max_message")))
        hp__config_amount(c, n, HP__CONFIG_SIZE, 1, HP__WS_MAX_MESSAGE, &o->max_message);
    if ((n = hp_config_get(map, "max_backpressure")) &&
        hp__config_amount(c, n, HP__CONFIG_SIZE, 1, UINT64_MAX, &o->max_backpressure) &&
        o->max_backpressure < o->max_message)
        hp_config_error(c, n, "must be at least max_message (%llu bytes)",
                        (unsigned long long)o->max_message);
    if ((n = hp_config_get(map, "on_backpressure"))) {
        const char *text = hp_config_string(c, n);
        if (text && strcmp(text, "close") == 0)
            o->on_backpressure = HP_WS_BACKPRESSURE_CLOSE;
        else if (text && strcmp(text, "drop") == 0)
            o->on_backpressure = HP_WS_BACKPRESSURE_DROP;
        else if (text)
            hp_config_error(c, n, "expected close or drop, got \"%.*s\"", HP_CONFIG_QUOTE_MAX,
                            text);
    }
    if ((n = hp_config_get(map, "idle_timeout")))
        hp__config_amount(c, n, HP__CONFIG_DURATION, 0, UINT64_MAX, &o->idle_timeout_ms);
    if ((n = hp_config_get(map, "ping_interval")))
        hp__config_amount(c, n, HP__CONFIG_DURATION, 0, UINT64_MAX, &o->ping_interval_ms);
    if ((n = hp_config_get(map, "compression"))) hp_config_boolean(c, n, &o->compression);
}

static void *check_settings(hp_config_check *c, hp_config_node *map)
{
    hp__websocket_model *m = HP_NEW(hp__websocket_model);
    hp_ws_options_init(&m->options);
    if (!hp_config_expect_mapping(c, map)) return m;
    check_keys(c, map);
    check_options(c, map, &m->options);
    check_mode(c, map, m);
    return m;
}

static int build(const void *model, hp_config_build *b, hp_handler **out)
{
    const hp__websocket_model *m = model;
    int err = 0;
    *out = modes[m->mode].build(m, &err);
    return *out ? 0 : err;
}

static void free_model(void *model)
{
    hp__pubsub_options_free(((hp__websocket_model *)model)->pubsub);
    free(model);
}

const hp_handler_kind hp__websocket_kind = {
    .key = "websocket",
    .check = check_settings,
    .build = build,
    .free_model = free_model,
};
