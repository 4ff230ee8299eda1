/* The request journal (src/core/journal.c), on one thread: overflow by drop_oldest and by
 * reject, the seqs and counts, the filters (since, limit, status, status class, path prefix),
 * the cursor, the cut of long texts, the split of the capacity between workers and the
 * memory a capacity needs. The race of writers and a reader is in test_journal_threads.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF 64

static hp_str str(const char *s)
{
    return (hp_str){s, strlen(s)};
}

static void append(hp__journal *j, unsigned worker, int status, const char *path)
{
    hp__journal_record r = {
        .time_ms = 1700000000000,
        .duration_us = 250,
        .bytes_in = 80,
        .bytes_out = 512,
        .status = status,
        .text =
            {
                [HP__JOURNAL_CLIENT] = str("127.0.0.1"),
                [HP__JOURNAL_METHOD] = str("GET"),
                [HP__JOURNAL_PATH] = str(path),
                [HP__JOURNAL_REQUEST_ID] = str("abc123"),
            },
    };
    hp__journal_append(j, worker, &r);
}

static void assert_text(const hp__journal_entry *e, hp__journal_field field, const char *text)
{
    size_t len;
    const char *got = hp__journal_entry_text(e, field, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
}

static hp__journal_entry buf[BUF];

static hp__journal_result read_all(hp__journal *j, hp__journal_filter filter)
{
    hp__journal_result result;
    hp__journal_read(j, &filter, buf, BUF, &result);
    return result;
}

/* The seqs of the entries a read returned, as "2 3 4". */
static const char *seqs(const hp__journal_result *result)
{
    static char text[512];
    size_t used = 0;
    text[0] = 0;
    for (size_t i = 0; i < result->count; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%llu", i ? " " : "",
                                 (unsigned long long)buf[i].seq);
    return text;
}

static void capacity_3_and_4_appends_keep_seqs_2_to_4_and_count_one_drop(void **state)
{
    hp__journal *j = hp__journal_create(3, HP__JOURNAL_DROP_OLDEST, 1);
    append(j, 0, 200, "/a");
    append(j, 0, 200, "/b");
    append(j, 0, 200, "/c");
    hp__journal_result r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "1 2 3");
    assert_int_equal(r.dropped, 0);
    append(j, 0, 201, "/d");
    r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "2 3 4");
    assert_int_equal(r.dropped, 1);
    assert_int_equal(r.rejected, 0);
    assert_int_equal(r.cursor, 4);
    assert_text(&buf[0], HP__JOURNAL_PATH, "/b");
    assert_text(&buf[1], HP__JOURNAL_PATH, "/c");
    assert_text(&buf[2], HP__JOURNAL_PATH, "/d");
    assert_int_equal(buf[2].status, 201);
    assert_int_equal(buf[2].time_ms, 1700000000000);
    assert_int_equal(buf[2].duration_us, 250);
    assert_int_equal(buf[2].bytes_in, 80);
    assert_int_equal(buf[2].bytes_out, 512);
    assert_text(&buf[2], HP__JOURNAL_CLIENT, "127.0.0.1");
    assert_text(&buf[2], HP__JOURNAL_METHOD, "GET");
    assert_text(&buf[2], HP__JOURNAL_QUERY, "");
    assert_text(&buf[2], HP__JOURNAL_REQUEST_ID, "abc123");
    assert_text(&buf[2], HP__JOURNAL_UPSTREAM, "");
    assert_text(&buf[2], HP__JOURNAL_ERROR, "");
    hp__journal_destroy(j);
}

static void take_dropped_counts_the_drops_since_its_last_call(void **state)
{
    hp__journal *j = hp__journal_create(2, HP__JOURNAL_DROP_OLDEST, 1);
    assert_int_equal(hp__journal_take_dropped(j), 0);
    for (int i = 0; i < 5; i++) append(j, 0, 200, "/");
    assert_int_equal(hp__journal_take_dropped(j), 3);
    assert_int_equal(hp__journal_take_dropped(j), 0);
    append(j, 0, 200, "/");
    assert_int_equal(hp__journal_take_dropped(j), 1);
    hp__journal_destroy(j);
}

static void reject_refuses_the_4th_of_capacity_3_and_counts_it(void **state)
{
    hp__journal *j = hp__journal_create(3, HP__JOURNAL_REJECT, 1);
    for (int i = 0; i < 4; i++) append(j, 0, 200, i < 3 ? "/kept" : "/refused");
    hp__journal_result r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "1 2 3");
    for (size_t i = 0; i < r.count; i++) assert_text(&buf[i], HP__JOURNAL_PATH, "/kept");
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.dropped, 0);
    append(j, 0, 200, "/refused");
    r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "1 2 3");
    assert_int_equal(r.rejected, 2);
    assert_int_equal(hp__journal_take_dropped(j), 0);
    hp__journal_destroy(j);
}

static void since_returns_only_the_entries_after_it_and_the_cursor_resumes(void **state)
{
    hp__journal *j = hp__journal_create(10, HP__JOURNAL_DROP_OLDEST, 1);
    for (int i = 0; i < 5; i++) append(j, 0, 200, "/");
    hp__journal_result r = read_all(j, (hp__journal_filter){.since = 3});
    assert_string_equal(seqs(&r), "4 5");
    assert_int_equal(r.cursor, 5);
    r = read_all(j, (hp__journal_filter){.since = r.cursor});
    assert_string_equal(seqs(&r), "");
    assert_int_equal(r.cursor, 5);
    append(j, 0, 200, "/");
    r = read_all(j, (hp__journal_filter){.since = r.cursor});
    assert_string_equal(seqs(&r), "6");
    /* A since beyond the newest stays the cursor. */
    r = read_all(j, (hp__journal_filter){.since = 100});
    assert_string_equal(seqs(&r), "");
    assert_int_equal(r.cursor, 100);
    hp__journal_destroy(j);
}

static void limit_keeps_the_oldest_n_and_the_cursor_is_the_last_returned(void **state)
{
    hp__journal *j = hp__journal_create(10, HP__JOURNAL_DROP_OLDEST, 1);
    for (int i = 0; i < 7; i++) append(j, 0, 200, "/");
    hp__journal_result r = read_all(j, (hp__journal_filter){.since = 1, .limit = 3});
    assert_string_equal(seqs(&r), "2 3 4");
    assert_int_equal(r.cursor, 4);
    r = read_all(j, (hp__journal_filter){.since = r.cursor, .limit = 3});
    assert_string_equal(seqs(&r), "5 6 7");
    r = read_all(j, (hp__journal_filter){.since = r.cursor, .limit = 3});
    assert_string_equal(seqs(&r), "");
    assert_int_equal(r.cursor, 7);
    /* A buffer smaller than the matches is a limit too. */
    hp__journal_filter all = {0};
    hp__journal_read(j, &all, buf, 2, &r);
    assert_string_equal(seqs(&r), "1 2");
    assert_int_equal(r.cursor, 2);
    hp__journal_destroy(j);
}

static void status_filters_take_an_exact_status_or_a_class(void **state)
{
    hp__journal *j = hp__journal_create(10, HP__JOURNAL_DROP_OLDEST, 1);
    int statuses[] = {200, 502, 404, 500, 503, 201};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        append(j, 0, statuses[i], "/");
    hp__journal_result r = read_all(j, (hp__journal_filter){.status_class = 5});
    assert_string_equal(seqs(&r), "2 4 5");
    r = read_all(j, (hp__journal_filter){.status_class = 2});
    assert_string_equal(seqs(&r), "1 6");
    r = read_all(j, (hp__journal_filter){.status = 404});
    assert_string_equal(seqs(&r), "3");
    assert_int_equal(r.cursor, 6); /* what was filtered out need not be read again */
    r = read_all(j, (hp__journal_filter){.status_class = 5, .limit = 2});
    assert_string_equal(seqs(&r), "2 4");
    assert_int_equal(r.cursor, 4);
    hp__journal_destroy(j);
}

static void path_prefix_keeps_the_paths_that_start_with_it(void **state)
{
    hp__journal *j = hp__journal_create(10, HP__JOURNAL_DROP_OLDEST, 1);
    const char *paths[] = {"/api/users", "/static/a.css", "/api", "/api/", "/apiary", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) append(j, 0, 200, paths[i]);
    hp__journal_result r = read_all(j, (hp__journal_filter){.path_prefix = str("/api/")});
    assert_string_equal(seqs(&r), "1 4");
    r = read_all(j, (hp__journal_filter){.path_prefix = str("/api")});
    assert_string_equal(seqs(&r), "1 3 4 5");
    r = read_all(j, (hp__journal_filter){.path_prefix = str("/api/"), .status_class = 4});
    assert_string_equal(seqs(&r), "");
    hp__journal_destroy(j);
}

/* A text of `len` bytes: 'a'..'z' repeated, so a cut at the wrong place shows. */
static char *long_text(size_t len)
{
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = (char)('a' + i % 26);
    return text;
}

static void each_text_is_cut_at_its_bound(void **state)
{
    static const size_t bounds[HP__JOURNAL_FIELDS] = {
        [HP__JOURNAL_CLIENT] = 64, [HP__JOURNAL_METHOD] = 16,     [HP__JOURNAL_PATH] = 512,
        [HP__JOURNAL_QUERY] = 512, [HP__JOURNAL_REQUEST_ID] = 64, [HP__JOURNAL_UPSTREAM] = 64,
        [HP__JOURNAL_ERROR] = 64,
    };
    char *text = long_text(2000);
    hp__journal *j = hp__journal_create(2, HP__JOURNAL_DROP_OLDEST, 1);
    hp__journal_record over = {.status = 200}, exact = {.status = 200};
    for (int f = 0; f < HP__JOURNAL_FIELDS; f++) {
        over.text[f] = (hp_str){text, bounds[f] + 1 + (size_t)f * 100};
        exact.text[f] = (hp_str){text, bounds[f]};
    }
    hp__journal_append(j, 0, &over);
    hp__journal_append(j, 0, &exact);
    hp__journal_result r = read_all(j, (hp__journal_filter){0});
    assert_int_equal(r.count, 2);
    for (size_t i = 0; i < 2; i++) {
        for (int f = 0; f < HP__JOURNAL_FIELDS; f++) {
            size_t len;
            const char *got = hp__journal_entry_text(&buf[i], (hp__journal_field)f, &len);
            assert_int_equal(len, bounds[f]);
            assert_memory_equal(got, text, len);
        }
    }
    hp__journal_destroy(j);
    free(text);
}

static void an_entry_takes_1352_bytes_and_bytes_counts_every_one(void **state)
{
    assert_int_equal(sizeof(hp__journal_entry), 1352);
    assert_int_equal(HP__JOURNAL_ENTRY_BYTES, 1352);
    /* The entries, plus a fixed header and 152 bytes per worker. */
    size_t one = hp__journal_bytes(10000, 1);
    assert_true(one >= 10000 * 1352 && one < 10000 * 1352 + 512);
    assert_int_equal(hp__journal_bytes(10000, 4) - one, 3 * 152);
    assert_int_equal(hp__journal_bytes(20000, 1) - one, 10000 * 1352);
    /* Below the workers, each keeps one. */
    assert_int_equal(hp__journal_bytes(2, 8), hp__journal_bytes(8, 8));
}

/* Capacity 3 over 2 workers: worker 0 keeps its last 2, worker 1 its last 1; a read merges
 * them oldest first. */
static void the_capacity_is_split_between_workers_and_reads_merge_them_by_seq(void **state)
{
    hp__journal *j = hp__journal_create(3, HP__JOURNAL_DROP_OLDEST, 2);
    append(j, 1, 200, "/w1-a"); /* 1: dropped by 4 */
    append(j, 0, 200, "/w0-a"); /* 2: dropped by 5 */
    append(j, 0, 200, "/w0-b"); /* 3 */
    append(j, 1, 200, "/w1-b"); /* 4 */
    append(j, 0, 200, "/w0-c"); /* 5 */
    hp__journal_result r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "3 4 5");
    assert_int_equal(r.dropped, 2);
    assert_text(&buf[0], HP__JOURNAL_PATH, "/w0-b");
    assert_text(&buf[1], HP__JOURNAL_PATH, "/w1-b");
    assert_text(&buf[2], HP__JOURNAL_PATH, "/w0-c");
    r = read_all(j, (hp__journal_filter){.since = 3, .limit = 1});
    assert_string_equal(seqs(&r), "4");
    hp__journal_destroy(j);
}

static void below_one_entry_per_worker_each_worker_keeps_one(void **state)
{
    hp__journal *j = hp__journal_create(1, HP__JOURNAL_REJECT, 3);
    for (unsigned w = 0; w < 3; w++) append(j, w, 200, "/");
    append(j, 1, 200, "/");
    hp__journal_result r = read_all(j, (hp__journal_filter){0});
    assert_string_equal(seqs(&r), "1 2 3");
    assert_int_equal(r.rejected, 1);
    hp__journal_destroy(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capacity_3_and_4_appends_keep_seqs_2_to_4_and_count_one_drop),
        cmocka_unit_test(take_dropped_counts_the_drops_since_its_last_call),
        cmocka_unit_test(reject_refuses_the_4th_of_capacity_3_and_counts_it),
        cmocka_unit_test(since_returns_only_the_entries_after_it_and_the_cursor_resumes),
        cmocka_unit_test(limit_keeps_the_oldest_n_and_the_cursor_is_the_last_returned),
        cmocka_unit_test(status_filters_take_an_exact_status_or_a_class),
        cmocka_unit_test(path_prefix_keeps_the_paths_that_start_with_it),
        cmocka_unit_test(each_text_is_cut_at_its_bound),
        cmocka_unit_test(an_entry_takes_1352_bytes_and_bytes_counts_every_one),
        cmocka_unit_test(the_capacity_is_split_between_workers_and_reads_merge_them_by_seq),
        cmocka_unit_test(below_one_entry_per_worker_each_worker_keeps_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
