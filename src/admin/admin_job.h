/* A request of the admin API, carried to the control thread and answered back on its worker.
 *
 * The admin handler runs on a worker loop, but the pool lives on the control loop. A job
 * copies what the control thread needs (method, path, query, body) and travels:
 *
 *   worker   hp__admin_job_submit(): copy, queue, wake the control loop
 *   control  the jobs' `run` callback decides the answer, now or after a pool callback, and
 *            calls hp__admin_job_answer() exactly once
 *   worker   the answer is sent, unless the client went away meanwhile; the job is freed
 *
 * A job may instead hand its request over to a stream (GET /events) that answers it from the
 * worker for as long as it lasts; the stream's calls back to the control thread travel the
 * same queue as the jobs (hp__admin_jobs_call_control).
 *
 * Invariants: `req` is touched only on its worker and only while `gone` is false; `gone` is
 * set by the request's done callback, on the worker, so it needs no lock. If the worker ended
 * before the answer came back (the engine shut down), the job is freed on the control
 * thread. */
#ifndef HP_ADMIN_ADMIN_JOB_H
#define HP_ADMIN_ADMIN_JOB_H

#include "common/locked_queue.h"
#include "hostpool/engine.h"
#include "hostpool/pool.h"
#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp__admin_job {
    hp__queue_item item; /* first: jobs travel through an hp__locked_queue */
    hp_engine *engine;
    hp_request *req;
    unsigned worker;
    bool gone; /* the client went away: the answer is dropped */
    char *method, *path, *query;
    char *if_match; /* the If-Match header, or NULL */
    char *body;
    size_t body_len;
    /* the answer, filled on the control thread */
    int status;
    const char *content_type;
    char *answer;
    size_t answer_len;
    const char *header_name; /* one more header of the answer (Allow, ETag), or NULL */
    char *header_value;
    /* not a request: a call from a worker to run on the control thread */
    void (*control_call)(void *arg);
    void *control_arg;
} hp__admin_job;

typedef struct hp__admin_jobs hp__admin_jobs;
typedef void (*hp__admin_run_fn)(hp__admin_job *job, void *data);

/* Jobs handed to `run` on `loop` (the control loop), answered through `engine`'s workers. */
hp__admin_jobs *hp__admin_jobs_create(uv_loop_t *loop, hp_engine *engine, hp__admin_run_fn run,
                                      void *data);
/* Closes the control side (freed once libuv closed its handle). No job may be submitted after;
 * jobs already run keep their own way back. NULL is a no-op. */
void hp__admin_jobs_destroy(hp__admin_jobs *jobs);

/* Worker thread: takes `req` over until the answer. */
void hp__admin_job_submit(hp__admin_jobs *jobs, hp_request *req);

/* Worker thread: runs call(arg) on the control thread, in order with the jobs submitted. When
 * the jobs are destroyed first, call(arg) runs then. */
void hp__admin_jobs_call_control(hp__admin_jobs *jobs, void (*call)(void *arg), void *arg);

/* Control thread: instead of an answer, the job's request is handed to `start` on its worker,
 * which answers it from then on (a stream); the job is freed. When the client went away
 * meanwhile, `req` is NULL; when the worker ended, start(NULL, arg, false) runs on the control
 * thread. Either way `start` runs exactly once. */
typedef void (*hp__admin_start_fn)(hp_request *req, void *arg, bool on_worker);
void hp__admin_job_hand_over(hp__admin_job *job, hp__admin_start_fn start, void *arg);

/* Control thread: answers with `answer` (owned by the job from now on) and sends it back. */
void hp__admin_job_answer(hp__admin_job *job, int status, const char *content_type, char *answer,
                          size_t answer_len);

/* Control thread: the answers the admin API shares with the metrics and health handlers
 * (hostpool/pool.h says what they are). */
void hp__admin_answer_metrics(hp__admin_job *job, hp_pool *pool);
void hp__admin_answer_health(hp__admin_job *job, hp_pool *pool);

#endif
