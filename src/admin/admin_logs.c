/* GET /servers/{name}/logs: the last lines a process server's program wrote (docs/ADMIN.md).
 *
 *   ?since=SEQ   only lines after SEQ (a line's `seq`; 0, the default: every kept line)
 *   ?limit=N     at most the last N of them (1..1000)
 *   ?follow=1    Server-Sent Events instead: the kept lines after SEQ, then each new line as
 *                it comes, until the server is removed or replaced (the stream ends) or the
 *                client leaves. Each is "id: SEQ\nevent: line\ndata: LINE\n\n"; lines dropped
 *                from the ring before they were sent come as one "event: missed" with
 *                {"missed": N}.
 * A line is {"seq", "time_ms", "stream": "stdout"|"stderr", "text", "truncated"}; its text is
 * made valid UTF-8 (each bad byte becomes U+FFFD). The ring (core/line_ring.h) is the
 * supervisor's, read on the control thread, where it is fed; a follower reads it from the
 * sequence number it has reached each time the supervisor says lines came. */
#include "admin/admin_stream.h"

#include "common/alloc.h"
#include "common/str.h"
#include "pool/pool_internal.h"
#include "pool/supervisor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_MAX 1000

static json_t *line_json(const hp__line_ring_line *line)
{
    char *text = hp__malloc(3 * (size_t)line->len + 1);
    size_t len = hp__utf8_repair(line->text, line->len, text);
    json_t *j = json_pack("{s:I, s:I, s:s, s:s%, s:b}", "seq", (json_int_t)line->seq, "time_ms",
                          (json_int_t)line->time, "stream",
                          line->stream == HP__LINE_RING_STDERR ? "stderr" : "stdout", "text", text,
                          len, "truncated", line->truncated);
    free(text);
    return j;
}

static void answer_lines(hp__control_job *job, const char *name, const hp__line_ring *ring,
                         uint64_t since, uint64_t limit)
{
    uint64_t first = hp__line_ring_first_seq_after(ring, since);
    uint64_t next = hp__line_ring_next_seq(ring);
    if (next - first > limit) first = next - limit;
    json_t *lines = json_array();
    hp__line_ring_line line;
    for (uint64_t seq = first; seq < next && hp__line_ring_read(ring, seq, &line); seq++)
        json_array_append_new(lines, line_json(&line));
    hp__control_job_answer_json(job, 200,
                                json_pack("{s:s, s:o, s:I, s:I, s:I}", "server", name, "lines",
                                          lines, "last_seq", (json_int_t)(next - 1), "missed",
                                          (json_int_t)hp__line_ring_missed_after(ring, since),
                                          "dropped", (json_int_t)hp__line_ring_dropped(ring)));
}

/* ---- ?follow=1 ---- */

typedef struct logs_feed {
    hp__supervisor *supervisor; /* NULL once it is gone */
    uint64_t watch_id;
    hp__admin_stream *stream;
    uint64_t seen; /* the last sequence number posted */
} logs_feed;

static void post_text(logs_feed *f, const char *event, uint64_t id, json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    size_t cap = strlen(json) + 96;
    char *text = hp__malloc(cap);
    int len = id ? snprintf(text, cap, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)id,
                            event, json)
                 : snprintf(text, cap, "event: %s\ndata: %s\n\n", event, json);
    hp__admin_stream_post(f->stream, text, (size_t)len);
    free(text);
    free(json);
}

/* Posts every line after `seen`, and first how many of them the ring dropped meanwhile. */
static void post_new_lines(logs_feed *f)
{
    const hp__line_ring *ring = hp__supervisor_output(f->supervisor);
    uint64_t missed = hp__line_ring_missed_after(ring, f->seen);
    if (missed) post_text(f, "missed", 0, json_pack("{s:I}", "missed", (json_int_t)missed));
    hp__line_ring_line line;
    for (uint64_t seq = hp__line_ring_first_seq_after(ring, f->seen);
         hp__line_ring_read(ring, seq, &line); seq++) {
        post_text(f, "line", seq, line_json(&line));
        f->seen = seq;
    }
}

static void on_output(void *data, bool ended)
{
    logs_feed *f = data;
    if (ended) {
        f->supervisor = NULL; /* its last call: nothing to unwatch */
        hp__admin_stream_finish(f->stream);
        return;
    }
    post_new_lines(f);
}

static void detach(void *feed)
{
    logs_feed *f = feed;
    if (f->supervisor) hp__supervisor_unwatch(f->supervisor, f->watch_id);
    free(f);
}

/* The process's lines end with its server; the pool stopping ends them all. */
static void stopping(void *feed)
{
    logs_feed *f = feed;
    if (!f->supervisor) return;
    hp__supervisor_unwatch(f->supervisor, f->watch_id);
    f->supervisor = NULL;
    hp__admin_stream_finish(f->stream);
}

static const hp__admin_stream_feed logs_feed_vt = {.detach = detach, .stopping = stopping};

static void follow(hp__admin *a, hp__control_job *job, const char *name, hp__supervisor *sup,
                   uint64_t since)
{
    logs_feed *f = HP_NEW(logs_feed);
    f->supervisor = sup;
    f->seen = since;
    char label[128];
    snprintf(label, sizeof label, "logs stream of %.64s", name);
    f->stream = hp__admin_stream_create(a, job, label, &logs_feed_vt, f);
    post_new_lines(f); /* the kept lines: before the begin, so sent first */
    f->watch_id = hp__supervisor_watch(sup, on_output, f);
    hp__admin_stream_begin(f->stream, job);
}

void hp__admin_logs(hp__admin *a, hp__control_job *job, const char *name)
{
    if (!hp_pool_has(a->pool, name)) {
        hp__admin_answer_error(job, 404, "not_found", NULL, "no server named \"%s\"", name);
        return;
    }
    hp__supervisor *sup = hp__pool_supervisor(a->pool, name);
    if (!sup) {
        hp__admin_answer_error(job, 404, "no_process", NULL,
                               "server \"%s\" runs no process: it has no logs", name);
        return;
    }
    uint64_t since, limit, follow_flag;
    if (!hp__admin_query_number(job, "since", UINT64_MAX, 0, &since) ||
        !hp__admin_query_number(job, "limit", LIMIT_MAX, LIMIT_MAX, &limit) ||
        !hp__admin_query_number(job, "follow", 1, 0, &follow_flag))
        return;
    if (follow_flag)
        follow(a, job, name, sup, since);
    else
        answer_lines(job, name, hp__supervisor_output(sup), since, limit);
}
