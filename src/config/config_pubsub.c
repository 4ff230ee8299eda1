/* The settings of a websocket route's `pubsub` mode (ws/pubsub.h):
 *
 *   pubsub: { allow: ["chat.**", "presence"], publish: clients | server, events: "server.*" }
 *
 * every key optional; each pattern must be a valid topic pattern (src/core/topic.h). */
#include "config/config_pubsub.h"

#include "common/alloc.h"
#include "core/topic.h"

#include <string.h>

static void check_allow(hp_config_check *c, hp_config_node *n, hp__pubsub_options *o)
{
    if (hp_config_text(n) || (hp_config_count(n) && hp_config_key_at(n, 0))) {
        hp_config_error(c, n, "expected a list of topic patterns");
        return;
    }
    size_t count = hp_config_count(n);
    o->allow = hp__calloc(count ? count : 1, sizeof *o->allow);
    for (size_t i = 0; i < count; i++) {
        hp_config_node *item = hp_config_item(n, i);
        const char *pattern = hp_config_string(c, item);
        if (!pattern) continue;
        if (!hp__topic_pattern_valid(pattern)) {
            hp_config_error(c, item,
                            "not a topic pattern: \"%.*s\" (dot-separated segments; `*` one "
                            "segment, a last `**` the rest)",
                            HP_CONFIG_QUOTE_MAX, pattern);
            continue;
        }
        o->allow[o->allow_count++] = hp__strdup(pattern);
    }
    if (!o->allow_count) hp_config_error(c, n, "allows no topic: omit it to allow every topic");
}

hp__pubsub_options *hp__config_pubsub(hp_config_check *c, hp_config_node *settings)
{
    static const char *const keys[] = {"allow", "publish", "events", NULL};
    hp__pubsub_options *o = hp__pubsub_options_copy(NULL);
    if (!hp_config_expect_mapping(c, settings)) return o;
    hp_config_keys(c, settings, keys);
    hp_config_node *n;
    if ((n = hp_config_get(settings, "allow"))) check_allow(c, n, o);
    if ((n = hp_config_get(settings, "publish"))) {
        const char *text = hp_config_string(c, n);
        if (text && strcmp(text, "server") == 0)
            o->server_only = true;
        else if (text && strcmp(text, "clients") != 0)
            hp_config_error(c, n, "expected clients or server, got \"%.*s\"", HP_CONFIG_QUOTE_MAX,
                            text);
    }
    if ((n = hp_config_get(settings, "events"))) {
        const char *pattern = hp_config_string(c, n);
        if (pattern && !hp__topic_pattern_valid(pattern))
            hp_config_error(c, n, "not an event pattern: \"%.*s\" (as GET /events?topic=)",
                            HP_CONFIG_QUOTE_MAX, pattern);
        else if (pattern)
            o->events = hp__strdup(pattern);
    }
    return o;
}
