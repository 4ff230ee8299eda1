/* The whole config through the admin API: GET /config (the running document, with its ETag),
 * POST /config (reload to the document in the body; If-Match must name the running ETag when
 * given, else 412) and POST /reload (reload the file the daemon was started with). A reload
 * answers when it is done (live_config.h): 200 with what changed, 400 with every error and
 * nothing changed. While another reload runs, POST /config gets 409 and POST /reload waits
 * for it, then reloads the file (409 only when too many wait already). */
#include "admin/admin_internal.h"

#include "common/alloc.h"
#include "hostpool/errors.h"

#include <stdlib.h>
#include <string.h>

static void answer_with_etag(hp__admin *a, hp__control_job *job, int status, json_t *value)
{
    char etag[24];
    hp__live_config_etag(a->live, etag);
    job->header_name = "ETag";
    job->header_value = hp__strdup(etag);
    hp__control_job_answer_json(job, status, value);
}

void hp__admin_config_get(hp__admin *a, hp__control_job *job)
{
    answer_with_etag(a, job, 200, hp__live_config_document(a->live));
}

static json_t *strings_json(const hp_pool_strings *list)
{
    json_t *out = json_array();
    for (size_t i = 0; i < list->count; i++)
        json_array_append_new(out, json_string(list->items[i]));
    return out;
}

static json_t *config_errors_json(const hp__config_errors *errs)
{
    json_t *details = json_array();
    for (size_t i = 0; i < errs->count; i++) {
        char *line = hp__config_error_format(&errs->items[i]);
        json_array_append_new(details, json_string(line));
        free(line);
    }
    return details;
}

typedef struct reload_call {
    hp__admin *admin;
    hp__control_job *job;
} reload_call;

static void on_reloaded(const hp__reload_result *r, void *data)
{
    reload_call *c = data;
    if (r->errors) {
        hp__admin_answer_error(c->job, 400, "invalid_config", config_errors_json(r->errors),
                               "%zu error%s in the config: nothing changed", r->errors->count,
                               r->errors->count == 1 ? "" : "s");
    } else {
        json_t *result = hp__admin_result_json(&r->failed);
        json_object_set_new(result, "unchanged", json_integer((json_int_t)r->unchanged));
        json_object_set_new(result, "replaced", strings_json(&r->replaced));
        json_object_set_new(result, "added", strings_json(&r->added));
        json_object_set_new(result, "removed", strings_json(&r->removed));
        answer_with_etag(c->admin, c->job, 200, result);
    }
    free(c);
}

/* Answers 409 when the reload cannot start or wait (live_config.h). */
static void started(hp__control_job *job, reload_call *c, int rc)
{
    if (rc == 0) return;
    free(c);
    hp__admin_answer_error(job, 409, "reload_in_progress", NULL,
                           "a reload is under way; try again when it is done");
}

/* Does the If-Match header (absent, "*", or a list of ETags) allow a change? */
static bool if_match_allows(const char *if_match, const char *etag)
{
    if (!if_match) return true;
    const char *p = if_match;
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if ((len == 1 && *p == '*') || (len == strlen(etag) && strncmp(p, etag, len) == 0))
            return true;
        p += len;
    }
    return false;
}

void hp__admin_config_load(hp__admin *a, hp__control_job *job)
{
    char etag[24];
    hp__live_config_etag(a->live, etag);
    if (!if_match_allows(job->if_match, etag)) {
        job->header_name = "ETag";
        job->header_value = hp__strdup(etag);
        hp__admin_answer_error(job, 412, "precondition_failed", NULL,
                               "If-Match %s does not name the running config (ETag %s)",
                               job->if_match, etag);
        return;
    }
    reload_call *c = HP_NEW(reload_call);
    *c = (reload_call){a, job};
    started(job, c,
            hp__live_config_load_json(a->live, job->body, job->body_len, "body", on_reloaded, c));
}

void hp__admin_reload(hp__admin *a, hp__control_job *job)
{
    reload_call *c = HP_NEW(reload_call);
    *c = (reload_call){a, job};
    started(job, c, hp__live_config_reload_file(a->live, on_reloaded, c));
}
