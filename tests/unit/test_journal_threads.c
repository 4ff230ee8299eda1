/* The request journal (src/core/journal.c) with writer threads racing a reader: every entry
 * a read returns is whole (its fields, all derived from the writer and its count, agree), the
 * seqs of a read increase, and a follower that resumes at its cursor sees every entry once.
 *
 * Writers are pthreads, each appending a bounded number of entries as one worker; the reader
 * is the test's own thread (cmocka's asserts belong there), reading until the writers are done
 * and once more after. Every text's length varies with the count, so an entry mixed from two
 * writes shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/journal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF 64

typedef struct writer {
    pthread_t thread;
    hp__journal *journal;
    unsigned worker;
    uint32_t appends;
    atomic_bool *done;
} writer;

typedef struct texts {
    char path[128], query[32], client[32], request_id[32], error[32];
} texts;

/* The texts of writer `worker`'s entry number `n`. */
static void texts_of(texts *t, unsigned worker, uint64_t n)
{
    int pad = (int)(n % 50);
    snprintf(t->path, sizeof t->path, "/%u/%llu/%.*s", worker, (unsigned long long)n, pad,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    snprintf(t->query, sizeof t->query, "n=%llu", (unsigned long long)n);
    snprintf(t->client, sizeof t->client, "10.0.%u.%llu", worker, (unsigned long long)(n % 256));
    snprintf(t->request_id, sizeof t->request_id, "%u-%llx", worker, (unsigned long long)n);
    snprintf(t->error, sizeof t->error, "%.*s", (int)(n % 20), "eeeeeeeeeeeeeeeeeeee");
}

static hp_str str(const char *s)
{
    return (hp_str){s, strlen(s)};
}

static void *write_entries(void *arg)
{
    writer *w = arg;
    for (uint64_t n = 1; n <= w->appends; n++) {
        texts t;
        texts_of(&t, w->worker, n);
        hp__journal_record r = {
            .time_ms = n * 3,
            .duration_us = n * 7 + w->worker,
            .bytes_in = n,
            .bytes_out = w->worker,
            .status = 200 + (int)(n % 300),
            .text =
                {
                    [HP__JOURNAL_CLIENT] = str(t.client),
                    [HP__JOURNAL_METHOD] = str(n % 2 ? "GET" : "DELETE"),
                    [HP__JOURNAL_PATH] = str(t.path),
                    [HP__JOURNAL_QUERY] = str(t.query),
                    [HP__JOURNAL_REQUEST_ID] = str(t.request_id),
                    [HP__JOURNAL_ERROR] = str(t.error),
                },
        };
        hp__journal_append(w->journal, w->worker, &r);
    }
    atomic_store(w->done, true);
    return NULL;
}

static void assert_text(const hp__journal_entry *e, hp__journal_field field, const char *text)
{
    size_t len;
    const char *got = hp__journal_entry_text(e, field, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
}

/* The entry is one write, whole: every field agrees with the writer and count it names. */
static void assert_whole(const hp__journal_entry *e, uint64_t *last_n, unsigned writers)
{
    unsigned worker = (unsigned)e->bytes_out;
    uint64_t n = e->bytes_in;
    assert_true(worker < writers);
    assert_true(n > last_n[worker]); /* a worker's entries come in its order */
    last_n[worker] = n;
    assert_int_equal(e->time_ms, n * 3);
    assert_int_equal(e->duration_us, n * 7 + worker);
    assert_int_equal(e->status, 200 + n % 300);
    texts t;
    texts_of(&t, worker, n);
    assert_text(e, HP__JOURNAL_CLIENT, t.client);
    assert_text(e, HP__JOURNAL_METHOD, n % 2 ? "GET" : "DELETE");
    assert_text(e, HP__JOURNAL_PATH, t.path);
    assert_text(e, HP__JOURNAL_QUERY, t.query);
    assert_text(e, HP__JOURNAL_REQUEST_ID, t.request_id);
    assert_text(e, HP__JOURNAL_UPSTREAM, "");
    assert_text(e, HP__JOURNAL_ERROR, t.error);
}

static bool all_done(atomic_bool *done, unsigned writers)
{
    for (unsigned w = 0; w < writers; w++)
        if (!atomic_load(&done[w])) return false;
    return true;
}

static void start_writers(writer *ws, atomic_bool *done, hp__journal *j, unsigned writers,
                          uint32_t appends)
{
    for (unsigned w = 0; w < writers; w++) {
        atomic_init(&done[w], false);
        ws[w] = (writer){.journal = j, .worker = w, .appends = appends, .done = &done[w]};
        assert_int_equal(pthread_create(&ws[w].thread, NULL, write_entries, &ws[w]), 0);
    }
}

static void join_writers(writer *ws, unsigned writers)
{
    for (unsigned w = 0; w < writers; w++) assert_int_equal(pthread_join(ws[w].thread, NULL), 0);
}

/* 4 writers over 8 slots (2 each) overwrite all the time while the reader reads them all. */
static void entries_read_during_writes_are_whole_and_their_seqs_increase(void **state)
{
    enum { WRITERS = 4, APPENDS = 20000 };
    hp__journal *j = hp__journal_create(8, HP__JOURNAL_DROP_OLDEST, WRITERS);
    writer ws[WRITERS];
    atomic_bool done[WRITERS];
    start_writers(ws, done, j, WRITERS, APPENDS);
    static hp__journal_entry buf[BUF];
    uint64_t entries_seen = 0;
    bool last = false;
    while (!last) {
        last = all_done(done, WRITERS); /* one more read after the writers end */
        hp__journal_result r;
        hp__journal_read(j, &(hp__journal_filter){0}, buf, BUF, &r);
        uint64_t last_n[WRITERS] = {0};
        for (size_t i = 0; i < r.count; i++) {
            if (i) assert_true(buf[i].seq > buf[i - 1].seq);
            assert_whole(&buf[i], last_n, WRITERS);
        }
        assert_true(r.count <= 8);
        entries_seen += r.count;
    }
    join_writers(ws, WRITERS);
    assert_true(entries_seen >= 8); /* at least the final read's */
    hp__journal_result r;
    hp__journal_read(j, &(hp__journal_filter){0}, buf, BUF, &r);
    assert_int_equal(r.count, 8);
    assert_int_equal(r.dropped, WRITERS * APPENDS - 8);
    assert_int_equal(buf[r.count - 1].seq, WRITERS * APPENDS);
    hp__journal_destroy(j);
}

/* With room for every entry, a follower reading after its cursor (64 at most per read)
 * while 3 writers append sees seqs 1..N, each once, in order. */
static void a_follower_resuming_at_its_cursor_sees_every_entry_once_in_order(void **state)
{
    enum { WRITERS = 3, APPENDS = 3000 };
    hp__journal *j = hp__journal_create(WRITERS * APPENDS, HP__JOURNAL_DROP_OLDEST, WRITERS);
    writer ws[WRITERS];
    atomic_bool done[WRITERS];
    start_writers(ws, done, j, WRITERS, APPENDS);
    static hp__journal_entry buf[BUF];
    uint64_t expected = 1, cursor = 0;
    uint64_t last_n[WRITERS] = {0};
    bool last = false;
    while (!last) {
        last = all_done(done, WRITERS);
        hp__journal_result r;
        do {
            hp__journal_read(j, &(hp__journal_filter){.since = cursor}, buf, BUF, &r);
            for (size_t i = 0; i < r.count; i++) {
                assert_int_equal(buf[i].seq, expected++);
                assert_whole(&buf[i], last_n, WRITERS);
            }
            assert_true(r.cursor >= cursor);
            cursor = r.cursor;
        } while (r.count == BUF);
    }
    join_writers(ws, WRITERS);
    assert_int_equal(expected - 1, WRITERS * APPENDS);
    assert_int_equal(cursor, WRITERS * APPENDS);
    hp__journal_destroy(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_read_during_writes_are_whole_and_their_seqs_increase),
        cmocka_unit_test(a_follower_resuming_at_its_cursor_sees_every_entry_once_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
