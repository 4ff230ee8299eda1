/* Switchboards in a config (config_switchboards.h).
 *
 *   switchboards:
 *     - name: apps
 *       listen: 127.0.0.1:8000
 *       hosts: "{name}.localhost"          # or a list; each pattern with one {name}
 *       fallback_header: X-App-Name        # optional
 *       default: default                   # optional
 *       allow: { name: "^[a-z0-9-]{1,63}$", exists: "./sites/{name}" }   # both optional
 *       max_servers: 50                    # the default
 *       idle_timeout: 15m                  # the default; 0 = never
 *       template: { file: { root: "./sites/{name}" } }
 *
 * The names' pieces (patterns, default, regex, exists template) are checked by compiling them
 * as the switchboard will (core/switch_name.h), each alone, so an error is reported at the
 * piece it is about. Templates may hold {name} only: a file template has no port. */
#include "config/config_switchboards.h"

#include "common/alloc.h"
#include "config/config_process.h"
#include "core/switch_name.h"
#include "http/field_syntax.h"
#include "io/socket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef hp_config_check checker;

static char *read_string(checker *c, hp__cfg_node *n)
{
    const char *s = hp_config_string(c, n);
    if (s && !s[0]) {
        hp_config_error(c, n, "must not be empty");
        return NULL;
    }
    return s ? hp__strdup(s) : NULL;
}

/* Compiles `nc` alone; its error (if any) goes at `n`, without the "hosts[0]: " it starts
 * with for a pattern (the path says which pattern). */
static void check_names_piece(checker *c, hp__cfg_node *n, const hp__switch_names_config *nc)
{
    static const char pattern_prefix[] = "hosts[0]: ";
    char err[256];
    hp__switch_names *names = hp__switch_names_create(nc, err, sizeof err);
    const char *why = err;
    if (strncmp(why, pattern_prefix, sizeof pattern_prefix - 1) == 0)
        why += sizeof pattern_prefix - 1;
    if (!names) hp_config_error(c, n, "%s", why);
    hp__switch_names_destroy(names);
}

static void check_hosts(checker *c, hp__cfg_node *n, hp__switchboard_model *m)
{
    hp__cfg_node *const *items = n->kind == HP__CFG_SEQUENCE ? n->items : &n;
    size_t count = n->kind == HP__CFG_SEQUENCE ? n->count : 1;
    if (count == 0) {
        hp_config_error(c, n, "at least one pattern is required");
        return;
    }
    m->hosts = hp__calloc(count, sizeof *m->hosts);
    for (size_t i = 0; i < count; i++) {
        char *pattern = read_string(c, items[i]);
        if (!pattern) continue;
        m->hosts[m->host_count++] = pattern;
        const char *one[] = {pattern};
        check_names_piece(c, items[i], &(hp__switch_names_config){.hosts = one, .host_count = 1});
    }
}

static void check_listen(checker *c, hp__cfg_node *n, hp__switchboard_model *m)
{
    const char *text = hp_config_string(c, n);
    if (!text) return;
    struct sockaddr_storage a;
    char why[160];
    if (hp__socket_check_address(text, &a, why, sizeof why) != 0)
        hp_config_error(c, n, "%s", why);
    else
        m->listen = hp__strdup(text);
}

static void check_fallback_header(checker *c, hp__cfg_node *n, hp__switchboard_model *m)
{
    char *header = read_string(c, n);
    if (header && !hp__field_valid((hp_str){header, strlen(header)}, (hp_str){"x", 1})) {
        hp_config_error(c, n, "\"%.*s\" is not a header name", HP_CONFIG_QUOTE_MAX, header);
        free(header);
        header = NULL;
    }
    m->fallback_header = header;
}

static void check_default(checker *c, hp__cfg_node *n, hp__switchboard_model *m)
{
    if (!(m->default_name = read_string(c, n))) return;
    if (!hp__switch_name_safe(m->default_name))
        hp_config_error(c, n,
                        "\"%.*s\" is not a safe name: 1 to 63 of a-z 0-9 -, not starting "
                        "or ending with -",
                        HP_CONFIG_QUOTE_MAX, m->default_name);
}

/* A template with {name} and no {port}, at `n`. */
static char *read_template(checker *c, hp__cfg_node *n)
{
    char *t = read_string(c, n);
    char err[256];
    if (t && hp__template_check(t, false, err, sizeof err) != 0) {
        hp_config_error(c, n, "%s", err);
        free(t);
        return NULL;
    }
    return t;
}

static void check_allow(checker *c, hp__cfg_node *map, hp__switchboard_model *m)
{
    static const char *const keys[] = {"name", "exists", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "name")) && (m->allow_name = read_string(c, n)))
        check_names_piece(c, n, &(hp__switch_names_config){.allow_name = m->allow_name});
    if ((n = hp__cfg_mapping_get(map, "exists"))) m->allow_exists = read_template(c, n);
}

static void check_template(checker *c, hp__cfg_node *map, hp__switchboard_model *m)
{
    static const char *const keys[] = {"file", "process", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    hp__cfg_node *file = hp__cfg_mapping_get(map, "file");
    hp__cfg_node *process = hp__cfg_mapping_get(map, "process");
    if (!file == !process) {
        hp_config_error(c, map, "exactly one of \"file\" or \"process\" is required");
        return;
    }
    if (process) {
        m->process = HP_NEW(hp__process_model);
        hp__config_read_process(c, process, true, m->process);
        return;
    }
    static const char *const file_keys[] = {"root", NULL};
    if (!hp_config_expect_mapping(c, file)) return;
    hp_config_keys(c, file, file_keys);
    hp__cfg_node *root = hp__cfg_mapping_get(file, "root");
    if (!root)
        hp_config_error(c, file, "\"root\" is required");
    else
        m->file_root = read_template(c, root);
}

static void check_numbers(checker *c, hp__cfg_node *map, hp__switchboard_model *m)
{
    hp__cfg_node *n;
    long long max;
    uint64_t idle;
    m->max_servers = HP__SWITCHBOARD_MAX_SERVERS;
    m->idle_timeout_ms = HP__SWITCHBOARD_IDLE_TIMEOUT_MS;
    if ((n = hp__cfg_mapping_get(map, "max_servers")) &&
        hp_config_integer(c, n, 1, HP__CONFIG_MAX_SERVERS_LIMIT, &max))
        m->max_servers = (uint32_t)max;
    if ((n = hp__cfg_mapping_get(map, "idle_timeout")) &&
        hp__config_amount(c, n, HP__CONFIG_DURATION, 0, HP_LIMIT_MAX_TIMEOUT_MS, &idle))
        m->idle_timeout_ms = idle;
}

/* A key that is required: its node, or an error at the entry. */
static hp__cfg_node *required(checker *c, hp__cfg_node *map, const char *key)
{
    hp__cfg_node *n = hp__cfg_mapping_get(map, key);
    if (!n) hp_config_error(c, map, "\"%s\" is required", key);
    return n;
}

static void check_entry(checker *c, hp__cfg_node *map, const hp__config *config,
                        hp__switchboard_model *m)
{
    static const char *const keys[] = {"name",     "listen", "hosts",       "fallback_header",
                                       "default",  "allow",  "max_servers", "idle_timeout",
                                       "template", NULL};
    if (!hp_config_expect_mapping(c, map)) return;
    hp_config_keys(c, map, keys);
    m->limits = config->limits;
    m->access_log = config->access_log;
    hp__config_access_log_copy(&m->access_log_output, &config->access_log_output);
    hp__cfg_node *n;
    if ((n = required(c, map, "name")) && (m->name = read_string(c, n)) &&
        !hp__config_name_valid(m->name))
        hp_config_error(c, n, "\"%.*s\" is not a valid name: 1 to %d of A-Z a-z 0-9 . _ -",
                        HP_CONFIG_QUOTE_MAX, m->name, HP__CONFIG_NAME_MAX);
    if ((n = required(c, map, "listen"))) check_listen(c, n, m);
    if ((n = required(c, map, "hosts"))) check_hosts(c, n, m);
    if ((n = hp__cfg_mapping_get(map, "fallback_header"))) check_fallback_header(c, n, m);
    if ((n = hp__cfg_mapping_get(map, "default"))) check_default(c, n, m);
    if ((n = hp__cfg_mapping_get(map, "allow"))) check_allow(c, n, m);
    if ((n = required(c, map, "template"))) check_template(c, n, m);
    check_numbers(c, map, m);
}

/* switchboards[i]'s name is taken by no server and no switchboard before it. */
static void check_name_unique(checker *c, hp__cfg_node *map, const hp__config *config, size_t i)
{
    const char *name = config->switchboards[i].name;
    if (!name) return;
    hp__cfg_node *at = hp__cfg_mapping_get(map, "name");
    for (size_t j = 0; j < config->server_count; j++) {
        if (config->servers[j].name && strcmp(config->servers[j].name, name) == 0) {
            hp_config_error(c, at, "\"%s\" is already used by %s", name, config->servers[j].path);
            return;
        }
    }
    for (size_t j = 0; j < i; j++) {
        if (config->switchboards[j].name && strcmp(config->switchboards[j].name, name) == 0) {
            hp_config_error(c, at, "\"%s\" is already used by switchboards[%zu]", name, j);
            return;
        }
    }
}

void hp__config_check_switchboards(checker *c, hp__cfg_node *list, hp__config *config)
{
    if (list->kind == HP__CFG_SCALAR && hp__cfg_is_null(list)) return;
    if (list->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, list, "a list");
        return;
    }
    config->switchboards = hp__calloc(list->count ? list->count : 1, sizeof *config->switchboards);
    config->switchboard_count = list->count;
    for (size_t i = 0; i < list->count; i++) {
        check_entry(c, list->items[i], config, &config->switchboards[i]);
        check_name_unique(c, list->items[i], config, i);
    }
}
