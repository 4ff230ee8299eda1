/* A streamed answer of the admin API (Server-Sent Events), fed from the control thread and
 * sent by the request's worker: GET /events and GET /servers/{name}/logs?follow=1.
 *
 * A feed (the events subscription, a process's output) owns what it reads on the control
 * thread and posts text to its stream; the stream carries each text to the worker, which
 * sends it as the client reads (admin_stream.c says how the two halves end and stay bounded).
 * Every function here runs on the control thread. */
#ifndef HP_ADMIN_ADMIN_STREAM_H
#define HP_ADMIN_ADMIN_STREAM_H

#include "admin/admin_internal.h"

typedef struct hp__admin_stream_feed {
    /* The stream closed (its client left, or its body ended): stop posting to it and free
     * what the feed keeps. Called once; the stream is gone after it. */
    void (*detach)(void *feed);
    /* The pool is stopping: finish the stream now or after a last text. */
    void (*stopping)(void *feed);
} hp__admin_stream_feed;

/* A stream for `job`'s request, whose body will be what is posted; `label` names it in warnings
 * (copied). Text posted before hp__admin_stream_begin is sent first. */
hp__admin_stream *hp__admin_stream_create(hp__admin *a, hp__control_job *job, const char *label,
                                          const hp__admin_stream_feed *vt, void *feed);
/* Answers `job` with a 200 text/event-stream whose body is what was and will be posted. From
 * here on the feed may be detached at any time (inside this call when the worker has ended). */
void hp__admin_stream_begin(hp__admin_stream *s, hp__control_job *job);
/* Text for the client, in order (copied). */
void hp__admin_stream_post(hp__admin_stream *s, const char *text, size_t len);
/* Ends the body after what was posted; the detach follows once the worker has sent it. */
void hp__admin_stream_finish(hp__admin_stream *s);
/* The pool is stopping: every open stream's feed hears it. */
void hp__admin_streams_stopping(hp__admin *a);

#endif
