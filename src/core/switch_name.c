/* A switchboard's names: host patterns, the choice of a name, the allow rules and templates.
 * The contract is in switch_name.h. A compiled pattern is kept as the bytes before and after
 * its {name} (lower-cased): matching is two case-insensitive compares and a scan of the label
 * between them for a dot. Nothing here allocates after hp__switch_names_create. */
#include "core/switch_name.h"

#include "common/alloc.h"
#include "common/str.h"
#include "core/host_name.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_PLACEHOLDER "{name}"

typedef struct host_pattern {
    char *prefix; /* owned, lower-case */
    char *suffix; /* owned, lower-case */
    size_t prefix_len;
    size_t suffix_len;
} host_pattern;

struct hp__switch_names {
    host_pattern *patterns;
    size_t pattern_count;
    char *fallback_header; /* owned, NULL: none */
    char *default_name;    /* owned, NULL: none */
    char *exists;          /* owned, NULL: none */
    regex_t name_regex;
    bool has_name_regex;
};

static void fail(char *err, size_t errcap, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(err, errcap, format, args);
    va_end(args);
}

static void lower_copy(char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[len] = '\0';
}

/* Checks `text` and fills `pattern`; the reason for a refusal goes to err[errcap]. */
static int pattern_compile(host_pattern *pattern, const char *text, char *err, size_t errcap)
{
    if (text[0] == '\0') {
        fail(err, errcap, "a pattern is empty");
        return -1;
    }
    const char *at = strstr(text, NAME_PLACEHOLDER);
    if (!at) {
        fail(err, errcap, "\"%s\" has no {name}", text);
        return -1;
    }
    const char *after = at + strlen(NAME_PLACEHOLDER);
    if (strstr(after, NAME_PLACEHOLDER)) {
        fail(err, errcap, "\"%s\" has two {name}", text);
        return -1;
    }
    size_t prefix_len = (size_t)(at - text);
    size_t suffix_len = strlen(after);
    /* The pattern with a one-letter name must be a host name: this refuses other braces,
     * characters a host cannot hold and empty labels ("{name}..test"). "{name}" alone is a
     * valid pattern: it matches every single-label host. */
    char *sample = hp__malloc(prefix_len + 1 + suffix_len + 1);
    lower_copy(sample, text, prefix_len);
    sample[prefix_len] = 'a';
    lower_copy(sample + prefix_len + 1, after, suffix_len);
    bool valid = hp__host_name_valid(sample);
    free(sample);
    if (!valid) {
        fail(err, errcap, "\"%s\" is not a host name with {name} standing for one label", text);
        return -1;
    }
    pattern->prefix = hp__malloc(prefix_len + 1);
    lower_copy(pattern->prefix, text, prefix_len);
    pattern->suffix = hp__malloc(suffix_len + 1);
    lower_copy(pattern->suffix, after, suffix_len);
    pattern->prefix_len = prefix_len;
    pattern->suffix_len = suffix_len;
    return 0;
}

/* The label of stripped host `host` that stands for {name}, or len 0 when it does not match. */
static hp_str pattern_match(const host_pattern *pattern, hp_str host)
{
    hp_str none = {NULL, 0};
    if (host.len <= pattern->prefix_len + pattern->suffix_len) return none;
    if (!hp__mem_ieq(host.base, pattern->prefix, pattern->prefix_len)) return none;
    const char *tail = host.base + host.len - pattern->suffix_len;
    if (!hp__mem_ieq(tail, pattern->suffix, pattern->suffix_len)) return none;
    hp_str label = hp__str(host.base + pattern->prefix_len,
                           host.len - pattern->prefix_len - pattern->suffix_len);
    return memchr(label.base, '.', label.len) ? none : label;
}

static int compile_regex(hp__switch_names *names, const char *text, char *err, size_t errcap)
{
    int rc = regcomp(&names->name_regex, text, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char reason[128];
        regerror(rc, &names->name_regex, reason, sizeof reason);
        fail(err, errcap, "allow.name \"%s\": %s", text, reason);
        return -1;
    }
    names->has_name_regex = true;
    return 0;
}

static int compile_config(hp__switch_names *names, const hp__switch_names_config *config, char *err,
                          size_t errcap)
{
    names->patterns =
        hp__calloc(config->host_count ? config->host_count : 1, sizeof names->patterns[0]);
    for (size_t i = 0; i < config->host_count; i++) {
        char reason[256];
        if (pattern_compile(&names->patterns[i], config->hosts[i], reason, sizeof reason)) {
            fail(err, errcap, "hosts[%zu]: %s", i, reason);
            return -1;
        }
        names->pattern_count++;
    }
    if (config->default_name && !hp__switch_name_safe(config->default_name)) {
        fail(err, errcap,
             "default \"%s\" is not a name: 1-63 of a-z, 0-9 and '-', not starting or ending "
             "with '-'",
             config->default_name);
        return -1;
    }
    if (config->allow_exists) {
        char reason[256];
        if (hp__template_check(config->allow_exists, false, reason, sizeof reason)) {
            fail(err, errcap, "allow.exists: %s", reason);
            return -1;
        }
    }
    if (config->allow_name && compile_regex(names, config->allow_name, err, errcap)) return -1;
    if (config->fallback_header) names->fallback_header = hp__strdup(config->fallback_header);
    if (config->default_name) names->default_name = hp__strdup(config->default_name);
    if (config->allow_exists) names->exists = hp__strdup(config->allow_exists);
    return 0;
}

hp__switch_names *hp__switch_names_create(const hp__switch_names_config *config, char *err,
                                          size_t errcap)
{
    err[0] = '\0';
    hp__switch_names *names = HP_NEW(hp__switch_names);
    if (compile_config(names, config, err, errcap)) {
        hp__switch_names_destroy(names);
        return NULL;
    }
    return names;
}

void hp__switch_names_destroy(hp__switch_names *names)
{
    if (!names) return;
    for (size_t i = 0; i < names->pattern_count; i++) {
        free(names->patterns[i].prefix);
        free(names->patterns[i].suffix);
    }
    free(names->patterns);
    free(names->fallback_header);
    free(names->default_name);
    free(names->exists);
    if (names->has_name_regex) regfree(&names->name_regex);
    free(names);
}

const char *hp__switch_names_header(const hp__switch_names *names)
{
    return names->fallback_header;
}

bool hp__switch_name_safe(const char *name)
{
    size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");
    return len >= 1 && len < HP__SWITCH_NAME_CAP && name[len] == '\0' && name[0] != '-' &&
           name[len - 1] != '-';
}

hp__switch_name_result hp__switch_names_allow(const hp__switch_names *names, const char *name)
{
    if (!hp__switch_name_safe(name)) return HP__SWITCH_NAME_UNSAFE;
    if (names->has_name_regex && regexec(&names->name_regex, name, 0, NULL, 0) != 0)
        return HP__SWITCH_NAME_NOT_ALLOWED;
    return HP__SWITCH_NAME_OK;
}

static hp_str trim(hp_str s)
{
    while (s.len && (s.base[0] == ' ' || s.base[0] == '\t')) s.base++, s.len--;
    while (s.len && (s.base[s.len - 1] == ' ' || s.base[s.len - 1] == '\t')) s.len--;
    return s;
}

/* The candidate name: the Host's label, else the header, else the default; len 0: none. */
static hp_str candidate(const hp__switch_names *names, hp_str host, hp_str header)
{
    hp_str stripped = hp__host_strip(host);
    for (size_t i = 0; i < names->pattern_count; i++) {
        hp_str label = pattern_match(&names->patterns[i], stripped);
        if (label.len) return label;
    }
    hp_str value = names->fallback_header ? trim(header) : (hp_str){NULL, 0};
    if (value.len) return value;
    if (names->default_name) return hp__str(names->default_name, strlen(names->default_name));
    return (hp_str){NULL, 0};
}

hp__switch_name_result hp__switch_names_choose(const hp__switch_names *names, hp_str host,
                                               hp_str header, char name[HP__SWITCH_NAME_CAP])
{
    name[0] = '\0';
    hp_str chosen = candidate(names, host, header);
    if (chosen.len == 0) return HP__SWITCH_NAME_NONE;
    /* Too long for a label, or a NUL inside: lower-casing into name[] would hide either. */
    if (chosen.len >= HP__SWITCH_NAME_CAP || memchr(chosen.base, '\0', chosen.len))
        return HP__SWITCH_NAME_UNSAFE;
    lower_copy(name, chosen.base, chosen.len);
    hp__switch_name_result result = hp__switch_names_allow(names, name);
    if (result != HP__SWITCH_NAME_OK) name[0] = '\0';
    return result;
}

int hp__switch_names_exists_path(const hp__switch_names *names, const char *name, char *out,
                                 size_t cap)
{
    if (!names->exists) return 1;
    hp__template_values values = {.name = name, .port = 0};
    /* The template was checked when created: only the length can fail. */
    return hp__template_expand(names->exists, values, out, cap, NULL) == HP__TEMPLATE_OK ? 0 : -1;
}

/* The length of the placeholder at `s` ('{', an identifier, '}'), or 0 if `s` holds none. */
static size_t placeholder_len(const char *s)
{
    if (s[0] != '{' || !(isalpha((unsigned char)s[1]) || s[1] == '_')) return 0;
    size_t i = 2;
    while (isalnum((unsigned char)s[i]) || s[i] == '_') i++;
    return s[i] == '}' ? i + 1 : 0;
}

static bool append(char *out, size_t cap, size_t *used, const char *text, size_t len)
{
    if (len >= cap - *used) return false;
    memcpy(out + *used, text, len);
    *used += len;
    return true;
}

hp__template_result hp__template_expand(const char *template, hp__template_values values, char *out,
                                        size_t cap, hp_str *bad)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *s = template; *s;) {
        size_t len = placeholder_len(s);
        const char *text = s;
        size_t text_len = 1;
        char port[8];
        if (len == strlen("{name}") && strncmp(s, "{name}", len) == 0) {
            text = values.name;
            text_len = strlen(values.name);
        } else if (len == strlen("{port}") && strncmp(s, "{port}", len) == 0 && values.port) {
            text_len = (size_t)snprintf(port, sizeof port, "%u", values.port);
            text = port;
        } else if (len) {
            if (bad) *bad = hp__str(s, len);
            out[0] = '\0';
            return strncmp(s, "{port}", len) == 0 ? HP__TEMPLATE_NO_PORT : HP__TEMPLATE_UNKNOWN;
        }
        if (!append(out, cap, &used, text, text_len)) {
            out[0] = '\0'; /* never a cut path: "./sites/bl" could name something else */
            return HP__TEMPLATE_TOO_LONG;
        }
        s += len ? len : 1;
    }
    out[used] = '\0';
    return HP__TEMPLATE_OK;
}

int hp__template_check(const char *template, bool has_port, char *err, size_t errcap)
{
    /* Expanded with one-character sample values, shorter than their placeholders: the result
     * fits in the template's own length, so only a placeholder can fail. */
    size_t cap = strlen(template) + 1;
    char *out = hp__malloc(cap);
    hp_str bad = {NULL, 0};
    hp__template_values sample = {.name = "x", .port = has_port ? 1 : 0};
    hp__template_result result = hp__template_expand(template, sample, out, cap, &bad);
    free(out);
    if (result == HP__TEMPLATE_UNKNOWN)
        fail(err, errcap, "\"%s\": unknown placeholder %.*s (known: {name}, {port})", template,
             (int)bad.len, bad.base);
    else if (result == HP__TEMPLATE_NO_PORT)
        fail(err, errcap, "\"%s\": {port} is not known here", template);
    return result == HP__TEMPLATE_OK ? 0 : -1;
}
