#include "config/config_compress.h"

#include "common/alloc.h"
#include "http/compress.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool read_types(hp_config_check *c, hp__cfg_node *n, hp_compress_config *out)
{
    if (n->kind != HP__CFG_SEQUENCE) {
        hp__config_fail_type(c, n, "a list of media types");
        return false;
    }
    if (n->count == 0 || n->count > HP__COMPRESS_TYPES_MAX) {
        hp_config_error(c, n, "1 to %d media types", HP__COMPRESS_TYPES_MAX);
        return false;
    }
    const char **types = hp__calloc(n->count, sizeof *types);
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        const char *t = hp_config_string(c, n->items[i]);
        if (t && hp__compress_type_valid(t)) {
            types[out->type_count++] = hp__strdup(t);
        } else {
            if (t)
                hp_config_error(c, n->items[i],
                                "\"%.*s\" is not a media type (type/subtype, or "
                                "type/* for any subtype)",
                                HP_CONFIG_QUOTE_MAX, t);
            ok = false;
        }
    }
    out->types = types;
    return ok;
}

static bool read_mapping(hp_config_check *c, hp__cfg_node *map, hp_compress_config *out)
{
    static const char *const keys[] = {"types", "min_bytes", "level", NULL};
    hp_config_keys(c, map, keys);
    bool ok = true;
    hp__cfg_node *n;
    if ((n = hp__cfg_mapping_get(map, "types"))) ok &= read_types(c, n, out);
    uint64_t min;
    if ((n = hp__cfg_mapping_get(map, "min_bytes"))) {
        ok &= hp__config_amount(c, n, HP__CONFIG_SIZE, 1, HP_LIMIT_MAX_BODY_BYTES, &min);
        out->min_bytes = min;
    }
    long long level;
    if ((n = hp__cfg_mapping_get(map, "level"))) {
        ok &= hp_config_integer(c, n, 1, 9, &level);
        out->level = (int)level;
    }
    return ok;
}

/* What hp_config_boolean takes: true, on, yes, false, off, no in any case. */
static bool boolean_text(const char *text)
{
    static const char *const words[] = {"true", "on", "yes", "false", "off", "no"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(text, words[i]) == 0) return true;
    return false;
}

hp_compress_config *hp__config_read_compress(hp_config_check *c, hp__cfg_node *n, bool route)
{
    hp_compress_config *config = HP_NEW(hp_compress_config);
    bool ok;
    if (n->kind == HP__CFG_MAPPING) {
        ok = read_mapping(c, n, config);
    } else if (n->kind != HP__CFG_SCALAR || !boolean_text(n->text)) {
        hp__config_fail_type(c, n, "true, false or a mapping");
        ok = false;
    } else {
        bool on = false;
        ok = hp_config_boolean(c, n, &on);
        config->off = !on;
        if (ok && !on && !route) ok = false; /* a server's `false`: no policy at all */
    }
    if (ok) return config;
    hp__config_compress_free(config);
    return NULL;
}

void hp__config_compress_free(hp_compress_config *config)
{
    if (!config) return;
    for (size_t i = 0; i < config->type_count; i++) free((char *)config->types[i]);
    free((void *)config->types);
    free(config);
}
