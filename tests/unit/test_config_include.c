/* `include:` in a config file (src/config/config_include.c): glob patterns relative to the
 * including file, their files in sorted order, entries appended to the main lists; a pattern
 * matching nothing is fine, a missing plain path is an error; errors inside an included file
 * name that file and its line:column; includes do not nest; a document given to the admin API
 * (JSON) has no include. The include paths may name environment variables. */
#include "config_fixture.h"
#include "hp_test.h"

#include "hostpool/errors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

/* Writes `text` as `name` under the temporary folder's conf.d/. */
static void write_included(const char *name, const char *text)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/conf.d", hp_test_temp_dir());
    mkdir(dir, 0755);
    assert_int_equal(hp_test_write_file(dir, name, text, strlen(text)), 0);
}

static void remove_included(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/conf.d/%s", hp_test_temp_dir(), name);
    unlink(path);
}

static char *load_errors(const char *text)
{
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *config = NULL;
    assert_int_not_equal(config_fixture_load("main.yaml", text, &config, &errs), 0);
    assert_null(config);
    char *printed = config_fixture_errors(&errs);
    hp__config_errors_close(&errs);
    return printed;
}

static void server_with_name(char *out, size_t cap, const char *name, int port)
{
    snprintf(out, cap,
             "servers:\n"
             "  - name: %s\n"
             "    listen: 127.0.0.1:%d\n"
             "    routes: [ { respond: { body: %s } } ]\n",
             name, port, name);
}

static void included_files_are_merged_in_glob_order_after_the_main_entries(void **state)
{
    char text[512];
    server_with_name(text, sizeof text, "from-b", 8202);
    write_included("b.yaml", text);
    server_with_name(text, sizeof text, "from-a", 8201);
    strcat(text, "upstreams:\n  - name: up\n    targets: [ 127.0.0.1:9 ]\n");
    write_included("a.yaml", text);
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    int rc = config_fixture_load("main.yaml",
                                 "include: [ \"${HP_TEST_UNSET_DIR:-conf.d}/*.yaml\", "
                                 "\"none.d/*.yaml\" ]\n"
                                 "servers:\n"
                                 "  - name: main\n"
                                 "    listen: 127.0.0.1:8200\n"
                                 "    routes: [ { respond: { body: main } } ]\n",
                                 &c, &errs);
    hp__config_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(c->server_count, 3);
    assert_string_equal(c->servers[0].name, "main");
    assert_string_equal(c->servers[1].name, "from-a");
    assert_string_equal(c->servers[2].name, "from-b");
    assert_int_equal(c->upstream_count, 1);
    assert_non_null(strstr(c->servers[1].file, "/conf.d/a.yaml"));
    hp__config_destroy(c);
    hp__config_errors_close(&errs);
    remove_included("a.yaml");
    remove_included("b.yaml");
}

static void an_error_in_an_included_file_names_that_file_and_position(void **state)
{
    write_included("bad.yaml", "servers:\n"
                               "  - name: bad\n"
                               "    listen: 127.0.0.1:8210\n"
                               "    routes: [ { respond: { status: x } } ]\n"
                               "include: [ more.yaml ]\n");
    char *errors = load_errors("include: conf.d/bad.yaml\n");
    assert_non_null(strstr(errors, "/conf.d/bad.yaml:4:36: servers[0].routes[0].respond.status: "
                                   "expected an integer, got \"x\"\n"));
    assert_non_null(strstr(errors, "/conf.d/bad.yaml:5:1: include: includes do not nest"));
    free(errors);
    remove_included("bad.yaml");
}

static void a_missing_plain_path_is_an_error_at_the_include(void **state)
{
    char *errors = load_errors("include: [ conf.d/absent.yaml ]\n");
    assert_non_null(strstr(errors, "main.yaml:1:12: include[0]: cannot include "));
    assert_non_null(strstr(errors, "/conf.d/absent.yaml: No such file or directory\n"));
    free(errors);
}

static void the_admin_api_document_has_no_include(void **state)
{
    const char *json = "{\"include\": [\"conf.d/*.yaml\"]}";
    hp__config_errors errs;
    hp__config_errors_init(&errs);
    hp__config *c = NULL;
    json_t *doc = NULL;
    assert_int_equal(hp__config_load_json_doc(json, strlen(json), "--body", &c, &doc, &errs),
                     HP_ECONFIG);
    char *printed = config_fixture_errors(&errs);
    assert_non_null(strstr(printed, "include is read only from a config file"));
    free(printed);
    hp__config_errors_close(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(included_files_are_merged_in_glob_order_after_the_main_entries),
        cmocka_unit_test(an_error_in_an_included_file_names_that_file_and_position),
        cmocka_unit_test(a_missing_plain_path_is_an_error_at_the_include),
        cmocka_unit_test(the_admin_api_document_has_no_include),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
