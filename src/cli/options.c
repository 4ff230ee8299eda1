/* Reading a command's options (options.h says the rules).
 *
 * One pass over argv. After the first problem the pass goes on, only to find a "--help"
 * further on (help wins over a usage error); a problem is reported once, the first. An option
 * that takes a value always takes the next word, even one that starts with "-" (a body "-x"),
 * so "-h" as a value is a value. */
#include "cli/options.h"

#include "common/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many distinct options one command may have: the bound of the "given twice" check. */
#define MAX_OPTIONS 64

typedef struct reader {
    const hp__option *const *tables;
    int argc;
    char **argv;
    const hp__option *seen[MAX_OPTIONS];
    size_t seen_count;
    char why[300]; /* the first problem, "" while there is none */
} reader;

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static bool same_name(const char *name, const char *arg, size_t len)
{
    return name && strlen(name) == len && strncmp(name, arg, len) == 0;
}

static const hp__option *find(const hp__option *const *tables, const char *arg, size_t len)
{
    for (size_t t = 0; tables[t]; t++)
        for (const hp__option *o = tables[t]; o->name; o++)
            if (same_name(o->name, arg, len) || same_name(o->short_name, arg, len)) return o;
    return NULL;
}

static void problem(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(reader *r, const char *fmt, ...)
{
    if (r->why[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* Records that `o` was given; false (and the problem) when it was already and may not be. */
static bool first_time(reader *r, const hp__option *o)
{
    for (size_t i = 0; i < r->seen_count; i++)
        if (r->seen[i] == o) {
            if (o->repeats) return true;
            problem(r, "%s is given twice", o->name);
            return false;
        }
    if (r->seen_count < MAX_OPTIONS) r->seen[r->seen_count++] = o;
    return true;
}

/* Reads the option at argv[*i], and its value from the same word or the next one. */
static void read_option(reader *r, int *i)
{
    const char *arg = r->argv[*i], *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const hp__option *o = find(r->tables, arg, len);
    if (!o) {
        problem(r, "unknown option '%.*s'", (int)len, arg);
    } else if (o->set) {
        if (eq)
            problem(r, "%s takes no value", o->name);
        else if (first_time(r, o))
            *o->set = true;
    } else {
        const char *value = eq ? eq + 1 : *i + 1 < r->argc ? r->argv[++*i] : NULL;
        if (!value) {
            problem(r, "%s needs a value", o->name);
        } else if (first_time(r, o)) {
            if (o->value)
                *o->value = value;
            else if (!o->apply(o->ctx, o->name, value))
                problem(r, "bad value '%s' for %s", value, o->name);
        }
    }
}

static void print_usage_line(const hp__usage *u, FILE *out)
{
    fprintf(out, "usage: hostpool %s\n", u->synopsis);
}

static void vusage_error(const hp__usage *u, const char *fmt, va_list ap)
{
    fprintf(stderr, "hostpool %s: ", u->command);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    print_usage_line(u, stderr);
    fprintf(stderr, "(hostpool %s --help says more)\n", u->command);
}

int hp__usage_error(const hp__usage *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vusage_error(u, fmt, ap);
    va_end(ap);
    return HP__EXIT_USAGE;
}

static void print_help(const hp__usage *u)
{
    print_usage_line(u, stdout);
    fputs(u->help, stdout);
    if (u->common_help) fputs(u->common_help, stdout);
}

bool hp__options_read(const hp__usage *u, const hp__option *const *tables, int argc, char **argv,
                      hp__args *args, int *exit_status)
{
    reader r = {.tables = tables, .argc = argc, .argv = argv};
    *args = (hp__args){.items = hp__calloc((size_t)argc + 1, sizeof *args->items)};
    bool ended = false, help = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!ended && strcmp(arg, "--") == 0)
            ended = true;
        else if (!ended && is_help(arg))
            help = true;
        else if (!ended && arg[0] == '-' && arg[1] != '\0')
            read_option(&r, &i);
        else
            args->items[args->count++] = arg;
    }
    if (args->count < u->min_args) problem(&r, "missing argument");
    if (args->count > u->max_args)
        problem(&r, "unexpected argument '%s'", args->items[u->max_args]);
    if (!help && !r.why[0]) return true;
    free(args->items);
    args->items = NULL;
    if (help) {
        print_help(u);
        *exit_status = 0;
    } else {
        *exit_status = hp__usage_error(u, "%s", r.why);
    }
    return false;
}
