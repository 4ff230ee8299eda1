#include "http/compress.h"

#include "common/alloc.h"
#include "common/block.h"
#include "common/str.h"
#include "http/field_syntax.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_types[] = {HP_COMPRESS_DEFAULT_TYPES};
#define DEFAULT_TYPE_COUNT (sizeof default_types / sizeof default_types[0])

bool hp__compress_type_valid(const char *type)
{
    const char *slash = strchr(type, '/');
    if (!slash) return false;
    size_t main_len = (size_t)(slash - type), sub_len = strlen(slash + 1);
    bool main_ok = main_len && hp__token_length(type, main_len) == main_len;
    bool sub_ok = sub_len && hp__token_length(slash + 1, sub_len) == sub_len;
    bool any_main = main_len == 1 && type[0] == '*';
    bool any_sub = sub_len == 1 && slash[1] == '*';
    return main_ok && sub_ok && (!any_main || any_sub); /* not "*" + "/json" */
}

const char *hp__compress_config_problem(const hp_compress_config *c)
{
    if (c->off) return NULL;
    if (c->level != 0 && (c->level < 1 || c->level > 9)) return "level: 1 to 9";
    if (c->type_count > HP__COMPRESS_TYPES_MAX) return "types: at most 64";
    if (c->type_count && !c->types) return "types: NULL with a count";
    for (size_t i = 0; i < c->type_count; i++)
        if (!c->types[i] || !hp__compress_type_valid(c->types[i]))
            return "types: each is \"type/subtype\" or \"type/*\"";
    return NULL;
}

hp__compress *hp__compress_create(const hp_compress_config *c)
{
    const char *const *types = c->type_count ? c->types : default_types;
    size_t count = c->type_count ? c->type_count : DEFAULT_TYPE_COUNT;
    size_t size = sizeof(hp__compress) + count * sizeof(char *);
    for (size_t i = 0; i < count; i++) size += strlen(types[i]) + 1;
    hp__compress *p = hp__calloc(1, size);
    hp__block b = {(char *)(p + 1)};
    const char **copies = hp__block_take(&b, count * sizeof *copies);
    for (size_t i = 0; i < count; i++) {
        char *t = hp__block_copy(&b, types[i], strlen(types[i]));
        for (char *q = t; *q; q++)
            if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
        copies[i] = t;
    }
    p->config = (hp_compress_config){.types = copies,
                                     .type_count = count,
                                     .min_bytes = c->min_bytes ? c->min_bytes
                                                               : HP_COMPRESS_DEFAULT_MIN_BYTES,
                                     .level = c->level ? c->level : HP_COMPRESS_DEFAULT_LEVEL};
    return p;
}

void hp__compress_destroy(hp__compress *p)
{
    free(p);
}

/* Does `pattern` (lowercase; its subtype may be "*") match the media type `t`? */
static bool type_matches(const char *pattern, hp_str t)
{
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 2] == '/' && pattern[n - 1] == '*') {
        if (n == 3 && pattern[0] == '*') return true;
        return t.len >= n && hp__mem_ieq(t.base, pattern, n - 1);
    }
    return t.len == n && hp__mem_ieq(t.base, pattern, n);
}

bool hp__compress_type_matches(const hp__compress *p, hp_str content_type)
{
    const char *s = content_type.base, *end = s + content_type.len;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    const char *e = s;
    while (e < end && *e != ';' && *e != ' ' && *e != '\t') e++;
    hp_str media = hp__str(s, (size_t)(e - s));
    for (size_t i = 0; i < p->config.type_count; i++)
        if (type_matches(p->config.types[i], media)) return true;
    return false;
}
