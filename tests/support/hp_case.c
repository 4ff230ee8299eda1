/* The case file parser. The grammar, briefly (README.md in tests/data/http has the rest):
 *
 *   file    = *( key-line | comment | blank ) "---" LF request
 *   key     = expect | open | args | body | head | header | header-match | no-header
 *   request = escaped text; literal CR and LF are ignored, escapes make every byte
 *
 * Escapes are decoded by one recursive function so that a repeat \{N:X} may itself contain
 * escapes (and repeats); a repeat body ends at the first unescaped '}'. */
#include "hp_case.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test.h"

typedef struct bytes {
    char *data;
    size_t len, cap;
} bytes;

static void bytes_add(bytes *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}

typedef struct decoder {
    const char *p, *end;
    hp_case_step **steps; /* NULL: \{await} is not allowed here */
    size_t *step_count;
    char *error;
} decoder;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void end_step(decoder *d, bytes *out, bool await)
{
    *d->steps = realloc(*d->steps, (*d->step_count + 1) * sizeof **d->steps);
    hp_case_step *step = &(*d->steps)[(*d->step_count)++];
    step->bytes = out->data ? out->data : calloc(1, 1);
    step->len = out->len;
    step->await_response = await;
    memset(out, 0, sizeof *out);
}

/* Decodes into `out` until the end, or (inside a repeat) until an unescaped '}'. */
static int decode_into(decoder *d, bytes *out, bool in_repeat)
{
    while (d->p < d->end) {
        char c = *d->p++;
        if (c == '\r' || c == '\n') continue;
        if (in_repeat && c == '}') return 0;
        if (c != '\\') {
            bytes_add(out, &c, 1);
            continue;
        }
        if (d->p >= d->end) {
            d->error = format("a lone backslash at the end");
            return -1;
        }
        char e = *d->p++;
        char byte;
        switch (e) {
        case 'r':
            byte = '\r';
            break;
        case 'n':
            byte = '\n';
            break;
        case 't':
            byte = '\t';
            break;
        case '0':
            byte = '\0';
            break;
        case '\\':
            byte = '\\';
            break;
        case '}':
            byte = '}';
            break;
        case 'x': {
            int hi = d->p + 1 < d->end ? hex_value(d->p[0]) : -1;
            int lo = hi >= 0 ? hex_value(d->p[1]) : -1;
            if (lo < 0) {
                d->error = format("\\x needs two hex digits");
                return -1;
            }
            byte = (char)(hi * 16 + lo);
            d->p += 2;
            break;
        }
        case '{': {
            static const char await[] = "await}";
            if ((size_t)(d->end - d->p) >= sizeof await - 1 &&
                memcmp(d->p, await, sizeof await - 1) == 0) {
                d->p += sizeof await - 1;
                if (d->steps == NULL || in_repeat) {
                    d->error = format("\\{await} is only allowed in the request, not repeated");
                    return -1;
                }
                end_step(d, out, true);
                continue;
            }
            char *after;
            unsigned long count = strtoul(d->p, &after, 10);
            if (after == d->p || after >= d->end || *after != ':' || count > 100000000) {
                d->error = format("\\{ must be \\{await} or \\{N:X} with N a count");
                return -1;
            }
            d->p = after + 1;
            bytes unit = {0};
            if (decode_into(d, &unit, true) != 0) {
                free(unit.data);
                return -1;
            }
            if (d->p > d->end || d->p[-1] != '}') {
                free(unit.data);
                d->error = format("\\{N:X} without its closing }");
                return -1;
            }
            for (unsigned long i = 0; i < count; i++) bytes_add(out, unit.data, unit.len);
            free(unit.data);
            continue;
        }
        default:
            d->error = format("unknown escape \\%c", e);
            return -1;
        }
        bytes_add(out, &byte, 1);
    }
    if (in_repeat) {
        d->error = format("\\{N:X} without its closing }");
        return -1;
    }
    return 0;
}

char *hp_case_decode(const char *text, size_t len, size_t *out_len, char **error)
{
    decoder d = {text, text + len, NULL, NULL, NULL};
    bytes out = {0};
    if (decode_into(&d, &out, false) != 0) {
        free(out.data);
        *error = d.error;
        return NULL;
    }
    if (out_len) *out_len = out.len;
    return out.data ? out.data : calloc(1, 1);
}

int hp_case_decode_steps(const char *text, size_t len, hp_case_step **steps, size_t *step_count,
                         char **error)
{
    decoder d = {text, text + len, steps, step_count, NULL};
    bytes out = {0};
    if (decode_into(&d, &out, false) != 0) {
        free(out.data);
        *error = d.error;
        return -1;
    }
    if (out.len > 0 || *step_count == 0) end_step(&d, &out, false);
    free(out.data);
    return 0;
}

static char *trimmed_copy(const char *p, size_t n)
{
    while (n > 0 && isspace((unsigned char)*p)) p++, n--;
    while (n > 0 && isspace((unsigned char)p[n - 1])) n--;
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Parses "expect: 100 200 404". */
static char *parse_expect(hp_case *c, const char *value)
{
    const char *p = value;
    while (*p) {
        char *after;
        long status = strtol(p, &after, 10);
        if (after == p || status < 100 || status > 599) return format("bad status in expect");
        if (c->expect_count == HP_CASE_MAX_RESPONSES) return format("too many statuses");
        c->expect[c->expect_count++] = (int)status;
        p = after;
        while (*p == ' ' || *p == '\t') p++;
    }
    return c->expect_count ? NULL : format("expect needs at least one status");
}

/* Parses "head: 1 3" (response numbers, from 1). */
static char *parse_head(hp_case *c, const char *value)
{
    const char *p = value;
    while (*p) {
        char *after;
        long n = strtol(p, &after, 10);
        if (after == p || n < 1 || n > HP_CASE_MAX_RESPONSES) return format("bad number in head");
        c->to_head[n - 1] = true;
        p = after;
        while (*p == ' ' || *p == '\t') p++;
    }
    return NULL;
}

static char *parse_check(hp_case *c, hp_case_check_kind kind, const char *value)
{
    if (c->check_count == HP_CASE_MAX_CHECKS) return format("too many header checks");
    hp_case_check *check = &c->checks[c->check_count];
    check->kind = kind;
    if (kind == HP_CASE_HEADER_ABSENT) {
        check->name = trimmed_copy(value, strlen(value));
        check->value = NULL;
    } else {
        const char *colon = strchr(value, ':');
        if (colon == NULL || colon == value) return format("expected Name: value");
        check->name = trimmed_copy(value, (size_t)(colon - value));
        check->value = trimmed_copy(colon + 1, strlen(colon + 1));
    }
    c->check_count++;
    return NULL;
}

static char *parse_key_line(hp_case *c, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL) return format("expected key: value");
    char *key = trimmed_copy(line, (size_t)(colon - line));
    char *value = trimmed_copy(colon + 1, strlen(colon + 1));
    char *error = NULL;
    if (strcmp(key, "expect") == 0) {
        error = parse_expect(c, value);
    } else if (strcmp(key, "open") == 0) {
        if (strcmp(value, "yes") == 0)
            c->open = HP_CASE_OPEN_YES;
        else if (strcmp(value, "no") == 0)
            c->open = HP_CASE_OPEN_NO;
        else if (strcmp(value, "any") == 0)
            c->open = HP_CASE_OPEN_ANY;
        else
            error = format("open must be yes, no or any");
    } else if (strcmp(key, "args") == 0) {
        free(c->args);
        c->args = value;
        value = NULL;
    } else if (strcmp(key, "body") == 0) {
        /* The value keeps its inner spaces; escapes allow the rest. */
        free(c->body);
        c->body = hp_case_decode(value, strlen(value), &c->body_len, &error);
        c->has_body = c->body != NULL;
    } else if (strcmp(key, "head") == 0) {
        error = parse_head(c, value);
    } else if (strcmp(key, "header") == 0) {
        error = parse_check(c, HP_CASE_HEADER_EQUALS, value);
    } else if (strcmp(key, "header-match") == 0) {
        error = parse_check(c, HP_CASE_HEADER_MATCHES, value);
    } else if (strcmp(key, "no-header") == 0) {
        error = parse_check(c, HP_CASE_HEADER_ABSENT, value);
    } else {
        error = format("unknown key \"%s\"", key);
    }
    free(key);
    free(value);
    return error;
}

int hp_case_load(const char *path, hp_case *c)
{
    memset(c, 0, sizeof *c);
    const char *slash = strrchr(path, '/');
    c->name = strdup(slash ? slash + 1 : path);
    c->args = strdup("");
    c->open = HP_CASE_OPEN_ANY;
    bool have_open = false;

    size_t size;
    char *text = hp_test_read_file(path, &size);
    if (text == NULL) {
        c->error = format("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *p = text, *end = text + size;
    int line_no = 0;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *next = eol ? eol + 1 : end;
        size_t n = (size_t)((eol ? eol : end) - p);
        if (n > 0 && p[n - 1] == '\r') n--;
        line_no++;
        char *line = trimmed_copy(p, n);
        p = next;
        if (strcmp(line, "---") == 0) {
            free(line);
            char *error = NULL;
            if (hp_case_decode_steps(p, (size_t)(end - p), &c->steps, &c->step_count, &error) !=
                0) {
                c->error = format("%s: in the request: %s", c->name, error);
                free(error);
            } else if (c->expect_count == 0) {
                c->error = format("%s: no expect line", c->name);
            } else if (!have_open) {
                c->error = format("%s: no open line", c->name);
            }
            free(text);
            return c->error ? -1 : 0;
        }
        if (line[0] != '\0' && line[0] != '#') {
            if (strncmp(line, "open:", 5) == 0) have_open = true;
            char *error = parse_key_line(c, line);
            if (error) {
                c->error = format("%s:%d: %s", c->name, line_no, error);
                free(error);
                free(line);
                free(text);
                return -1;
            }
        }
        free(line);
    }
    free(text);
    c->error = format("%s: no \"---\" line before the request", c->name);
    return -1;
}

void hp_case_free(hp_case *c)
{
    free(c->name);
    free(c->args);
    free(c->body);
    for (size_t i = 0; i < c->check_count; i++) {
        free(c->checks[i].name);
        free(c->checks[i].value);
    }
    for (size_t i = 0; i < c->step_count; i++) free(c->steps[i].bytes);
    free(c->steps);
    free(c->error);
    memset(c, 0, sizeof *c);
}
