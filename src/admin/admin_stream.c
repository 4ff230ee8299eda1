/* A streamed answer of the admin API (admin_stream.h): Server-Sent Events fed on the control
 * thread, sent by the request's worker.
 *
 * A stream lives on two threads. The control thread owns its feed, which posts text; each
 * text is carried to the request's worker (hp__engine_call_worker). The worker owns the
 * response: text waits in `pending` until the engine asks for more (proceed), so a slow client
 * only grows its own buffer.
 *
 * Ending, whichever side starts it:
 *   - the client goes away, or the body ended: the request's done callback (worker) asks the
 *     control thread to close the stream (a call, io/call.h);
 *   - the feed finishes (the bus ended, the pool is stopping, the process's server is gone):
 *     an empty text asks the worker to end the body, whose done callback then asks for the
 *     close as above;
 *   - closing (control): the feed's detach, unlink, then post the release to the worker.
 *     Posts to a worker run in order, so every text posted before has been dealt with when
 *     the release frees the stream.
 * A stream's backlog is bounded: text waiting for a client (pending and the piece being sent)
 * may not grow past STREAM_BUDGET. A client that falls that far behind is not reading; its
 * connection is aborted (logged), which ends the stream as a client that left does.
 * Invariants: `req`, `pending`, `sending`, `waiting`, `finish` and `done` are touched on the
 * worker only; the feed and the list links on the control thread only. */
#include "admin/admin_stream.h"

#include "common/alloc.h"
#include "common/log.h"
#include "io/engine_call.h"
#include "pool/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of text one stream may hold for its client: about a thousand events or lines. */
#define STREAM_BUDGET (256u * 1024u)

struct hp__admin_stream {
    hp__admin *admin;
    unsigned worker;
    hp__call close_call; /* the one call from the worker: close the stream */
    /* control thread */
    hp__admin_stream *prev, *next;
    const hp__admin_stream_feed *vt;
    void *feed;
    char *label;
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
    hp__warn("admin: %s closed: its client left %zu bytes unread, over the budget of %u", s->label,
             s->pending_len + s->sending_len + len, STREAM_BUDGET);
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
    free(s->label);
    free(s);
}

/* ---- the control thread's side ---- */

void hp__admin_stream_post(hp__admin_stream *s, const char *text, size_t len)
{
    delivery *d = hp__malloc(sizeof *d + len);
    d->stream = s;
    d->len = len;
    memcpy(d->text, text, len);
    hp__engine_call_worker(hp__pool_engine(s->admin->pool), s->worker, deliver_on_worker, d);
}

void hp__admin_stream_finish(hp__admin_stream *s)
{
    hp__admin_stream_post(s, "", 0);
}

static void close_on_control(hp__admin_stream *s)
{
    s->vt->detach(s->feed);
    hp__admin *a = s->admin;
    if (s->prev) s->prev->next = s->next;
    if (s->next) s->next->prev = s->prev;
    if (a->streams == s) a->streams = s->next;
    hp__engine_call_worker(hp__pool_engine(a->pool), s->worker, release_on_worker, s);
}

hp__admin_stream *hp__admin_stream_create(hp__admin *a, hp__control_job *job, const char *label,
                                          const hp__admin_stream_feed *vt, void *feed)
{
    hp__admin_stream *s = HP_NEW(hp__admin_stream);
    s->admin = a;
    s->worker = job->call.worker;
    s->vt = vt;
    s->feed = feed;
    s->label = hp__strdup(label);
    s->next = a->streams;
    if (a->streams) a->streams->prev = s;
    a->streams = s;
    return s;
}

void hp__admin_stream_begin(hp__admin_stream *s, hp__control_job *job)
{
    hp__control_job_hand_over(job, start_on_worker, s);
}

void hp__admin_streams_stopping(hp__admin *a)
{
    hp__admin_stream *next;
    for (hp__admin_stream *s = a->streams; s; s = next) {
        next = s->next;
        s->vt->stopping(s->feed);
    }
}
