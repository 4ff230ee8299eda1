/* redirect: answers a fixed status (301, 302, 303, 307, 308) with a Location made of a fixed
 * prefix, followed by the request's path and query when keep_path is set.
 *
 * The path appended is the normalized one (src/core/url_path.h): one '/' and then a segment,
 * never "//" or "/\" (a backslash is "%5C"), and one '/' joins it to a prefix that ends in
 * '/'. So "location: /" turns "/foo" into "/foo" and "//evil.example/" into "/evil.example/",
 * never the protocol-relative "//foo" a browser reads as another host: the Location starts
 * with "//" or "/\" only when the configured prefix does. */
#include "common/alloc.h"
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
