/* The pubsub mode of `websocket:` routes in `hostpool run` (two workers), driven by real
 * clients: tests/data/pubsub/scenarios.py (Debian's python3-websockets, run by
 * /usr/bin/python3), one scenario per test, each bounded in time. A scenario exits 0 when what
 * it asserts holds; its stderr says what did not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_test_admin.h"

#define CONFIG                                                                                     \
    "workers: 2\n"                                                                                 \
    "access_log: off\n"                                                                            \
    "servers:\n"                                                                                   \
    "  - name: chat\n"                                                                             \
    "    listen: 127.0.0.1:0\n"                                                                    \
    "    routes:\n"                                                                                \
    "      - match: { path: /ws }\n"                                                               \
    "        websocket: { pubsub: { allow: [\"chat.**\", presence, end] } }\n"                     \
    "      - match: { path: /all }\n"                                                              \
    "        websocket: { pubsub: {} }\n"                                                          \
    "      - match: { path: /announce }\n"                                                         \
    "        websocket: { pubsub: { publish: server } }\n"                                         \
    "      - match: { path: /events }\n"                                                           \
    "        websocket: { pubsub: { events: \"server.*\" } }\n"                                    \
    "      - match: { path: /presence-events }\n"                                                  \
    "        websocket: { pubsub: { events: \"ws.*\" } }\n"                                        \
    "      - match: { path: /slow-close }\n"                                                       \
    "        websocket: { max_message: 8KiB, max_backpressure: 64KiB, on_backpressure: close,\n"   \
    "                     pubsub: {} }\n"                                                          \
    "      - match: { path: /slow-drop }\n"                                                        \
    "        websocket: { max_message: 8KiB, max_backpressure: 64KiB, on_backpressure: drop,\n"    \
    "                     pubsub: {} }\n"                                                          \
    "  - name: spare\n"                                                                            \
    "    listen: 127.0.0.1:0\n"                                                                    \
    "    routes: [ { respond: { body: spare } } ]\n"

typedef struct fixture {
    hp_test_server srv;
    hp_test_admin admin;
} fixture;

static int start(void **state)
{
    static fixture f;
    /* Under AddressSanitizer (make asan) freed memory is held in a quarantine (256 MiB by
     * default), which would hide whether the daemon's memory stays flat: keep it small. The
     * release build ignores the variable. */
    static char asan[1024];
    const char *given = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "%s%squarantine_size_mb=1", given ? given : "",
             given && *given ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    assert_int_equal(hp_test_write_file(hp_test_temp_dir(), "pubsub.yaml", CONFIG, strlen(CONFIG)),
                     0);
    char config[4200];
    snprintf(config, sizeof config, "%s/pubsub.yaml", hp_test_temp_dir());
    assert_int_equal(hp_test_admin_start(&f.srv, config, &f.admin), 0);
    *state = &f;
    return 0;
}

static int stop(void **state)
{
    fixture *f = *state;
    assert_int_equal(hp_test_server_stop(&f->srv, SIGTERM, HP_TEST_DEADLINE_MS), 0);
    return 0;
}

static void run_scenario(void **state, const char *name)
{
    fixture *f = *state;
    char script[4200], port[16], pid[16];
    snprintf(script, sizeof script, "%s/pubsub/scenarios.py", hp_test_data_dir());
    snprintf(port, sizeof port, "%d", f->srv.port);
    snprintf(pid, sizeof pid, "%d", (int)f->srv.pid);
    const char *argv[] = {"/usr/bin/python3",   script,        name, port,
                          f->admin.socket_path, hp_test_bin(), pid,  NULL};
    hp_test_run_result r = hp_test_run(argv, NULL, 120000);
    if (r.status != 0 || strcmp(r.out, "ok\n") != 0)
        fail_msg("%s: status %d\n%s%s", name, r.status, r.out, r.err);
    hp_test_run_free(&r);
    assert_true(hp_test_server_running(&f->srv));
}

#define SCENARIO(name)                                                                             \
    static void name(void **state)                                                                 \
    {                                                                                              \
        run_scenario(state, #name);                                                                \
    }

SCENARIO(fanout_200_clients_100_messages_in_order)
SCENARIO(wildcards_match_one_segment_or_the_rest)
SCENARIO(overlapping_patterns_deliver_once)
SCENARIO(the_sender_gets_its_own_message_when_subscribed)
SCENARIO(unsubscribe_stops_delivery)
SCENARIO(names_are_unique_and_presence_is_published)
SCENARIO(errors_keep_the_connection_open)
SCENARIO(publish_server_refuses_clients)
SCENARIO(a_closed_connection_leaves_no_subscription)
SCENARIO(admin_and_cli_publish_reach_subscribers)
SCENARIO(delete_closes_with_1000)
SCENARIO(events_are_forwarded_as_messages)
SCENARIO(hostpool_events_prints_joins_and_leaves)
SCENARIO(a_slow_subscriber_is_closed_with_1008)
SCENARIO(a_slow_subscriber_is_skipped_and_counted_with_drop)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fanout_200_clients_100_messages_in_order),
        cmocka_unit_test(wildcards_match_one_segment_or_the_rest),
        cmocka_unit_test(overlapping_patterns_deliver_once),
        cmocka_unit_test(the_sender_gets_its_own_message_when_subscribed),
        cmocka_unit_test(unsubscribe_stops_delivery),
        cmocka_unit_test(names_are_unique_and_presence_is_published),
        cmocka_unit_test(errors_keep_the_connection_open),
        cmocka_unit_test(publish_server_refuses_clients),
        cmocka_unit_test(a_closed_connection_leaves_no_subscription),
        cmocka_unit_test(admin_and_cli_publish_reach_subscribers),
        cmocka_unit_test(delete_closes_with_1000),
        cmocka_unit_test(events_are_forwarded_as_messages),
        cmocka_unit_test(hostpool_events_prints_joins_and_leaves),
        cmocka_unit_test(a_slow_subscriber_is_closed_with_1008),
        cmocka_unit_test(a_slow_subscriber_is_skipped_and_counted_with_drop),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
