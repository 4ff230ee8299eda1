/* The switchboards' endpoints, on the control thread (docs/ADMIN.md):
 *
 *   GET /switchboards          {"switchboards": [SWITCHBOARD...]}
 *   GET /switchboards/{name}   SWITCHBOARD, or 404
 *
 * where SWITCHBOARD is {"name", "listen", "hosts", "fallback_header", "default",
 * "max_servers", "idle_timeout_ms", "template", "servers", "count"} (switch/switchboard.h):
 * what its config entry says, and the servers it made that the pool has now. */
#include "admin/admin_internal.h"

#include "switch/switchboard.h"

void hp__admin_switchboards_list(hp__admin *a, hp__control_job *job)
{
    json_t *list = json_array();
    for (const hp__switchboard *sb = hp__switchboard_first(a->pool); sb;
         sb = hp__switchboard_next(sb))
        json_array_append_new(list, hp__switchboard_json(sb));
    hp__control_job_answer_json(job, 200, json_pack("{s:o}", "switchboards", list));
}

void hp__admin_switchboard_get(hp__admin *a, hp__control_job *job, const char *name)
{
    const hp__switchboard *sb = hp__switchboard_find(a->pool, name);
    if (sb)
        hp__control_job_answer_json(job, 200, hp__switchboard_json(sb));
    else
        hp__admin_answer_error(job, 404, "not_found", NULL, "no switchboard named \"%s\"", name);
}
