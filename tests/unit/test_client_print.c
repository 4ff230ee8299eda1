/* The command-line client's text: durations to the two largest units and tables whose columns
 * line up, with "-" for an empty cell (src/cli/client_print.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/client_print.h"

#include <stdlib.h>
#include <string.h>

static void assert_duration(uint64_t ms, const char *want)
{
    char buf[32];
    hp__format_duration(ms, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void durations_show_the_two_largest_units(void **state)
{
    assert_duration(0, "0s");
    assert_duration(999, "0s");
    assert_duration(3 * 1000, "3s");
    assert_duration(59 * 1000 + 999, "59s");
    assert_duration(60 * 1000, "1m00s");
    assert_duration((5 * 60 + 12) * 1000, "5m12s");
    assert_duration((2 * 3600 + 3 * 60 + 59) * 1000, "2h03m");
    assert_duration((4 * 86400 + 1 * 3600 + 30 * 60) * 1000ull, "4d01h");
    assert_duration(400 * 86400 * 1000ull, "400d00h");
}

static char *table_text(void)
{
    static const char *const headers[] = {"NAME", "STATE", "HOSTS"};
    hp__table t;
    hp__table_init(&t, headers, 3);
    char *first[] = {strdup("web"), strdup("running"), strdup("")};
    char *second[] = {strdup("a-longer-name"), strdup("stopped"), NULL};
    hp__table_add(&t, first);
    hp__table_add(&t, second);
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    hp__table_print(&t, out);
    fclose(out);
    hp__table_close(&t);
    return text;
}

static void table_columns_are_as_wide_as_their_widest_cell(void **state)
{
    char *text = table_text();
    assert_string_equal(text, "NAME           STATE    HOSTS\n"
                              "web            running  -\n"
                              "a-longer-name  stopped  -\n");
    free(text);
}

static void server_fields_read_the_api_json(void **state)
{
    json_t *server = json_loads("{\"name\":\"w\",\"state\":\"running\",\"listen\":["
                                "{\"address\":\"127.0.0.1:0\",\"port\":34567},"
                                "{\"address\":\"[::1]:8080\",\"port\":8080},"
                                "{\"address\":\"unix:/run/x.sock\",\"port\":0}],"
                                "\"hosts\":[\"a.test\",\"*.b.test\"],\"uptime_ms\":312000,"
                                "\"expose\":null,\"requests\":12}",
                                0, NULL);
    char *texts[] = {
        hp__server_listen_text(server),          hp__server_hosts_text(server),
        hp__server_uptime_text(server),          hp__server_count_text(server, "requests"),
        hp__server_count_text(server, "errors"), hp__server_string_text(server, "expose")};
    assert_string_equal(texts[0], "127.0.0.1:34567,[::1]:8080,unix:/run/x.sock");
    assert_string_equal(texts[1], "a.test,*.b.test");
    assert_string_equal(texts[2], "5m12s");
    assert_string_equal(texts[3], "12");
    assert_string_equal(texts[4], "-");
    assert_string_equal(texts[5], "-");
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) free(texts[i]);
    json_object_set_new(server, "state", json_string("stopped"));
    char *uptime = hp__server_uptime_text(server);
    assert_string_equal(uptime, "-");
    free(uptime);
    json_decref(server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_show_the_two_largest_units),
        cmocka_unit_test(table_columns_are_as_wide_as_their_widest_cell),
        cmocka_unit_test(server_fields_read_the_api_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
