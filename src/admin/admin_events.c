/* GET /events?topic=PATTERN: the event bus as Server-Sent Events, one stream per client.
 *
 * A stream lives on two threads. The control thread owns its subscription: each matching
 * event is formatted there ("id: SEQ\nevent: TOPIC\ndata: {json}\n\n") and carried to the
 * request's worker (hp__engine_call_worker). The worker owns the response: text waits in
 * `pending` until the engine asks for more (proceed), so a slow client only grows its own
 * buffer. The stream opens with a comment line naming the pattern, sent once the subscription
 * exists: a client that has read it misses no later event.
 *
 * Ending, whichever side starts it:
 *   - the client goes away, or the stream ended: the request's done callback (worker) asks
 *     the control thread to close the stream (a call, io/call.h);
 *   - the bus ends or the pool starts stopping (after pool.stopping, which a stream whose
 *     pattern matches it still sends): the control thread unsubscribes and asks the worker
 *     to finish the body, whose done callback then asks for the close as above;
 *   - closing (control): unsubscribe if still subscribed, unlink, then post the release to the
 *     worker. Posts to a worker run in order, so every event posted before has been dealt
 *     with when the release frees the stream.
 * A stream's backlog is bounded: text waiting for a client (pending and the piece being sent)
 * may not grow past STREAM_BUDGET. A client that falls that far behind is not reading; its
 * connection is aborted (logged), which ends the stream as a client that left does.
 * Invariants: `req`, `pending`, `sending`, `waiting`, `finish` and `done` are touched on the
 * worker only; `subscribed`, `sub_id` and the list links on the control thread only. */
#include "admin/admin_internal.h"

#include "common/alloc.h"
#include "common/log.h"
#include "core/topic.h"
#include "io/engine_call.h"
#include "pool/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOPPING "pool.stopping" /* the last event a stream sends */
/* Bytes of events one stream may hold for its client: about a thousand events. */
#define STREAM_BUDGET (256u * 1024u)

struct hp__admin_stream {
    hp__admin *admin;
    unsigned worker;
    hp__call close_call; /* the one call from the worker: close the stream */
    /* control thread */
    uint64_t sub_id;
    bool subscribed;
    hp__admin_stream *prev, *next;
    char *pattern;
    /* worker thread */
    hp_request *req;
    char *pending, *sending; /* waiting to be sent; borrowed by the engine until proceed */
    size_t pending_len, sending_len;
    bool waiting; /* the engine asked for more and got nothing yet */
    bool finish;  /* end the body once `pending` is sent */
    bool done;    /* the exchange ended */
};

/* ---- the worker's side ---- */

static void send_pending(hp__admin_stream *s)
{
    free(s->sending);
    s->sending = s->pending;
    s->sending_len = s->pending_len;
    s->pending = NULL;
    s->pending_len = 0;
    s->waiting = false;
    hp_stream_send(s->req, s->sending, s->sending_len, false);
}

static void send_last(hp__admin_stream *s)
{
    s->waiting = false;
    s->finish = false;
    hp_stream_send(s->req, NULL, 0, true);
}

static void on_proceed(hp_request *req, void *data)
{
    hp__admin_stream *s = data;
    free(s->sending);
    s->sending = NULL;
    if (s->pending_len)
        send_pending(s);
    else if (s->finish)
        send_last(s);
    else
        s->waiting = true;
}

static void on_stop(hp_request *req, void *data)
{
    hp__admin_stream *s = data;
    free(s->sending);
    s->sending = NULL;
}

static void close_on_control(hp__admin_stream *s);

static void on_close_call(hp__call *call)
{
    close_on_control((hp__admin_stream *)((char *)call - offsetof(hp__admin_stream, close_call)));
}

static void on_done(hp_request *req, bool ok, void *data)
{
    hp__admin_stream *s = data;
    s->done = true;
    s->req = NULL;
    hp__call_control(&s->close_call, on_close_call);
}

static void append(hp__admin_stream *s, const char *text, size_t len)
{
    s->pending = hp__realloc(s->pending, s->pending_len + len);
    memcpy(s->pending + s->pending_len, text, len);
    s->pending_len += len;
}

typedef struct delivery {
    hp__admin_stream *stream;
    size_t len;
    char text[]; /* empty: finish the stream */
} delivery;

/* The client left more than STREAM_BUDGET unread: it is closed, and the done callback (with
 * stop() before it) closes the stream. */
static void overflow(hp__admin_stream *s, size_t len)
{
    hp__warn("admin: events stream (topic %s) closed: its client left %zu bytes unread, over "
             "the budget of %u",
             s->pattern, s->pending_len + s->sending_len + len, STREAM_BUDGET);
    free(s->pending);
    s->pending = NULL;
    s->pending_len = 0;
    hp_request_abort(s->req);
}

static bool over_budget(const hp__admin_stream *s, size_t len)
{
    return s->req && s->pending_len + s->sending_len + len > STREAM_BUDGET;
}

static void deliver_on_worker(void *arg, bool on_worker)
{
    delivery *d = arg;
    hp__admin_stream *s = d->stream;
    if (on_worker && !s->done && over_budget(s, d->len)) {
        overflow(s, d->len);
    } else if (on_worker && !s->done) {
        if (d->len) append(s, d->text, d->len);
        if (!d->len) s->finish = true;
        if (s->waiting && s->pending_len) send_pending(s);
        if (s->waiting && s->finish) send_last(s);
    }
    free(d);
}

static void start_on_worker(hp_request *req, void *arg, bool on_worker)
{
    hp__admin_stream *s = arg;
    if (!req) {
        /* The client left before the stream began: close it from the control thread. */
        s->done = true;
        if (on_worker)
            hp__call_control(&s->close_call, on_close_call);
        else
            close_on_control(s);
        return;
    }
    s->req = req;
    hp_request_on_done(req, on_done, s);
    static const hp_body_producer producer = {on_proceed, on_stop};
    hp_response_header(req, "Content-Type", 12, "text/event-stream", 17);
    hp_response_header(req, "Cache-Control", 13, "no-cache", 8);
    hp_respond_stream(req, 200, -1, &producer, s);
}

static void release_on_worker(void *arg, bool on_worker)
{
    hp__admin_stream *s = arg;
    free(s->pending);
    free(s->sending);
    free(s->pattern);
    free(s);
}

/* ---- the control thread's side ---- */

static void post(hp__admin_stream *s, const char *text, size_t len)
{
    delivery *d = hp__malloc(sizeof *d + len);
    d->stream = s;
    d->len = len;
    memcpy(d->text, text, len);
    hp__engine_call_worker(hp__pool_engine(s->admin->pool), s->worker, deliver_on_worker, d);
}

static void unsubscribe(hp__admin_stream *s)
{
    if (!s->subscribed) return;
    s->subscribed = false;
    hp_pool_unsubscribe(s->admin->pool, s->sub_id);
}

/* No more events: the worker ends the body (an empty delivery). */
static void finish(hp__admin_stream *s)
{
    unsubscribe(s);
    post(s, "", 0);
}

static void close_on_control(hp__admin_stream *s)
{
    unsubscribe(s);
    hp__admin *a = s->admin;
    if (s->prev) s->prev->next = s->next;
    if (s->next) s->next->prev = s->prev;
    if (a->streams == s) a->streams = s->next;
    hp__engine_call_worker(hp__pool_engine(a->pool), s->worker, release_on_worker, s);
}

static char *event_text(const hp_event *e)
{
    json_t *data = json_pack("{s:I, s:s, s:s?, s:i, s:s?, s:I}", "seq", (json_int_t)e->seq, "topic",
                             e->topic, "server", e->server, "port", e->port, "message", e->message,
                             "time_ms", (json_int_t)e->time_ms);
    if (e->upstream) json_object_set_new(data, "upstream", json_string(e->upstream));
    if (e->target) json_object_set_new(data, "target", json_string(e->target));
    if (e->switchboard) json_object_set_new(data, "switchboard", json_string(e->switchboard));
    if (e->pid) json_object_set_new(data, "pid", json_integer(e->pid));
    if (strcmp(e->topic, "process.exited") == 0) {
        json_object_set_new(data, "code", e->signal ? json_null() : json_integer(e->exit_code));
        json_object_set_new(data, "signal", e->signal ? json_integer(e->signal) : json_null());
    }
    if (e->attempt) json_object_set_new(data, "attempt", json_integer(e->attempt));
    if (e->attempt) json_object_set_new(data, "delay_ms", json_integer((json_int_t)e->delay_ms));
    if (e->boot_ms) json_object_set_new(data, "boot_ms", json_integer((json_int_t)e->boot_ms));
    char *json = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    size_t len = strlen(json) + strlen(e->topic) + 64;
    char *text = hp__malloc(len);
    snprintf(text, len, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)e->seq, e->topic,
             json);
    free(json);
    return text;
}

static int on_event(const hp_event *e, void *data)
{
    hp__admin_stream *s = data;
    if (!e) {
        s->subscribed = false; /* the bus ended: nothing to unsubscribe from */
        finish(s);
        return 0;
    }
    char *text = event_text(e);
    post(s, text, strlen(text));
    free(text);
    if (strcmp(e->topic, STOPPING) == 0) finish(s);
    return 0;
}

void hp__admin_events(hp__admin *a, hp__control_job *job)
{
    char *pattern = hp__admin_query_get(job->query, "topic");
    if (!pattern) pattern = hp__strdup("**");
    hp__admin_stream *s = HP_NEW(hp__admin_stream);
    s->admin = a;
    s->worker = job->call.worker;
    s->pattern = pattern;
    if (hp_pool_subscribe(a->pool, pattern, on_event, s, &s->sub_id) != 0) {
        hp__admin_answer_error(job, 400, "bad_topic", NULL,
                               "\"%s\" is not a topic pattern (server.*, server.**, **)", pattern);
        free(pattern);
        free(s);
        return;
    }
    s->subscribed = true;
    s->next = a->streams;
    if (a->streams) a->streams->prev = s;
    a->streams = s;
    char hello[300];
    int len = snprintf(hello, sizeof hello, ": events matching %.200s\n\n", pattern);
    post(s, hello, (size_t)len); /* queued before the start: sent first */
    hp__control_job_hand_over(job, start_on_worker, s);
}

void hp__admin_events_stop_all(hp__admin *a)
{
    for (hp__admin_stream *s = a->streams; s; s = s->next)
        if (s->subscribed && !hp__topic_match(s->pattern, STOPPING)) finish(s);
}
