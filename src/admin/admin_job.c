#include "admin/admin_job.h"

#include "common/alloc.h"
#include "io/engine_call.h"

#include <stdlib.h>
#include <string.h>

struct hp__admin_jobs {
    uv_async_t ready; /* first: the close callback frees the whole struct through it */
    hp__locked_queue queue;
    hp_engine *engine;
    hp__admin_run_fn run;
    void *data;
};

static char *dup_str(hp_str s)
{
    char *out = hp__malloc(s.len + 1);
    if (s.len) memcpy(out, s.base, s.len); /* an empty hp_str may have no base */
    out[s.len] = '\0';
    return out;
}

static void job_free(hp__admin_job *job)
{
    free(job->method);
    free(job->path);
    free(job->query);
    free(job->body);
    free(job->answer);
    free(job);
}

static void on_ready(uv_async_t *a)
{
    hp__admin_jobs *jobs = a->data;
    hp__admin_job *job = (hp__admin_job *)hp__locked_queue_take_all(&jobs->queue);
    while (job) {
        hp__admin_job *next = (hp__admin_job *)job->item.next;
        job->item.next = NULL;
        jobs->run(job, jobs->data);
        job = next;
    }
}

hp__admin_jobs *hp__admin_jobs_create(uv_loop_t *loop, hp_engine *engine, hp__admin_run_fn run,
                                      void *data)
{
    hp__admin_jobs *jobs = HP_NEW(hp__admin_jobs);
    hp__locked_queue_init(&jobs->queue);
    jobs->engine = engine;
    jobs->run = run;
    jobs->data = data;
    uv_async_init(loop, &jobs->ready, on_ready);
    uv_unref((uv_handle_t *)&jobs->ready); /* waiting for jobs keeps no loop alive */
    jobs->ready.data = jobs;
    return jobs;
}

static void on_jobs_closed(uv_handle_t *h)
{
    hp__admin_jobs *jobs = h->data;
    hp__locked_queue_close(&jobs->queue);
    free(jobs);
}

void hp__admin_jobs_destroy(hp__admin_jobs *jobs)
{
    if (jobs) uv_close((uv_handle_t *)&jobs->ready, on_jobs_closed);
}

static void on_request_done(hp_request *req, bool ok, void *data)
{
    hp__admin_job *job = data;
    if (!ok) job->gone = true;
}

void hp__admin_job_submit(hp__admin_jobs *jobs, hp_request *req)
{
    hp__admin_job *job = HP_NEW(hp__admin_job);
    job->engine = jobs->engine;
    job->req = req;
    job->worker = req->worker;
    job->method = dup_str(req->method);
    job->path = dup_str(req->path);
    job->query = dup_str(req->query);
    job->body = dup_str(req->body);
    job->body_len = req->body.len;
    hp_request_on_done(req, on_request_done, job);
    hp__locked_queue_push(&jobs->queue, &job->item);
    uv_async_send(&jobs->ready);
}

/* Back on the worker (or on the control thread when the worker ended). */
static void deliver(void *arg, bool on_worker)
{
    hp__admin_job *job = arg;
    if (on_worker && !job->gone) {
        hp_request_on_done(job->req, NULL, NULL);
        hp_response_header(job->req, "Content-Type", 12, job->content_type,
                           strlen(job->content_type));
        hp_respond_copy(job->req, job->status, job->answer, job->answer_len);
    }
    job_free(job);
}

void hp__admin_job_answer(hp__admin_job *job, int status, const char *content_type, char *answer,
                          size_t answer_len)
{
    job->status = status;
    job->content_type = content_type;
    job->answer = answer;
    job->answer_len = answer_len;
    hp__engine_call_worker(job->engine, job->worker, deliver, job);
}
