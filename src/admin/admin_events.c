/* GET /events?topic=PATTERN: the event bus as Server-Sent Events, one stream per client
 * (admin_stream.c carries them to the worker and bounds what waits for a slow client).
 *
 * The feed is a subscription on the control thread: each matching event is formatted there
 * ("id: SEQ\nevent: TOPIC\ndata: {json}\n\n") and posted. The stream opens with a comment
 * line naming the pattern, posted once the subscription exists: a client that has read it
 * misses no later event. The bus ending, or the pool stopping (after pool.stopping, which a
 * stream whose pattern matches it still sends), finishes the stream. */
#include "admin/admin_stream.h"

#include "common/alloc.h"
#include "core/topic.h"
#include "pool/event_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOPPING "pool.stopping" /* the last event a stream sends */

typedef struct events_feed {
    hp_pool *pool;
    hp__admin_stream *stream;
    uint64_t sub_id;
    bool subscribed;
    char *pattern;
} events_feed;

static void unsubscribe(events_feed *f)
{
    if (!f->subscribed) return;
    f->subscribed = false;
    hp_pool_unsubscribe(f->pool, f->sub_id);
}

/* No more events: the worker ends the body. */
static void finish(events_feed *f)
{
    unsubscribe(f);
    hp__admin_stream_finish(f->stream);
}

static char *event_text(const hp_event *e)
{
    json_t *data = hp__event_json(e);
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
    events_feed *f = data;
    if (!e) {
        f->subscribed = false; /* the bus ended: nothing to unsubscribe from */
        finish(f);
        return 0;
    }
    char *text = event_text(e);
    hp__admin_stream_post(f->stream, text, strlen(text));
    free(text);
    if (strcmp(e->topic, STOPPING) == 0) finish(f);
    return 0;
}

static void detach(void *feed)
{
    events_feed *f = feed;
    unsubscribe(f);
    free(f->pattern);
    free(f);
}

/* A stream whose pattern matches pool.stopping ends after sending it (on_event). */
static void stopping(void *feed)
{
    events_feed *f = feed;
    if (f->subscribed && !hp__topic_match(f->pattern, STOPPING)) finish(f);
}

static const hp__admin_stream_feed events_feed_vt = {.detach = detach, .stopping = stopping};

void hp__admin_events(hp__admin *a, hp__control_job *job)
{
    char *pattern = hp__admin_query_get(job->query, "topic");
    if (!pattern) pattern = hp__strdup("**");
    events_feed *f = HP_NEW(events_feed);
    f->pool = a->pool;
    f->pattern = pattern;
    if (hp_pool_subscribe(a->pool, pattern, on_event, f, &f->sub_id) != 0) {
        hp__admin_answer_error(job, 400, "bad_topic", NULL,
                               "\"%s\" is not a topic pattern (server.*, server.**, **)", pattern);
        free(pattern);
        free(f);
        return;
    }
    f->subscribed = true;
    char label[300];
    snprintf(label, sizeof label, "events stream (topic %.200s)", pattern);
    f->stream = hp__admin_stream_create(a, job, label, &events_feed_vt, f);
    char hello[300];
    int len = snprintf(hello, sizeof hello, ": events matching %.200s\n\n", pattern);
    hp__admin_stream_post(f->stream, hello, (size_t)len); /* before the begin: sent first */
    hp__admin_stream_begin(f->stream, job);
}
