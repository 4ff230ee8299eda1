#include "handlers/control_job.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static char *dup_str(hp_str s)
{
    char *out = hp__malloc(s.len + 1);
    if (s.len) memcpy(out, s.base, s.len); /* an empty hp_str may have a NULL base */
    out[s.len] = '\0';
    return out;
}

static void job_free(hp__control_job *job)
{
    free(job->method);
    free(job->path);
    free(job->query);
    free(job->body);
    free(job->answer);
    free(job->header_value);
    free(job->if_match);
    free(job->arg);
    free(job);
}

static void on_request_done(hp_request *req, bool ok, void *data)
{
    hp__control_job *job = data;
    if (!ok) job->gone = true;
}

static void run_on_control(hp__call *call)
{
    hp__control_job *job = (hp__control_job *)call;
    job->run(job, job->run_data);
}

void hp__control_job_submit(hp_request *req, hp__control_job_fn run, void *data)
{
    hp__control_job_submit_arg(req, run, data, NULL);
}

void hp__control_job_submit_arg(hp_request *req, hp__control_job_fn run, void *data,
                                const char *arg)
{
    hp__control_job *job = HP_NEW(hp__control_job);
    job->arg = arg ? hp__strdup(arg) : NULL;
    job->req = req;
    job->run = run;
    job->run_data = data;
    job->method = dup_str(req->method);
    job->path = dup_str(req->path);
    job->query = dup_str(req->query);
    job->body = dup_str(req->body);
    job->body_len = req->body.len;
    const hp_str *if_match = hp_request_header(req, "if-match");
    job->if_match = if_match ? dup_str(*if_match) : NULL;
    hp_request_on_done(req, on_request_done, job);
    hp__call_control(&job->call, run_on_control);
}

/* Back on the worker (or on the control thread when the worker ended). */
static void deliver(hp__call *call, bool on_worker)
{
    hp__control_job *job = (hp__control_job *)call;
    if (on_worker && !job->gone) {
        hp_request_on_done(job->req, NULL, NULL);
        hp_response_header(job->req, "Content-Type", 12, job->content_type,
                           strlen(job->content_type));
        if (job->header_name)
            hp_response_header(job->req, job->header_name, strlen(job->header_name),
                               job->header_value, strlen(job->header_value));
        hp_respond_copy(job->req, job->status, job->answer, job->answer_len);
    }
    job_free(job);
}

void hp__control_job_answer_json(hp__control_job *job, int status, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(value);
    size_t len = strlen(text);
    text = realloc(text, len + 2); /* a final newline, for terminals */
    text[len] = '\n';
    hp__control_job_answer(job, status, "application/json", text, len + 1);
}

void hp__control_job_answer(hp__control_job *job, int status, const char *content_type,
                            char *answer, size_t answer_len)
{
    job->status = status;
    job->content_type = content_type;
    job->answer = answer;
    job->answer_len = answer_len;
    hp__call_return(&job->call, deliver);
}

/* Back on the worker (or on the control thread when the worker ended). */
static void start_there(hp__call *call, bool on_worker)
{
    hp__control_job *job = (hp__control_job *)call;
    hp_request *req = on_worker && !job->gone ? job->req : NULL;
    if (req) hp_request_on_done(req, NULL, NULL);
    job->start(req, job->start_arg, on_worker);
    job_free(job);
}

void hp__control_job_hand_over(hp__control_job *job, hp__control_job_start_fn start, void *arg)
{
    job->start = start;
    job->start_arg = arg;
    hp__call_return(&job->call, start_there);
}
