/* GET /servers/{name}/journal: a server's record of its last requests (docs/ADMIN.md).
 *
 *   ?since=SEQ   only entries after SEQ (0, the default: every kept entry)
 *   ?limit=N     at most the oldest N of them (1..1000, default 1000)
 *   ?status=S    only status S (404) or its class (5xx)
 *   ?path=P      only paths that start with P
 *   ?follow=1    Server-Sent Events instead: the kept entries after SEQ, then each new one,
 *                "id: SEQ\nevent: entry\ndata: ENTRY\n\n", until the server is removed or
 *                given a new journal by a replace (the stream ends) or the client leaves.
 * The answer: {"server", "entries": [...] oldest first, "cursor" (the `since` of the next
 * read: it misses nothing kept), "dropped", "rejected"}; an entry's texts are made valid UTF-8.
 *
 * The journal is read on the control thread (core/journal.h: a consistent snapshot, no lock).
 * A follower has no wake-up from the workers (they only append): it polls from the cursor
 * every FOLLOW_PERIOD_MS on the pool's scheduler, and holds a reference to the journal it
 * reads, so a removed server's journal outlives it until the feed has seen that and ended. */
#include "admin/admin_stream.h"

#include "common/alloc.h"
#include "common/str.h"
#include "core/sched.h"
#include "http/server_journal.h"
#include "pool/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_MAX 1000
#define FOLLOW_PERIOD_MS 200
#define FOLLOW_BATCH 64

static json_t *text_json(const hp__journal_entry *e, hp__journal_field field, bool null_if_empty)
{
    size_t len;
    const char *text = hp__journal_entry_text(e, field, &len);
    if (!len && null_if_empty) return json_null();
    char repaired[3 * HP__JOURNAL_PATH_MAX + 1];
    return json_stringn(repaired, hp__utf8_repair(text, len, repaired));
}

static json_t *entry_json(const hp__journal_entry *e)
{
    json_t *j = json_pack("{s:I, s:I, s:i, s:I, s:I, s:I}", "seq", (json_int_t)e->seq, "time",
                          (json_int_t)e->time_ms, "status", e->status, "duration_us",
                          (json_int_t)e->duration_us, "bytes_in", (json_int_t)e->bytes_in,
                          "bytes_out", (json_int_t)e->bytes_out);
    json_object_set_new(j, "client", text_json(e, HP__JOURNAL_CLIENT, false));
    json_object_set_new(j, "method", text_json(e, HP__JOURNAL_METHOD, false));
    json_object_set_new(j, "path", text_json(e, HP__JOURNAL_PATH, false));
    json_object_set_new(j, "query", text_json(e, HP__JOURNAL_QUERY, false));
    json_object_set_new(j, "request_id", text_json(e, HP__JOURNAL_REQUEST_ID, false));
    json_object_set_new(j, "upstream", text_json(e, HP__JOURNAL_UPSTREAM, true));
    json_object_set_new(j, "error", text_json(e, HP__JOURNAL_ERROR, true));
    return j;
}

/* ?status=: "404" (one status) or "4xx" (a class); false once answered 400. */
static bool read_status(hp__control_job *job, hp__journal_filter *filter)
{
    char *v = hp__admin_query_get(job->query, "status");
    bool ok = !v || (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5');
    if (ok && v && strcmp(v + 1, "xx") == 0)
        filter->status_class = v[0] - '0';
    else if (ok && v)
        ok = v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' && (filter->status = atoi(v));
    if (!ok)
        hp__admin_answer_error(job, 400, "bad_query", NULL,
                               "status: \"%s\" is not a status (404) or a class (5xx)", v);
    free(v);
    return ok;
}

/* ---- ?follow=1 ---- */

typedef struct journal_feed {
    hp__admin *admin;
    char *name;
    hp__server_journal *sj; /* a reference; NULL until the server has started */
    hp__journal_filter filter;
    char *path; /* filter.path_prefix's bytes */
    uint64_t task;
    hp__admin_stream *stream;
} journal_feed;

static void post_entry(journal_feed *f, const hp__journal_entry *e)
{
    json_t *j = entry_json(e);
    char *json = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    size_t cap = strlen(json) + 64;
    char *text = hp__malloc(cap);
    int len = snprintf(text, cap, "id: %llu\nevent: entry\ndata: %s\n\n",
                       (unsigned long long)e->seq, json);
    hp__admin_stream_post(f->stream, text, (size_t)len);
    free(text);
    free(json);
}

/* Posts what came after the cursor. */
static void post_new_entries(journal_feed *f)
{
    hp__journal_entry *buf = hp__malloc(FOLLOW_BATCH * sizeof *buf);
    hp__journal_result r;
    do {
        hp__journal_read(f->sj->journal, &f->filter, buf, FOLLOW_BATCH, &r);
        for (size_t i = 0; i < r.count; i++) post_entry(f, &buf[i]);
        f->filter.since = r.cursor;
    } while (r.count == FOLLOW_BATCH);
    free(buf);
}

static void stop_polling(journal_feed *f)
{
    if (f->task) hp__sched_cancel(hp__pool_sched(f->admin->pool), f->task);
    f->task = 0;
}

static void poll_journal(hp__sched *s, uint64_t now, void *data);

static void schedule_poll(journal_feed *f)
{
    hp__sched *s = hp__pool_sched(f->admin->pool);
    f->task = hp__sched_add(s, hp__sched_now(s) + FOLLOW_PERIOD_MS, poll_journal, f);
}

/* Takes the server's journal once it has one; false when the server is gone or reads
 * another journal now (a replace with another capacity): the stream is over. */
static bool journal_current(journal_feed *f)
{
    hp__server_journal *now = hp__pool_journal(f->admin->pool, f->name);
    if (!hp_pool_has(f->admin->pool, f->name) || (f->sj && now != f->sj)) return false;
    if (!f->sj && now) {
        f->sj = now;
        now->refs++;
    }
    return true;
}

static void poll_journal(hp__sched *s, uint64_t now, void *data)
{
    (void)s, (void)now;
    journal_feed *f = data;
    f->task = 0;
    if (!journal_current(f)) {
        hp__admin_stream_finish(f->stream);
        return;
    }
    if (f->sj) post_new_entries(f);
    schedule_poll(f);
}

static void detach(void *feed)
{
    journal_feed *f = feed;
    stop_polling(f);
    hp__server_journal_release(f->sj);
    free(f->path);
    free(f->name);
    free(f);
}

static void stopping(void *feed)
{
    journal_feed *f = feed;
    stop_polling(f);
    hp__admin_stream_finish(f->stream);
}

static const hp__admin_stream_feed journal_feed_vt = {.detach = detach, .stopping = stopping};

static void follow(hp__admin *a, hp__control_job *job, const char *name,
                   const hp__journal_filter *filter, char *path)
{
    journal_feed *f = HP_NEW(journal_feed);
    f->admin = a;
    f->name = hp__strdup(name);
    f->filter = *filter;
    f->filter.limit = 0;
    f->path = path;
    char label[128];
    snprintf(label, sizeof label, "journal stream of %.64s", name);
    f->stream = hp__admin_stream_create(a, job, label, &journal_feed_vt, f);
    journal_current(f);
    if (f->sj) post_new_entries(f); /* the kept entries: before the begin, so sent first */
    schedule_poll(f);
    hp__admin_stream_begin(f->stream, job);
}

/* ---- the plain read ---- */

static void answer_entries(hp__control_job *job, const char *name, hp__server_journal *sj,
                           const hp__journal_filter *filter)
{
    hp__journal_result r = {.cursor = filter->since};
    json_t *entries = json_array();
    if (sj) {
        hp__journal_entry *buf = hp__malloc(filter->limit * sizeof *buf);
        hp__journal_read(sj->journal, filter, buf, filter->limit, &r);
        for (size_t i = 0; i < r.count; i++) json_array_append_new(entries, entry_json(&buf[i]));
        free(buf);
    }
    hp__control_job_answer_json(job, 200,
                                json_pack("{s:s, s:o, s:I, s:I, s:I}", "server", name, "entries",
                                          entries, "cursor", (json_int_t)r.cursor, "dropped",
                                          (json_int_t)r.dropped, "rejected",
                                          (json_int_t)r.rejected));
}

void hp__admin_journal(hp__admin *a, hp__control_job *job, const char *name)
{
    if (!hp_pool_has(a->pool, name)) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
        return;
    }
    if (!hp__pool_has_journal(a->pool, name)) {
        hp__admin_answer_error(job, 404, "no_journal", NULL,
                               "server \"%s\" keeps no journal (see `journal:` in its config)",
                               name);
        return;
    }
    hp__journal_filter filter = {0};
    uint64_t limit, follow_flag;
    if (!hp__admin_query_number(job, "since", UINT64_MAX, 0, &filter.since) ||
        !hp__admin_query_number(job, "limit", LIMIT_MAX, LIMIT_MAX, &limit) ||
        !hp__admin_query_number(job, "follow", 1, 0, &follow_flag) || !read_status(job, &filter))
        return;
    if (limit == 0) {
        hp__admin_answer_error(job, 400, "bad_query", NULL, "limit: must be 1 to %d", LIMIT_MAX);
        return;
    }
    filter.limit = limit;
    char *path = hp__admin_query_get(job->query, "path");
    if (path) filter.path_prefix = hp__str(path, strlen(path));
    if (follow_flag) {
        follow(a, job, name, &filter, path); /* the feed keeps `path` */
        return;
    }
    answer_entries(job, name, hp__pool_journal(a->pool, name), &filter);
    free(path);
}
