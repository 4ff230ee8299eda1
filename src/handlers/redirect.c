/* redirect: answers a fixed status (301, 302, 303, 307, 308) with a Location made of a fixed
 * prefix, followed by the request's path and query when keep_path is set.
 *
 * The path appended is the normalized one (src/core/url_path.h): one '/' and then a segment,
 * never "//" or "/\" (a backslash is "%5C"), and one '/' joins it to a prefix that ends in
 * '/'. So "location: /" turns "/foo" into "/foo" and "//evil.example/" into "/evil.example/",
 * never the protocol-relative "//foo" a browser reads as another host: the Location starts
 * with "//" or "/\" only when the configured prefix does. */
#include "common/alloc.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"
#include "hostpool/handler.h"

#include <stdlib.h>
#include <string.h>

typedef struct redirect_handler {
    hp_handler base;
    int status;
    bool keep_path;
    char *location;
    size_t location_len;
} redirect_handler;

static void on_request(hp_handler *self, hp_request *req)
{
    redirect_handler *h = (redirect_handler *)self;
    hp_str path = req->path;
    size_t n = h->location_len;
    if (h->keep_path && n && h->location[n - 1] == '/' && path.len && path.base[0] == '/') n--;
    size_t len = n;
    if (h->keep_path) len += path.len + (req->query.len ? 1 + req->query.len : 0);
    char stack[2048];
    char *loc = len <= sizeof stack ? stack : hp__malloc(len);
    memcpy(loc, h->location, n);
    if (h->keep_path) {
        memcpy(loc + n, path.base, path.len);
        n += path.len;
        if (req->query.len) {
            loc[n++] = '?';
            memcpy(loc + n, req->query.base, req->query.len);
            n += req->query.len;
        }
    }
    hp_response_header(req, "Location", 8, loc, n);
    if (loc != stack) free(loc);
    hp_respond_error(req, h->status);
}

static void destroy(hp_handler *self)
{
    redirect_handler *h = (redirect_handler *)self;
    free(h->location);
    free(h);
}

static hp_handler *clone(const hp_handler *self)
{
    const redirect_handler *h = (const redirect_handler *)self;
    return hp_redirect_handler_create(h->status, h->location, h->keep_path);
}

static const hp_handler_vtable redirect_vtable = {
    .name = "redirect",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone,
};

hp_handler *hp_redirect_handler_create(int status, const char *location, bool keep_path)
{
    if (!location ||
        (status != 301 && status != 302 && status != 303 && status != 307 && status != 308))
        return NULL;
    redirect_handler *h = HP_NEW(redirect_handler);
    h->base.vt = &redirect_vtable;
    h->status = status;
    h->keep_path = keep_path;
    h->location = hp__strdup(location);
    h->location_len = strlen(location);
    return &h->base;
}

/* ---- the redirect kind: `redirect: { status, location, keep_path }` in a config ---- */

static void check_status(hp_config_check *c, hp_config_node *n, hp__redirect_model *m)
{
    long long v;
    if (!hp_config_integer(c, n, 100, 599, &v)) return;
    if (v == 301 || v == 302 || v == 303 || v == 307 || v == 308)
        m->status = (int)v;
    else
        hp_config_error(c, n, "%lld is not a redirect status (301, 302, 303, 307, 308)", v);
}

static void *check_settings(hp_config_check *c, hp_config_node *map)
{
    static const char *const keys[] = {"status", "location", "keep_path", NULL};
    hp__redirect_model *m = HP_NEW(hp__redirect_model);
    m->status = 302;
    if (!hp_config_expect_mapping(c, map)) return m;
    hp_config_keys(c, map, keys);
    hp_config_node *n;
    const char *location;
    if ((n = hp_config_get(map, "status"))) check_status(c, n, m);
    if (!(n = hp_config_get(map, "location"))) {
        hp_config_error(c, map, "\"location\" is required");
    } else if ((location = hp_config_string(c, n))) {
        m->location = hp__strdup(location);
        if (!location[0])
            hp_config_error(c, n, "must not be empty");
        else if (strpbrk(location, "\r\n"))
            hp_config_error(c, n, "must not contain a line break");
    }
    if ((n = hp_config_get(map, "keep_path"))) hp_config_boolean(c, n, &m->keep_path);
    return m;
}

static int build(const void *model, hp_config_build *b, hp_handler **out)
{
    const hp__redirect_model *m = model;
    *out = hp_redirect_handler_create(m->status, m->location, m->keep_path);
    return *out ? 0 : HP_EINVAL;
}

static void free_model(void *model)
{
    hp__redirect_model *m = model;
    free(m->location);
    free(m);
}

const hp_handler_kind hp__redirect_kind = {
    .key = "redirect",
    .check = check_settings,
    .build = build,
    .free_model = free_model,
};
