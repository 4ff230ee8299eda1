#include "config/config_logs.h"

#include "common/alloc.h"
#include "config/config_check.h"

#include <stdlib.h>
#include <string.h>

#define BUFFER_MAX (64u << 20)

static char *read_path(hp_config_check *c, hp__cfg_node *n)
{
    const char *text = hp_config_string(c, n);
    if (!text) return NULL;
    if (!text[0]) {
        hp_config_error(c, n, "must not be empty");
        return NULL;
    }
    return hp__strdup(text);
}

static void read_format(hp_config_check *c, hp__cfg_node *n, hp_access_log_format *out)
{
    static const char *const names[] = {"default", "combined", "json"};
    const char *text = hp_config_string(c, n);
    if (!text) return;
    for (int i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (hp_access_log_format)i;
            return;
        }
    }
    hp_config_error(c, n, "expected default, combined or json, got \"%.*s\"", HP_CONFIG_QUOTE_MAX,
                    text);
}

void hp__config_read_access_log(hp_config_check *c, hp__cfg_node *n, bool *on,
                                hp__config_access_log *out)
{
    static const char *const keys[] = {"path", "format", "buffer", NULL};
    hp__config_access_log_close(out);
    if (n->kind != HP__CFG_MAPPING) {
        hp_config_boolean(c, n, on);
        return;
    }
    if (n->count == 0) { /* says nothing: on is `true` */
        hp__config_fail_type(c, n, "a boolean, or a mapping of path, format and buffer");
        return;
    }
    *on = true;
    hp_config_keys(c, n, keys);
    hp__cfg_node *v;
    if ((v = hp__cfg_mapping_get(n, "path"))) out->path = read_path(c, v);
    if ((v = hp__cfg_mapping_get(n, "format"))) read_format(c, v, &out->format);
    uint64_t bytes;
    if ((v = hp__cfg_mapping_get(n, "buffer")) &&
        hp__config_amount(c, v, HP__CONFIG_SIZE, 1, BUFFER_MAX, &bytes))
        out->buffer_bytes = (size_t)bytes;
}

void hp__config_access_log_copy(hp__config_access_log *to, const hp__config_access_log *from)
{
    *to = *from;
    to->path = from->path ? hp__strdup(from->path) : NULL;
}

void hp__config_access_log_close(hp__config_access_log *a)
{
    free(a->path);
    *a = (hp__config_access_log){0};
}

bool hp__config_access_log_equal(const hp__config_access_log *a, const hp__config_access_log *b)
{
    bool paths = a->path == b->path || (a->path && b->path && strcmp(a->path, b->path) == 0);
    return paths && a->format == b->format && a->buffer_bytes == b->buffer_bytes;
}

hp_access_log_output hp__config_access_log_output(const hp__config_access_log *a)
{
    return (hp_access_log_output){
        .path = a->path, .format = a->format, .buffer_bytes = a->buffer_bytes};
}

void hp__config_read_error_log(hp_config_check *c, hp__cfg_node *n, hp__config_error_log *out)
{
    static const char *const keys[] = {"path", "level", NULL};
    if (!hp_config_expect_mapping(c, n)) return;
    hp_config_keys(c, n, keys);
    hp__cfg_node *v;
    if ((v = hp__cfg_mapping_get(n, "path"))) out->path = read_path(c, v);
    const char *text;
    if ((v = hp__cfg_mapping_get(n, "level")) && (text = hp_config_string(c, v)) &&
        !hp__log_level_parse(text, &out->level))
        hp_config_error(c, v, "expected error, warning, info or debug, got \"%.*s\"",
                        HP_CONFIG_QUOTE_MAX, text);
}
