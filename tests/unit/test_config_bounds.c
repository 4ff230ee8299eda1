/* Every number in a config is bounded by what the code can hold (src/config/config.c, the
 * HP_LIMIT_* of hostpool/server.h): each key takes its largest value and refuses one more,
 * with an error at file:line:column that says the bound. A max_header_bytes near 4 GiB used
 * to pass and wrap the 32-bit read buffer (max_header_bytes + 4 KiB). */
#include "config_fixture.h"
#include "handlers/kinds.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NAME64 "n123456789012345678901234567890123456789012345678901234567890123"
#define INDEX255                                                                                   \
    "i12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"   \
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"  \
    "12345678901234567890123456789012345678901234567890123456789012345678901234"

#define SERVER "servers:\n  - name: a\n    listen: auto\n"

typedef uint64_t (*getter)(const hp__config *c);

typedef struct bound {
    const char *yaml; /* with one %s: where the value goes */
    const char *max;  /* taken */
    uint64_t want;    /* what it reads as, through get (when get is not NULL) */
    getter get;
    const char *over;  /* refused */
    const char *error; /* "path: message" of the refusal */
} bound;

#define GET(name, expr)                                                                            \
    static uint64_t name(const hp__config *c)                                                      \
    {                                                                                              \
        return (uint64_t)(expr);                                                                   \
    }
GET(header_timeout, c->limits.header_timeout_ms)
GET(idle_timeout, c->limits.idle_timeout_ms)
GET(write_timeout, c->limits.write_timeout_ms)
GET(drain_timeout, c->limits.drain_timeout_ms)
GET(max_header_bytes, c->limits.max_header_bytes)
GET(max_target_bytes, c->limits.max_target_bytes)
GET(max_body_bytes, c->limits.max_body_bytes)
GET(max_headers, c->limits.max_headers)
GET(max_connections, c->limits.max_connections)
GET(server_max_header_bytes, c->servers[0].limits.max_header_bytes)
GET(max_servers, c->max_servers)
GET(interval, c->health.interval_ms)
GET(rise, c->health.rise)
GET(fall, c->health.fall)
GET(workers, c->workers)
GET(ports_hi, c->ports.hi)
GET(status, ((const hp__respond_model *)c->servers[0].routes[0].model)->status)
#undef GET

static const bound bounds[] = {
    {"limits: { header_timeout: %s }\n", "24h", 86400000, header_timeout, "86400001ms",
     "limits.header_timeout: \"86400001ms\" is too large (at most 24h)"},
    {"limits: { idle_timeout: %s }\n", "86400", 86400000, idle_timeout, "86401",
     "limits.idle_timeout: \"86401\" is too large (at most 24h)"},
    {"limits: { write_timeout: %s }\n", "1440m", 86400000, write_timeout, "1441m",
     "limits.write_timeout: \"1441m\" is too large (at most 24h)"},
    {"limits: { drain_timeout: %s }\n", "24h", 86400000, drain_timeout, "25h",
     "limits.drain_timeout: \"25h\" is too large (at most 24h)"},
    {"limits: { drain_timeout: %s }\n", "0", 0, drain_timeout, "18446744073709551615ms",
     "limits.drain_timeout: \"18446744073709551615ms\" is too large (at most 24h)"},
    {"limits: { max_header_bytes: %s }\n", "1MiB", 1048576, max_header_bytes, "1048577",
     "limits.max_header_bytes: \"1048577\" is too large (at most 1MiB)"},
    /* The wrap of the issue: + 4096 is 2^32, a read buffer of 0 bytes. */
    {"limits: { max_header_bytes: %s }\n", "1024KiB", 1048576, max_header_bytes, "4294963200",
     "limits.max_header_bytes: \"4294963200\" is too large (at most 1MiB)"},
    {SERVER "    limits: { max_header_bytes: %s }\n", "1048576", 1048576, server_max_header_bytes,
     "4294967295",
     "servers[0].limits.max_header_bytes: \"4294967295\" is too large (at most 1MiB)"},
    {"limits: { max_target_bytes: %s }\n", "1MiB", 1048576, max_target_bytes, "1025KiB",
     "limits.max_target_bytes: \"1025KiB\" is too large (at most 1MiB)"},
    {"limits: { max_body_bytes: %s }\n", "1GiB", 1073741824, max_body_bytes, "1073741825",
     "limits.max_body_bytes: \"1073741825\" is too large (at most 1GiB)"},
    {"limits: { max_headers: %s }\n", "10000", 10000, max_headers, "10001",
     "limits.max_headers: 10001 out of range (1-10000)"},
    {"limits: { max_connections: %s }\n", "1000000", 1000000, max_connections, "1000001",
     "limits.max_connections: 1000001 out of range (1-1000000)"},
    {"limits: { max_connections: %s }\n", "1", 1, max_connections, "0",
     "limits.max_connections: 0 out of range (1-1000000)"},
    {"limits: { max_servers: %s }\n", "1000000", 1000000, max_servers, "1000001",
     "limits.max_servers: 1000001 out of range (1-1000000)"},
    {"health: { interval: %s }\n", "24h", 86400000, interval, "4294967296ms",
     "health.interval: \"4294967296ms\" is too large (at most 24h)"},
    {"health: { rise: %s }\n", "1000", 1000, rise, "1001",
     "health.rise: 1001 out of range (1-1000)"},
    {"health: { fall: %s }\n", "1000", 1000, fall, "1001",
     "health.fall: 1001 out of range (1-1000)"},
    {"workers: %s\n", "64", 64, workers, "65", "workers: 65 out of range (1-64)"},
    {"ports: { range: %s }\n", "1-65535", 65535, ports_hi, "1-65536",
     "ports.range: port 65536 out of range (1-65535)"},
    {"ports: { range: %s }\n", "65535-65535", 65535, ports_hi, "18446744073709551617-1",
     "ports.range: port 18446744073709551617 out of range (1-65535)"},
    {"servers:\n  - name: a\n    listen: %s\n", "\"127.0.0.1:65535\"", 0, NULL,
     "\"127.0.0.1:65536\"", "servers[0].listen: port 65536 out of range"},
    {"servers:\n  - name: a\n    listen: auto\n    expose: %s\n", "http://a:65535", 0, NULL,
     "http://a:65536",
     "servers[0].expose: expected http:// or https:// followed by host[:port], got "
     "\"http://a:65536\""},
    {SERVER "    routes: [ { respond: { status: %s } } ]\n", "599", 599, status, "600",
     "servers[0].routes[0].respond.status: 600 out of range (200-599)"},
    {"servers:\n  - listen: auto\n    name: %s\n", NAME64, 0, NULL, NAME64 "4",
     /* names are shown up to 60 characters */
     "servers[0].name: \"n12345678901234567890123456789012345678901234567890123456789\" is not a "
     "valid name: 1 to 64 of A-Z a-z 0-9 . _ -"},
    {SERVER "    routes: [ { file: { root: /, index: %s } } ]\n", INDEX255, 0, NULL, INDEX255 "4",
     "servers[0].routes[0].file.index: an index is a file name: 1 to 255 characters, no \"/\""},
};

/* The 1-based line and column of the %s in `yaml`. */
static void position_of(const char *yaml, int *line, int *column)
{
    const char *at = strstr(yaml, "%s"), *start = yaml;
    *line = 1;
    for (const char *p = yaml; p < at; p++)
        if (*p == '\n') *line = *line + 1, start = p + 1;
    *column = (int)(at - start) + 1;
}

static char *with_value(const char *yaml, const char *value)
{
    size_t len = strlen(yaml) + strlen(value);
    char *text = malloc(len);
    snprintf(text, len, yaml, value);
    return text;
}

static void every_number_takes_its_largest_value_and_refuses_one_more(void **state)
{
    for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
        const bound *b = &bounds[i];
        char *text = with_value(b->yaml, b->max);
        hp__config_errors errs;
        hp__config_errors_init(&errs);
        hp__config *c = NULL;
        if (config_fixture_load("bounds.yaml", text, &c, &errs) != 0) {
            char *printed = config_fixture_errors(&errs);
            fail_msg("%s refused: %s", b->max, printed);
        }
        if (b->get) assert_int_equal(b->get(c), b->want);
        hp__config_destroy(c);
        hp__config_errors_close(&errs);
        free(text);

        text = with_value(b->yaml, b->over);
        char *got = config_fixture_load_errors("bounds.yaml", text);
        char want[1024];
        int line, column;
        position_of(b->yaml, &line, &column);
        snprintf(want, sizeof want, "bounds.yaml:%d:%d: %s\n", line, column, b->error);
        assert_string_equal(got, want);
        free(got);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_number_takes_its_largest_value_and_refuses_one_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
