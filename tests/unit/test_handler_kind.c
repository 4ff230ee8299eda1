/* Handler kinds registered by a program (hostpool/handler_kind.h, src/handlers/registry.c):
 * a registered key is a route's handler like a built-in one, its settings checked with errors
 * at file:line:column, its handler built (or its build error reported at its settings), what
 * it read kept in the checked form; bad, taken and surplus keys are refused, and so is any
 * registration once a config was checked.
 *
 * The registry is one per process and closes at the first check, so the tests run in the
 * order of main(): registrations first. */
#include "config_fixture.h"
#include "hp_test.h"

#include "config/parse.h"
#include "hostpool/errors.h"
#include "hostpool/handler_kind.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- echo: { prefix: TEXT, status: 200, loud: off } -------------------------------------- */

typedef struct echo_model {
    char *prefix;
    hp_config_pos prefix_pos;
    long long status;
    bool loud;
} echo_model;

static void *echo_check(hp_config_check *check, hp_config_node *settings)
{
    static const char *const keys[] = {"prefix", "status", "loud", NULL};
    echo_model *m = calloc(1, sizeof *m);
    m->status = 200;
    if (!hp_config_expect_mapping(check, settings)) return m;
    hp_config_keys(check, settings, keys);
    hp_config_node *n;
    const char *text;
    if (!(n = hp_config_get(settings, "prefix"))) {
        hp_config_error(check, settings, "\"prefix\" is required");
    } else if ((text = hp_config_string(check, n))) {
        m->prefix = strdup(text);
        m->prefix_pos = hp_config_node_pos(n);
    }
    if ((n = hp_config_get(settings, "status"))) hp_config_integer(check, n, 200, 599, &m->status);
    if ((n = hp_config_get(settings, "loud"))) hp_config_boolean(check, n, &m->loud);
    return m;
}

static void echo_on_request(hp_handler *self, hp_request *req)
{
    hp_respond(req, 200, "echo", 4);
}

static void echo_destroy(hp_handler *self)
{
    free(self);
}

static const hp_handler_vtable echo_vtable = {
    .name = "echo",
    .on_request = echo_on_request,
    .destroy = echo_destroy,
};

/* Prefix "missing" fails with a report at the prefix; "quiet" fails without one. */
static int echo_build(const void *model, hp_config_build *build, hp_handler **out)
{
    const echo_model *m = model;
    if (strcmp(m->prefix, "missing") == 0) {
        hp_config_build_error(build, "prefix", m->prefix_pos, "no such prefix \"%s\"", m->prefix);
        return HP_ENOTFOUND;
    }
    if (strcmp(m->prefix, "quiet") == 0) return HP_EINVAL;
    hp_handler *h = calloc(1, sizeof *h);
    h->vt = &echo_vtable;
    *out = h;
    return 0;
}

static void echo_free_model(void *model)
{
    echo_model *m = model;
    free(m->prefix);
    free(m);
}

static const hp_handler_kind echo_kind = {
    .key = "echo",
    .check = echo_check,
    .build = echo_build,
    .free_model = echo_free_model,
};

/* ---- registering ------------------------------------------------------------------------ */

static void registering_refuses_bad_keys_taken_keys_and_missing_functions(void **state)
{
    assert_int_equal(hp_handler_kind_register(&echo_kind), 0);
    assert_int_equal(hp_handler_kind_register(&echo_kind), HP_EEXISTS);
    hp_handler_kind k = echo_kind;
    k.key = "file"; /* a built-in's */
    assert_int_equal(hp_handler_kind_register(&k), HP_EEXISTS);
    const char *const bad[] = {
        "Echo", "match", "", "9lives", "e-cho", "e cho", "a23456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        k.key = bad[i];
        assert_int_equal(hp_handler_kind_register(&k), HP_EINVAL);
    }
    k.key = NULL;
    assert_int_equal(hp_handler_kind_register(&k), HP_EINVAL);
    k = echo_kind;
    k.key = "no_check";
    k.check = NULL;
    assert_int_equal(hp_handler_kind_register(&k), HP_EINVAL);
    k = echo_kind;
    k.key = "no_build";
    k.build = NULL;
    assert_int_equal(hp_handler_kind_register(&k), HP_EINVAL);
    assert_int_equal(hp_handler_kind_register(NULL), HP_EINVAL);
}

/* Kinds k1 ... k31 besides echo: 32 registered, the most there may be. */
static void registering_a_33rd_kind_is_refused(void **state)
{
    static char keys[32][8];
    hp_handler_kind k = echo_kind;
    for (int i = 1; i <= 31; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        k.key = keys[i]; /* copied by the registry: the buffer may change after */
        assert_int_equal(hp_handler_kind_register(&k), 0);
    }
    k.key = "k32";
    assert_int_equal(hp_handler_kind_register(&k), HP_ELIMIT);
    keys[1][0] = 'x';
}

/* ---- in a config -------------------------------------------------------------------------- */

static void a_registered_key_is_checked_where_its_settings_are_written(void **state)
{
    char *errors =
        config_fixture_load_errors("echo.yaml", "servers:\n"
                                                "  - name: a\n"
                                                "    listen: auto\n"
                                                "    routes:\n"
                                                "      - echo: { prefix: [x], status: 700 }\n"
                                                "      - echo: { statsu: 201, loud: maybe }\n"
                                                "      - ecko: { prefix: x }\n"
                                                "      - echo: []\n"
                                                "      - k1: { prefix: x }\n");
    char want[4096];
    int n = snprintf(want, sizeof want,
                     "echo.yaml:5:25: servers[0].routes[0].echo.prefix: expected a string, got "
                     "a list\n"
                     "echo.yaml:5:38: servers[0].routes[0].echo.status: 700 out of range "
                     "(200-599)\n"
                     "echo.yaml:6:15: servers[0].routes[1].echo: \"prefix\" is required\n"
                     "echo.yaml:6:17: servers[0].routes[1].echo: unknown key \"statsu\" (did "
                     "you mean \"status\"?)\n"
                     "echo.yaml:6:36: servers[0].routes[1].echo.loud: expected on or off, got "
                     "\"maybe\"\n"
                     "echo.yaml:7:9: servers[0].routes[2]: unknown key \"ecko\" (did you mean "
                     "\"echo\"?)\n"
                     "echo.yaml:7:9: servers[0].routes[2]: exactly one of respond, file, "
                     "redirect, metrics, health, proxy, websocket, echo");
    for (int i = 1; i <= 31; i++) n += snprintf(want + n, sizeof want - n, ", k%d", i);
    snprintf(want + n, sizeof want - n,
             " is required\n"
             "echo.yaml:8:15: servers[0].routes[3].echo: expected a mapping, got a list\n");
    assert_string_equal(errors, want);
    free(errors);
}

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

static void a_registered_kind_builds_its_handler_or_reports_why_not(void **state)
{
    hp__config *c = load("build.yaml", "servers:\n"
                                       "  - name: good\n"
                                       "    listen: auto\n"
                                       "    routes: [{ echo: { prefix: x } }]\n"
                                       "  - name: bad\n"
                                       "    listen: auto\n"
                                       "    routes:\n"
                                       "      - echo: { prefix: missing }\n"
                                       "      - echo: { prefix: quiet }\n");
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp_server_config sc;
    assert_int_equal(hp__config_build_server(&c->servers[0], &sc, &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_ptr_equal(sc.routes[0].handler->vt, &echo_vtable);
    hp__config_server_config_close(&sc, true);
    assert_int_equal(hp__config_build_server(&c->servers[1], &sc, &errs), HP_ECONFIG);
    char *printed = config_fixture_errors(&errs);
    char *path = config_fixture_path("build.yaml"), want[8192];
    snprintf(want, sizeof want,
             "%s:8:25: servers[1].routes[0].echo.prefix: no such prefix \"missing\"\n"
             "%s:9:9: servers[1].routes[1].echo: cannot create the handler: invalid argument\n",
             path, path);
    assert_string_equal(printed, want);
    free(path);
    free(printed);
    hp__config_errors_close(&errs);
    hp__config_destroy(c);
}

/* What the kind read is what the running config holds: "0200" was read as the integer 200,
 * "on" as true, and the plain 5 as the string "5". */
static void the_checked_form_holds_what_a_registered_kind_read(void **state)
{
    const char *text = "servers:\n"
                       "  - name: a\n"
                       "    listen: auto\n"
                       "    routes: [{ echo: { prefix: 5, status: 0200, loud: on } }]\n";
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__cfg_node *root = hp__cfg_parse_yaml(text, strlen(text), "form.yaml", &errs);
    hp__config *c = NULL;
    assert_int_equal(hp__config_load_node(root, "form.yaml", &c, &errs), 0);
    json_t *doc = hp__cfg_node_to_json(root);
    json_t *servers = json_object_get(doc, "servers");
    json_t *routes = json_object_get(json_array_get(servers, 0), "routes");
    char *echo = json_dumps(json_object_get(json_array_get(routes, 0), "echo"),
                            JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(echo, "{\"loud\":true,\"prefix\":\"5\",\"status\":200}");
    free(echo);
    json_decref(doc);
    hp__config_destroy(c);
    hp__cfg_node_destroy(root);
    hp__config_errors_close(&errs);
}

static void registering_after_a_config_was_checked_is_refused(void **state)
{
    hp_handler_kind k = echo_kind;
    k.key = "late";
    assert_int_equal(hp_handler_kind_register(&k), HP_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registering_refuses_bad_keys_taken_keys_and_missing_functions),
        cmocka_unit_test(registering_a_33rd_kind_is_refused),
        cmocka_unit_test(a_registered_key_is_checked_where_its_settings_are_written),
        cmocka_unit_test(a_registered_kind_builds_its_handler_or_reports_why_not),
        cmocka_unit_test(the_checked_form_holds_what_a_registered_kind_read),
        cmocka_unit_test(registering_after_a_config_was_checked_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
