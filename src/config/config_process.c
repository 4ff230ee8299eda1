/* Reading `process:` (config_process.h): a supervised process's command, environment, port,
 * readiness check, timeouts, queue and restart policy.
 *
 * Like every part of the checker, it reads every key and reports every problem, marking each
 * scalar with what it read it as (node.h), so the running config holds the checked form.
 * Ranges are those the supervisor and core/restart.h hold: durations 1 ms to a day, a factor
 * from 1 to 1000 (in thousandths), a jitter below 1 (in millionths), at most
 * HP__RESTART_MAX_MAX_RESTARTS restarts in the window. */
#include "config/config_process.h"

#include "common/alloc.h"
#include "core/restart.h"
#include "core/switch_name.h"
#include "hostpool/server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef hp_config_check checker;

#define PLACEHOLDER_ERR 200

/* ---- strings and templates ---- */

/* `text` read from `n` as a template: {port} always, {name} only in a switchboard's. */
static bool template_ok(checker *c, hp__cfg_node *n, const char *text, bool is_template)
{
    char why[PLACEHOLDER_ERR];
    if (hp__template_check(text, true, why, sizeof why) != 0) {
        hp_config_error(c, n, "%s", why);
        return false;
    }
    /* A literal "{name}" is always the placeholder: no placeholder can hold a '{'. */
    if (!is_template && strstr(text, "{name}")) {
        hp_config_error(c, n, "{name} is known only in a switchboard's template");
        return false;
    }
    return true;
}

static char *read_template(checker *c, hp__cfg_node *n, bool is_template)
{
    const char *text = hp_config_string(c, n);
    return text && template_ok(c, n, text, is_template) ? hp__strdup(text) : NULL;
}

static void read_command(checker *c, hp__cfg_node *n, bool is_template, hp__process_model *m)
{
    if (n->kind != HP__CFG_SEQUENCE || n->count == 0 || n->count > HP__PROCESS_MAX_ARGS) {
        char buf[HP_CONFIG_QUOTE_MAX + 8];
        hp_config_error(c, n,
                        "expected a list of 1 to %d strings (the program and its arguments), "
                        "got %s",
                        HP__PROCESS_MAX_ARGS, hp__config_describe(n, buf, sizeof buf));
        return;
    }
    m->command = hp__calloc(n->count, sizeof *m->command);
    for (size_t i = 0; i < n->count; i++) {
        char *arg = read_template(c, n->items[i], is_template);
        if (i == 0 && arg && !arg[0]) hp_config_error(c, n->items[0], "the program is empty");
        if (arg) m->command[m->config.command_count++] = arg;
    }
}

/* A POSIX environment name: [A-Za-z_][A-Za-z0-9_]*. */
static bool env_name_valid(const char *s)
{
    if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))) return false;
    size_t len = strlen(s);
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

static void read_env(checker *c, hp__cfg_node *map, bool is_template, hp__process_model *m)
{
    if (!hp_config_expect_mapping(c, map)) return;
    if (map->count > HP__PROCESS_MAX_ARGS) {
        hp_config_error(c, map, "at most %d variables", HP__PROCESS_MAX_ARGS);
        return;
    }
    m->env = hp__calloc(map->count ? map->count : 1, sizeof *m->env);
    for (size_t i = 0; i < map->count; i++) {
        hp__cfg_node *key = map->keys[i];
        bool name_ok = env_name_valid(key->text);
        if (!name_ok)
            hp__config_fail_at(c, map, key,
                               "\"%.*s\" is not an environment variable name: a letter or '_', "
                               "then letters, digits or '_'",
                               HP_CONFIG_QUOTE_MAX, key->text);
        char *value = read_template(c, map->items[i], is_template);
        if (name_ok && value) {
            size_t len = strlen(key->text) + 1 + strlen(value) + 1;
            char *entry = hp__malloc(len);
            snprintf(entry, len, "%s=%s", key->text, value);
            m->env[m->config.env_count++] = entry;
        }
        free(value);
    }
}

/* ---- numbers ---- */

static bool read_ms32(checker *c, hp__cfg_node *n, uint32_t *out)
{
    uint64_t v;
    if (!hp__config_amount(c, n, HP__CONFIG_DURATION, 1, HP_LIMIT_MAX_TIMEOUT_MS, &v)) return false;
    *out = (uint32_t)v; /* at most a day */
    return true;
}

/* A plain number (2, 1.5, 0.1) in [lo, hi], with at most `scale`'s precision: *out is the
 * number times `scale`, rounded. */
static bool read_scaled(checker *c, hp__cfg_node *n, double lo, double hi, double scale,
                        const char *expected, uint32_t *out)
{
    char buf[HP_CONFIG_QUOTE_MAX + 8];
    double v = -1;
    if (!hp__config_plain_number(n, &v) || !(v >= lo && v <= hi)) {
        hp_config_error(c, n, "expected %s, got %s", expected,
                        hp__config_describe(n, buf, sizeof buf));
        return false;
    }
    hp__config_read_as(n, hp__config_plain_integer(n) ? HP__CFG_READ_INTEGER : HP__CFG_READ_REAL);
    *out = (uint32_t)lround(v * scale);
    return true;
}

static void read_port(checker *c, hp__cfg_node *n, bool is_template, hp__process_model *m)
{
    long long port;
    if (is_template) {
        hp_config_error(c, n,
                        "a switchboard's process takes its port from ports.range: use "
                        "{port} in its command or env");
    } else if (n->kind == HP__CFG_SCALAR && !n->quoted && strcmp(n->text, "auto") == 0) {
        hp__config_read_as(n, HP__CFG_READ_STRING);
        m->config.port = 0;
    } else if (!hp__config_plain_integer(n)) {
        hp__config_fail_type(c, n, "auto or a port (1-65535)");
    } else if (hp_config_integer(c, n, 1, 65535, &port)) {
        m->config.port = (uint16_t)port;
    }
}

static void read_ready(checker *c, hp__cfg_node *map, hp__process_model *m)
{
    static const char *const keys[] = {"path", "tcp", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *path = hp__cfg_mapping_get(map, "path"), *tcp = hp__cfg_mapping_get(map, "tcp");
    if ((path != NULL) == (tcp != NULL)) {
        hp_config_error(c, map, "exactly one of path (GET it until 2xx) or tcp: true is required");
        return;
    }
    bool on;
    if (tcp && hp_config_boolean(c, tcp, &on) && !on)
        hp_config_error(c, tcp, "tcp: false would never be ready: give a path instead");
    const char *text = path ? hp_config_string(c, path) : NULL;
    if (text && (text[0] != '/' || strpbrk(text, " \t\r\n")))
        hp_config_error(c, path, "expected a path starting with \"/\" without spaces, got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, text);
    else if (text)
        m->ready_path = hp__strdup(text);
}

/* ---- restart ---- */

static void read_policy(checker *c, hp__cfg_node *n, hp_restart_config *r)
{
    const char *text = hp_config_string(c, n);
    hp__restart_policy policy;
    if (!text) return;
    if (hp__restart_policy_parse(text, &policy) != 0) {
        hp_config_error(c, n, "expected permanent, transient or temporary, got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, text);
        return;
    }
    r->policy = policy == HP__RESTART_PERMANENT   ? HP_RESTART_PERMANENT
                : policy == HP__RESTART_TRANSIENT ? HP_RESTART_TRANSIENT
                                                  : HP_RESTART_TEMPORARY;
}

static void read_restart(checker *c, hp__cfg_node *map, hp_restart_config *r)
{
    static const char *const keys[] = {"policy", "initial",      "max",    "factor",
                                       "jitter", "max_restarts", "within", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n, *max_node = hp__cfg_mapping_get(map, "max");
    long long count;
    if ((n = hp__cfg_mapping_get(map, "policy"))) read_policy(c, n, r);
    if ((n = hp__cfg_mapping_get(map, "initial"))) read_ms32(c, n, &r->initial_ms);
    if (max_node) read_ms32(c, max_node, &r->max_ms);
    if ((n = hp__cfg_mapping_get(map, "factor")))
        read_scaled(c, n, 1, HP__RESTART_MAX_FACTOR_MILLI / 1000.0, 1000,
                    "a number from 1 to 1000 (2, 1.5)", &r->factor_milli);
    if ((n = hp__cfg_mapping_get(map, "jitter")) &&
        read_scaled(c, n, 0, 0.999999, 1e6, "a number from 0 to below 1 (0.1)", &r->jitter_ppm) &&
        r->jitter_ppm == 0)
        r->jitter_ppm = HP_RESTART_NONE; /* 0 is "the default" in hp_restart_config */
    if ((n = hp__cfg_mapping_get(map, "max_restarts")) &&
        hp_config_integer(c, n, 0, HP__RESTART_MAX_MAX_RESTARTS, &count))
        r->max_restarts = count ? (uint32_t)count : HP_RESTART_NONE;
    if ((n = hp__cfg_mapping_get(map, "within"))) read_ms32(c, n, &r->within_ms);
    if (max_node && r->max_ms < r->initial_ms)
        hp_config_error(c, max_node, "must not be below initial");
}

/* ---- the mapping ---- */

bool hp__config_read_process(hp_config_check *c, hp__cfg_node *map, bool is_template,
                             hp__process_model *m)
{
    static const char *const keys[] = {"command",      "cwd",          "env",   "port",    "ready",
                                       "boot_timeout", "stop_timeout", "queue", "restart", NULL};
    size_t before = c->errs->count;
    *m = (hp__process_model){0};
    hp__process_config_defaults(&m->config);
    if (!hp_config_expect_mapping(c, map)) return false;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    uint64_t queue;
    if (!(n = hp__cfg_mapping_get(map, "command")))
        hp_config_error(c, map, "\"command\" is required: the program and its arguments");
    else
        read_command(c, n, is_template, m);
    if ((n = hp__cfg_mapping_get(map, "cwd"))) m->cwd = read_template(c, n, is_template);
    if ((n = hp__cfg_mapping_get(map, "env"))) read_env(c, n, is_template, m);
    if ((n = hp__cfg_mapping_get(map, "port"))) read_port(c, n, is_template, m);
    if ((n = hp__cfg_mapping_get(map, "ready"))) read_ready(c, n, m);
    if ((n = hp__cfg_mapping_get(map, "boot_timeout"))) read_ms32(c, n, &m->config.boot_timeout_ms);
    if ((n = hp__cfg_mapping_get(map, "stop_timeout"))) read_ms32(c, n, &m->config.stop_timeout_ms);
    if ((n = hp__cfg_mapping_get(map, "queue")) &&
        hp__config_amount(c, n, HP__CONFIG_COUNT, 1, HP__PROCESS_MAX_QUEUE, &queue))
        m->config.queue = (uint32_t)queue;
    if ((n = hp__cfg_mapping_get(map, "restart"))) read_restart(c, n, &m->config.restart);
    m->config.command = (const char *const *)m->command;
    m->config.cwd = m->cwd;
    m->config.env = (const char *const *)m->env;
    m->config.ready_path = m->ready_path;
    return c->errs->count == before;
}

/* ---- the model ---- */

void hp__process_config_defaults(hp_process_config *p)
{
    hp_restart_config *r = &p->restart;
    if (!p->boot_timeout_ms) p->boot_timeout_ms = 30000;
    if (!p->stop_timeout_ms) p->stop_timeout_ms = 10000;
    if (!p->queue) p->queue = 100;
    if (!r->initial_ms) r->initial_ms = HP__RESTART_DEFAULT_INITIAL_MS;
    if (!r->max_ms) r->max_ms = HP__RESTART_DEFAULT_MAX_MS;
    if (!r->factor_milli) r->factor_milli = HP__RESTART_DEFAULT_FACTOR_MILLI;
    if (!r->jitter_ppm) r->jitter_ppm = HP__RESTART_DEFAULT_JITTER_PPM;
    if (!r->max_restarts) r->max_restarts = HP__RESTART_DEFAULT_MAX_RESTARTS;
    if (!r->within_ms) r->within_ms = HP__RESTART_DEFAULT_WITHIN_MS;
}

static char **copy_strings(const char *const *from, size_t count)
{
    char **to = hp__calloc(count ? count : 1, sizeof *to);
    for (size_t i = 0; i < count; i++) to[i] = hp__strdup(from[i]);
    return to;
}

void hp__process_model_copy(hp__process_model *to, const hp_process_config *from)
{
    *to = (hp__process_model){.config = *from};
    hp__process_config_defaults(&to->config);
    to->command = copy_strings(from->command, from->command_count);
    to->env = copy_strings(from->env, from->env_count);
    to->cwd = from->cwd ? hp__strdup(from->cwd) : NULL;
    to->ready_path = from->ready_path ? hp__strdup(from->ready_path) : NULL;
    to->config.command = (const char *const *)to->command;
    to->config.env = (const char *const *)to->env;
    to->config.cwd = to->cwd;
    to->config.ready_path = to->ready_path;
}

void hp__process_model_free(hp__process_model *m)
{
    for (size_t i = 0; m->command && i < m->config.command_count; i++) free(m->command[i]);
    for (size_t i = 0; m->env && i < m->config.env_count; i++) free(m->env[i]);
    free(m->command);
    free(m->env);
    free(m->cwd);
    free(m->ready_path);
    *m = (hp__process_model){0};
}
