/* The front handler of a switchboard (switch_front.h). Immutable after create: every worker
 * reads it at once. Allocates nothing for a name that is up (the reroute); a name that is not
 * costs one control job. */
#include "switch/switch_front.h"

#include "common/alloc.h"
#include "http/session.h"
#include "switch/switchboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct front {
    hp_handler base;
    hp__switchboard *sb;
} front;

bool hp__switch_front_reroute(hp_request *req, const char *host)
{
    return hp__request_reroute(req, (hp_str){host, strlen(host)});
}

void hp__switch_front_refuse(hp_request *req, int status, const char *message)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", message);
    hp_response_header(req, "Content-Type", 12, "application/json", 16);
    hp_respond_copy(req, status, body, (size_t)n);
}

static hp_str fallback_value(const hp__switch_names *names, const hp_request *req)
{
    const char *header = hp__switch_names_header(names);
    const hp_str *value = header ? hp_request_header(req, header) : NULL;
    return value ? *value : (hp_str){0};
}

static void front_on_request(hp_handler *self, hp_request *req)
{
    front *f = (front *)self;
    const hp__switch_names *names = hp__switchboard_names(f->sb);
    char name[HP__SWITCH_NAME_CAP], host[256];
    hp__switch_name_result r =
        hp__switch_names_choose(names, req->host, fallback_value(names, req), name);
    if (r != HP__SWITCH_NAME_OK) {
        if (r != HP__SWITCH_NAME_NONE) hp__switchboard_count_not_allowed(f->sb);
        hp__switch_front_refuse(req, 404, "no server is named by this request");
        return;
    }
    if (!hp__switchboard_host(f->sb, name, host, sizeof host)) {
        hp__switch_front_refuse(req, 404, "the name does not fit in a host name");
        return;
    }
    if (hp__switch_front_reroute(req, host)) return;
    hp__control_job_submit_arg(req, hp__switchboard_serve, f->sb, name);
}

static void front_destroy(hp_handler *self)
{
    free(self);
}

static const hp_handler_vtable front_vtable = {
    .name = "switchboard",
    .on_request = front_on_request,
    .destroy = front_destroy,
};

hp_handler *hp__switch_front_create(hp__switchboard *sb)
{
    front *f = HP_NEW(front);
    f->base.vt = &front_vtable;
    f->base.stream_request_body = true;
    f->sb = sb;
    return &f->base;
}
