/* Building one server from the config (src/config/config_build.c): the handlers it creates
 * answer requests, and a handler that cannot be created (a missing file root) is an error
 * naming the route's config path and position. */
#include "config_fixture.h"
#include "hp_test.h"
#include "mem_transport.h"

#include "hostpool/errors.h"
#include "common/alloc.h"
#include "http/context.h"
#include "io/worker_context.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static hp__config *load(const char *name, const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    int rc = config_fixture_load(name, text, &config, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    hp__config_errors_close(&errs);
    return config;
}

/* Sends `request` to a server through a memory transport, in a worker context of its own as
 * a worker would give it (the file handler keeps its cache there); returns what came back
 * (owned). */
static char *exchange(const hp_server *server, const char *request)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    hp_worker worker;
    hp__worker_context_init(&worker, &loop, 0);
    hp__worker_context_enter(&worker);
    hp__worker_handlers_add_server(&worker, server);
    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    mem_transport *m = mem_transport_create(&ctx, server);
    mem_transport_feed_str(m, request);
    char *out = hp__strndup(m->out, m->out_len);
    assert_int_equal(m->violations, 0);
    mem_transport_destroy(m);
    hp__http_context_close(&ctx);
    hp__worker_context_close(&worker);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return out;
}

static void built_server_answers_with_its_routes_handlers(void **state)
{
    const char *dir = hp_test_temp_dir();
    assert_int_equal(hp_test_write_file(dir, "www/index.html", "home\n", 5), 0);
    char text[8192];
    snprintf(text, sizeof text,
             "servers:\n"
             "  - name: web\n"
             "    listen: [127.0.0.1:0, auto]\n"
             "    limits: { max_headers: 20 }\n"
             "    routes:\n"
             "      - match: { path: /hello, methods: [GET] }\n"
             "        respond: { status: 201, body: hi, headers: { x-test: yes } }\n"
             "      - match: { path: /old/ }\n"
             "        redirect: { location: \"https://example.com\", keep_path: true }\n"
             "      - file: { root: \"%s/www\" }\n",
             dir);
    hp__config *c = load("build.yaml", text);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp_server_config sc;
    assert_int_equal(hp__config_build_server(&c->servers[0], &sc, &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_string_equal(sc.name, "web");
    assert_int_equal(sc.listen_count, 2);
    assert_string_equal(sc.listen[0], "127.0.0.1:0");
    assert_string_equal(sc.listen[1], "auto"); /* for the pool to replace */
    assert_int_equal(sc.route_count, 3);
    assert_string_equal(sc.routes[0].path_prefix, "/hello");
    assert_int_equal(sc.routes[0].method_count, 1);
    assert_string_equal(sc.routes[0].methods[0], "GET");
    assert_null(sc.routes[2].path_prefix);
    assert_int_equal(sc.limits.max_headers, 20);
    assert_true(sc.access_log);
    assert_string_equal(sc.routes[0].handler->vt->name, "respond");
    assert_string_equal(sc.routes[1].handler->vt->name, "redirect");
    assert_string_equal(sc.routes[2].handler->vt->name, "file");

    sc.listen_count = 1; /* "auto" is not an address hp_server_create() may keep */
    hp_server *server;
    char err[256];
    assert_int_equal(hp_server_create(&sc, &server, err, sizeof err), 0);
    hp__config_server_config_close(&sc, false); /* the server owns the handlers now */

    char *out = exchange(server, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_non_null(strstr(out, "HTTP/1.1 201 Created\r\n"));
    assert_non_null(strstr(out, "\r\nx-test: yes\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nhi"));
    free(out);
    out = exchange(server, "GET /old/a?b HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_non_null(strstr(out, "HTTP/1.1 302 Found\r\n"));
    assert_non_null(strstr(out, "\r\nLocation: https://example.com/old/a?b\r\n"));
    free(out);
    out = exchange(server, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nhome\n"));
    free(out);

    hp_server_destroy(server);
    hp__config_errors_close(&errs);
    hp__config_destroy(c);
}

static void missing_file_root_is_an_error_with_the_route_path(void **state)
{
    hp__config *c = load("missing.yaml", "servers:\n"
                                         "  - name: ok\n"
                                         "    listen: auto\n"
                                         "  - name: web\n"
                                         "    listen: auto\n"
                                         "    routes:\n"
                                         "      - respond: { body: fine }\n"
                                         "      - file: { root: /nonexistent/www }\n"
                                         "      - match: { path: /b/ }\n"
                                         "        file: { root: /nonexistent/b }\n");
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp_server_config sc;
    assert_int_equal(hp__config_build_server(&c->servers[1], &sc, &errs), HP_ECONFIG);
    char *printed = config_fixture_errors(&errs);
    char *path = config_fixture_path("missing.yaml");
    char want[8192];
    snprintf(want, sizeof want,
             "%s:8:23: servers[1].routes[1].file.root: cannot serve \"/nonexistent/www\": not "
             "found\n"
             "%s:10:23: servers[1].routes[2].file.root: cannot serve \"/nonexistent/b\": not "
             "found\n",
             path, path);
    assert_string_equal(printed, want);
    free(path);
    free(printed);
    hp__config_errors_close(&errs);

    /* A server without routes builds (the pool answers with its default handler). */
    hp__config_errors_init(&errs);
    assert_int_equal(hp__config_build_server(&c->servers[0], &sc, &errs), 0);
    assert_int_equal(sc.route_count, 0);
    hp__config_server_config_close(&sc, true);
    hp__config_errors_close(&errs);
    hp__config_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(built_server_answers_with_its_routes_handlers),
        cmocka_unit_test(missing_file_root_is_an_error_with_the_route_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
