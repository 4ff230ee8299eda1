/* A request answered from the control thread: for handlers whose answer is the pool's state
 * (the admin API, the metrics and health handlers; later upstreams and switchboards).
 *
 * A handler runs on a worker loop, but the pool lives on the control loop. A job is a call
 * (io/call.h) that copies what the control thread needs of the request (method, path, query,
 * body, If-Match) and travels:
 *
 *   worker   hp__control_job_submit(): copy, then the call to the control thread
 *   control  the job's `run` callback decides the answer, now or after a pool callback, and
 *            calls hp__control_job_answer() exactly once
 *   worker   the answer is sent, unless the client went away meanwhile; the job is freed
 *
 * A job may instead hand its request over to a stream (GET /events) that answers it from the
 * worker for as long as it lasts.
 *
 * Invariants: `req` is touched only on its worker and only while `gone` is false; `gone` is
 * set by the request's done callback, on the worker, so it needs no lock. If the worker ended
 * before the answer came back (the engine shut down), the job is freed on the control
 * thread. */
#ifndef HP_HANDLERS_CONTROL_JOB_H
#define HP_HANDLERS_CONTROL_JOB_H

#include "hostpool/request.h"
#include "io/call.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct hp__control_job hp__control_job;
typedef void (*hp__control_job_fn)(hp__control_job *job, void *data);
typedef void (*hp__control_job_start_fn)(hp_request *req, void *arg, bool on_worker);

struct hp__control_job {
    hp__call call; /* first; call.worker is the request's worker */
    hp_request *req;
    bool gone; /* the client went away: the answer is dropped */
    char *method, *path, *query;
    char *if_match; /* the If-Match header, or NULL */
    char *body;
    size_t body_len;
    char *arg; /* what the handler chose for the control thread (a switchboard's name), or NULL */
    hp__control_job_fn run; /* on the control thread, with run_data */
    void *run_data;
    hp__control_job_start_fn start; /* hp__control_job_hand_over's, with start_arg */
    void *start_arg;
    /* the answer, filled on the control thread */
    int status;
    const char *content_type;
    char *answer;
    size_t answer_len;
    const char *header_name; /* one more header of the answer (Allow, ETag), or NULL */
    char *header_value;
};

/* Worker thread: takes `req` over until the answer; run(job, data) decides it on the control
 * thread. `data` must stay valid until then (a handler: it is, see io/call.h). */
void hp__control_job_submit(hp_request *req, hp__control_job_fn run, void *data);
/* The same, the job carrying a copy of `arg` (job->arg). */
void hp__control_job_submit_arg(hp_request *req, hp__control_job_fn run, void *data,
                                const char *arg);

/* Control thread: instead of an answer, the job's request is handed to `start` on its worker,
 * which answers it from then on (a stream); the job is freed. When the client went away
 * meanwhile, `req` is NULL; when the worker ended, start(NULL, arg, false) runs on the control
 * thread. Either way `start` runs exactly once. */
void hp__control_job_hand_over(hp__control_job *job, hp__control_job_start_fn start, void *arg);

/* Control thread: answers with `answer` (owned by the job from now on) and sends it back. */
void hp__control_job_answer(hp__control_job *job, int status, const char *content_type,
                            char *answer, size_t answer_len);

/* Control thread: answers with `value` (a new reference, stolen) as compact JSON text. */
void hp__control_job_answer_json(hp__control_job *job, int status, json_t *value);

#endif
