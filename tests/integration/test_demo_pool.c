/* The demo pool of `make run` (examples/hostpool.yaml), run by the real binary on ports of
 * its own: the file as it is, with its fixed ports 8080-8089 and its ports.range rewritten to
 * free ones, run from the repository's root as `make run` does. Every server starts, and
 * every URL `hostpool run` prints answers 200 when asked as a client on this machine would:
 * to 127.0.0.1 (names under localhost resolve there) with the URL's host, or the Host the line
 * says to send, as its Host header.
 *
 * The demo's virtual hosts share one port and are chosen by Host (src/http/vhosts.c); the
 * assertions that need that routing are marked "ROUTING". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_test.h"

/* Fixed ports of this file's configs (tests/support/hp_test.h: hp_test_free_port_in). */
#define FIXED_PORT_MIN 24700
#define FIXED_PORT_MAX 24799

#define MAX_URLS 32
#define DEMO_PORT_LO 8000 /* the switchboards' 8000 and 8001, the servers' 8080-8089 */
#define DEMO_PORT_HI 8089

typedef struct printed_url {
    char host[256]; /* of the URL */
    int port;
    char name[80];       /* the server's */
    char send_host[300]; /* the Host the line says to send; "": the URL's host and port */
} printed_url;

/* A switchboard's front: "hostpool: listening on URL (NAME, switchboard: http://PATTERN:PORT/)". */
typedef struct printed_switchboard {
    char name[80];
    char pattern[256]; /* "{name}.localhost" */
    int port;
} printed_switchboard;

typedef struct demo {
    hp_test_server srv;
    int servers, running; /* from "hostpool: R of S servers running" */
    printed_url urls[MAX_URLS];
    size_t url_count;
    printed_switchboard switchboards[4];
    size_t switchboard_count;
} demo;

/* The demo's text with each fixed port 8000-8089 (the same port everywhere it appears) and
 * ports.range replaced by free ports, and the program its switchboard starts,
 * ./build/hostpool, by the binary under test. Owned. */
static char *rewrite_ports(const char *text)
{
    static const char range[] = "range: ", program[] = "./build/hostpool";
    int map[DEMO_PORT_HI - DEMO_PORT_LO + 1] = {0};
    char *out = calloc(1, 2 * strlen(text) + 4096 + 64), *o = out; /* a port grows by 1 */
    for (const char *p = text; *p;) {
        char *end;
        long port = strncmp(p, "127.0.0.1:", 10) == 0 ? strtol(p + 10, &end, 10) : 0;
        if (port >= DEMO_PORT_LO && port <= DEMO_PORT_HI) {
            int *mapped = &map[port - DEMO_PORT_LO];
            if (!*mapped) *mapped = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX);
            assert_true(*mapped > 0);
            o += sprintf(o, "127.0.0.1:%d", *mapped);
            p = end;
        } else if (strncmp(p, program, sizeof program - 1) == 0) {
            o += sprintf(o, "%s", hp_test_bin()); /* once: at most 4096 bytes more */
            p += sizeof program - 1;
        } else if (strncmp(p, range, sizeof range - 1) == 0) {
            /* Room for auto-port and the programs the switchboard apps starts. */
            int free_port = hp_test_free_port_in(FIXED_PORT_MIN, FIXED_PORT_MAX - 4);
            assert_true(free_port > 0);
            o += sprintf(o, "%s%d-%d", range, free_port, free_port + 4);
            p += sizeof range - 1 + strspn(p + sizeof range - 1, "0123456789-");
        } else {
            *o++ = *p++;
        }
    }
    return out;
}

/* Writes the rewritten demo to the temporary directory; returns its path (static). */
static const char *write_demo(void)
{
    static char path[4200];
    char source[4200];
    snprintf(source, sizeof source, "%s/examples/hostpool.yaml", hp_test_source_dir());
    char *text = hp_test_read_file(source, NULL);
    assert_non_null(text);
    char *rewritten = rewrite_ports(text);
    assert_int_equal(
        hp_test_write_file(hp_test_temp_dir(), "demo.yaml", rewritten, strlen(rewritten)), 0);
    snprintf(path, sizeof path, "%s/demo.yaml", hp_test_temp_dir());
    free(rewritten);
    free(text);
    return path;
}

/* One "hostpool: listening on http://HOST:PORT/ (NAME[, Host: H][, exposed as URL])". */
static void parse_url_line(const char *line, printed_url *u)
{
    assert_int_equal(sscanf(line, "hostpool: listening on http://%255[^:/]:%d/ (%79[^,)]", u->host,
                            &u->port, u->name),
                     3);
    const char *hint = strstr(line, ", Host: ");
    if (hint) assert_int_equal(sscanf(hint + 8, "%299[^,)]", u->send_host), 1);
}

/* True when `line` is a switchboard front's: then *sb says what to open. */
static bool parse_switchboard_hint(const char *line, printed_switchboard *sb)
{
    const char *hint = strstr(line, ", switchboard: http://"), *end = strchr(line, '\n');
    if (!hint || (end && hint > end)) return false;
    assert_int_equal(sscanf(line, "hostpool: listening on http://%*[^ ] (%79[^,]", sb->name), 1);
    assert_int_equal(sscanf(hint + 22, "%255[^:]:%d/)", sb->pattern, &sb->port), 2);
    return true;
}

/* The URL lines (a switchboard's front's apart: its address answers names only), and the
 * count line (read up to "servers running": it may end later); the admin API's line names no
 * server. */
static void parse_output(const char *out, demo *d)
{
    for (const char *line = out, *next; line && *line; line = next ? next + 1 : NULL) {
        next = strchr(line, '\n');
        if (strncmp(line, "hostpool: listening on ", 23) == 0) {
            assert_true(d->url_count < MAX_URLS && d->switchboard_count < 4);
            if (parse_switchboard_hint(line, &d->switchboards[d->switchboard_count]))
                d->switchboard_count++;
            else
                parse_url_line(line, &d->urls[d->url_count++]);
        } else if (strncmp(line, "hostpool: admin API on unix:", 28) != 0) {
            assert_int_equal(
                sscanf(line, "hostpool: %d of %d servers running", &d->running, &d->servers), 2);
        }
    }
}

static int start_demo(void **state)
{
    demo *d = calloc(1, sizeof *d);
    const char *config = write_demo();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(hp_test_source_dir()), 0); /* as make run: the site root is relative */
    char admin[4200];
    snprintf(admin, sizeof admin, "unix:%s/admin.sock", hp_test_temp_dir());
    int started = hp_test_server_startl(&d->srv, "run", "--config", config, "--admin", admin, NULL);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(started, 0);
    const char *out = hp_test_server_stdout_until(&d->srv, "servers running", HP_TEST_DEADLINE_MS);
    assert_non_null(out);
    parse_output(out, d);
    *state = d;
    return 0;
}

static int stop_demo(void **state)
{
    demo *d = *state;
    assert_int_equal(hp_test_server_stop(&d->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    free(d);
    return 0;
}

/* GET / on `u` as a client would send it; the body is owned by the caller. */
static int get(const printed_url *u, hp_test_response *r)
{
    char host[320], request[512];
    if (u->send_host[0])
        snprintf(host, sizeof host, "%s", u->send_host);
    else
        snprintf(host, sizeof host, "%s:%d", u->host, u->port);
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             host);
    return hp_test_exchange(u->port, request, r, HP_TEST_DEADLINE_MS);
}

static void every_server_of_the_demo_starts_and_prints_a_url(void **state)
{
    demo *d = *state;
    assert_true(d->servers >= 10); /* site, api, api-2, four virtual hosts, auto-port, and the
                                    * fronts of the switchboards sites and apps */
    assert_int_equal(d->running, d->servers); /* ROUTING: servers sharing a port all start */
    assert_int_equal(d->switchboard_count, 2);
    assert_int_equal(d->url_count + d->switchboard_count, (size_t)d->servers); /* one each */
}

static void every_url_the_demo_prints_answers_200(void **state)
{
    demo *d = *state;
    for (size_t i = 0; i < d->url_count; i++) {
        const printed_url *u = &d->urls[i];
        bool local = strcmp(u->host, "127.0.0.1") == 0 || strstr(u->host, ".localhost") != NULL;
        if (!local) fail_msg("%s: %s does not resolve to 127.0.0.1", u->name, u->host);
        hp_test_response r;
        int rc = get(u, &r);
        if (rc != HP_TEST_OK)
            fail_msg("%s (%s:%d): %s", u->name, u->host, u->port, hp_test_result_name(rc));
        if (r.status != 200) fail_msg("%s (%s:%d): status %d", u->name, u->host, u->port, r.status);
        hp_test_response_free(&r);
    }
}

/* ROUTING: each Host reaches its own server, so servers on one port answer apart. */
static void demo_servers_sharing_a_port_each_answer_their_own_host(void **state)
{
    demo *d = *state;
    size_t sharing = 0;
    for (size_t i = 0; i < d->url_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (d->urls[i].port != d->urls[j].port) continue;
            sharing++;
            hp_test_response a, b;
            assert_int_equal(get(&d->urls[i], &a), HP_TEST_OK);
            assert_int_equal(get(&d->urls[j], &b), HP_TEST_OK);
            if (a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0)
                fail_msg("%s and %s answer alike on port %d", d->urls[i].name, d->urls[j].name,
                         d->urls[i].port);
            hp_test_response_free(&a);
            hp_test_response_free(&b);
        }
    }
    assert_true(sharing >= 6); /* four servers on one port: six pairs */
}

/* The site's /api/ goes through the upstream `api` to both of its instances in turn (each
 * worker keeps its own turn, so a few requests are enough to see both). */
static void the_site_proxies_api_to_both_instances_of_its_upstream(void **state)
{
    demo *d = *state;
    const printed_url *site = NULL;
    for (size_t i = 0; i < d->url_count; i++)
        if (strcmp(d->urls[i].name, "site") == 0) site = &d->urls[i];
    assert_non_null(site);
    char request[512];
    snprintf(request, sizeof request,
             "GET /api/ HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", site->host,
             site->port);
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 40 && !(seen[1] && seen[2]); i++) {
        hp_test_response r;
        assert_int_equal(hp_test_exchange(site->port, request, &r, HP_TEST_DEADLINE_MS),
                         HP_TEST_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(hp_test_response_header(&r, "Via"), "1.1 hostpool");
        if (strstr(r.body, "\"instance\":1")) seen[1] = true;
        if (strstr(r.body, "\"instance\":2")) seen[2] = true;
        hp_test_response_free(&r);
    }
    assert_true(seen[1] && seen[2]);
}

static const printed_switchboard *switchboard_named(const demo *d, const char *name)
{
    for (size_t i = 0; i < d->switchboard_count; i++)
        if (strcmp(d->switchboards[i].name, name) == 0) return &d->switchboards[i];
    fail_msg("the demo printed no switchboard %s", name);
    return NULL;
}

/* GET / of the name `name` through switchboard `sb`: its pattern with the name, as printed. */
static void get_name(const printed_switchboard *sb, const char *name, hp_test_response *r)
{
    char host[300], request[512];
    const char *brace = strstr(sb->pattern, "{name}");
    assert_non_null(brace);
    snprintf(host, sizeof host, "%.*s%s%s:%d", (int)(brace - sb->pattern), sb->pattern, name,
             brace + 6, sb->port);
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             host);
    assert_int_equal(hp_test_exchange(sb->port, request, r, HP_TEST_DEADLINE_MS), HP_TEST_OK);
}

/* `curl http://hello.localhost:8000/` makes the server hello from examples/sites/hello, and
 * `curl http://demo-app.localhost:8001/` starts a program for it; a name with no folder makes
 * nothing. */
static void the_demo_switchboards_make_a_site_and_start_an_app_on_demand(void **state)
{
    demo *d = *state;
    hp_test_response r;
    get_name(switchboard_named(d, "sites"), "hello", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Hello from examples/sites/hello"));
    hp_test_response_free(&r);
    get_name(switchboard_named(d, "apps"), "demo-app", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Hello from demo-app, a program hostpool started"));
    hp_test_response_free(&r);
    get_name(switchboard_named(d, "sites"), "nothing-here", &r);
    assert_int_equal(r.status, 404);
    hp_test_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_server_of_the_demo_starts_and_prints_a_url),
        cmocka_unit_test(every_url_the_demo_prints_answers_200),
        cmocka_unit_test(demo_servers_sharing_a_port_each_answer_their_own_host),
        cmocka_unit_test(the_site_proxies_api_to_both_instances_of_its_upstream),
        cmocka_unit_test(the_demo_switchboards_make_a_site_and_start_an_app_on_demand),
    };
    return cmocka_run_group_tests(tests, start_demo, stop_demo);
}
