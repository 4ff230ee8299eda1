/* file: serves the files under a root folder.
 *
 * GET and HEAD only (405 otherwise). The request's normalized path (the engine's, the one
 * routes matched) is decoded into a root-relative path (file_path.c), looked up in the worker's
 * file cache (file_cache.c), then answered with: 412 or 304 as its preconditions say
 * (http/conditional.h); 206 for one satisfiable byte range (416 when unsatisfiable; ignored
 * when If-Range does not match); otherwise 200. Validators: ETag and Last-Modified, never
 * later than now.
 *
 * A trailing '/' names a folder. A folder is answered with its index file when the path ends
 * in '/', with a 301 to the path plus '/' when it does not (as nginx does; the normalized path
 * never starts with "//", so the Location cannot name another host), and when it has no index
 * with its listing if `browse` is on (file_listing.c), else 403 (off by default). A file asked
 * with a trailing '/' ("/index.html/") is 404, as nginx answers. Small files go out from the
 * cached bytes; others with sendfile.
 *
 * Precompressed files (`precompressed: true`, nginx's gzip_static, its own switch: a route
 * need not `compress`): NAME.br and NAME.gz beside NAME are its encoded forms. When one exists
 * (looked for at most once a second per file, the answer kept in NAME's cache entry), every
 * answer for NAME carries Vary: Accept-Encoding, and one the client's Accept-Encoding picks
 * (http/accept_encoding.h) is served in NAME's place, whole, with sendfile, with NAME's
 * Content-Type, Content-Encoding, and its own validators (its own ETag, since it is its own
 * file). A Range request always gets NAME itself: ranges apply to the identity body.
 *
 * On a route that compresses (http/compress_plan.h) the engine encodes the file's 200; the
 * preconditions are then checked against the ETag of that encoded variant. */
#include "common/alloc.h"
#include "common/str.h"
#include "handlers/file_cache.h"
#include "handlers/file_listing.h"
#include "handlers/file_path.h"
#include "handlers/kinds.h"
#include "hostpool/errors.h"
#include "hostpool/handler.h"
#include "http/accept_encoding.h"
#include "http/compress_plan.h"
#include "http/conditional.h"
#include "http/http_date.h"
#include "http/range.h"

#include <fcntl.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PATH 4096

typedef struct file_handler {
    hp_handler base;
    int root_fd;
    char *index;
    size_t index_len;
    bool precompressed;
    bool browse; /* a folder without an index is listed (else 403) */
} file_handler;

static void header(hp_request *req, const char *name, const char *value)
{
    hp_response_header(req, name, strlen(name), value, strlen(value));
}

static void on_done(hp_request *req, bool ok, void *data)
{
    hp__file_cache_release(data);
}

static bool range_applies(const hp_request *req, const hp__file_entry *e)
{
    return hp__conditional_range_applies(hp_request_header(req, "if-range"), e->etag,
                                         e->mtime.tv_sec);
}

/* Applies a Range header: 200 (whole file), 206 (*offset, *length set) or 416, adding the
 * Content-Range header for the last two. */
static int apply_range(hp_request *req, const hp__file_entry *e, uint64_t *offset, uint64_t *length)
{
    const hp_str *range = req->method_id == HTTP_GET ? hp_request_header(req, "range") : NULL;
    if (!range || !range_applies(req, e)) return 200;
    char content_range[96];
    switch (hp__range_parse(*range, e->size, offset, length)) {
    case HP__RANGE_UNSATISFIABLE:
        snprintf(content_range, sizeof content_range, "bytes */%llu", (unsigned long long)e->size);
        header(req, "Content-Range", content_range);
        return 416;
    case HP__RANGE_SATISFIABLE:
        snprintf(content_range, sizeof content_range, "bytes %llu-%llu/%llu",
                 (unsigned long long)*offset, (unsigned long long)(*offset + *length - 1),
                 (unsigned long long)e->size);
        header(req, "Content-Range", content_range);
        return 206;
    default:
        return 200;
    }
}

/* The entity-tag the 200 for `e` would carry: its own, or that of the variant the engine
 * encodes on a compressing route (into variant). `precompressed`: `e` is encoded already. */
static const char *answer_etag(hp_request *req, const hp__file_entry *e, const char *type,
                               bool precompressed, char variant[HP__ETAG_MAX + 4])
{
    hp__coding coding =
        precompressed ? HP__CODING_IDENTITY : hp__compress_choose(req, type, e->size);
    if (coding != HP__CODING_IDENTITY &&
        hp__etag_variant(e->etag, strlen(e->etag), coding, variant, HP__ETAG_MAX + 4))
        return variant;
    return e->etag;
}

/* Answers with the file of `e`, whose reference the answer takes over, as `type`. The file's
 * Content-Type goes only with its bytes: 304 has no body, 412 and 416 a text one of the
 * engine's. A file modified "in the future" (clock skew, a touch -d) is said to be modified
 * now: no Last-Modified may be later than the answer's Date (RFC 9110 8.8.2.1). */
static void serve(hp_request *req, hp__file_entry *e, const char *type, bool precompressed,
                  time_t now)
{
    header(req, "ETag", e->etag);
    char last_modified[HP__HTTP_DATE_LEN + 1];
    if (e->mtime.tv_sec > now) hp__http_date_format(now, last_modified);
    header(req, "Last-Modified", e->mtime.tv_sec > now ? last_modified : e->last_modified);
    uint64_t offset = 0, length = e->size;
    char variant[HP__ETAG_MAX + 4];
    const char *etag = answer_etag(req, e, type, precompressed, variant);
    int status = hp__conditional_status(req, etag, e->mtime.tv_sec, now);
    if (!status) {
        header(req, "Accept-Ranges", "bytes");
        status = apply_range(req, e, &offset, &length);
    }
    if (status == 304 || status == 412 || status == 416) {
        hp__file_cache_release(e);
        if (status == 304)
            hp_respond(req, 304, NULL, 0);
        else
            hp_respond_error(req, status);
        return;
    }
    header(req, "Content-Type", type);
    hp_request_on_done(req, on_done, e);
    if (e->bytes) {
        hp_respond(req, status, e->bytes + offset, (size_t)length);
    } else {
        hp_respond_file(req, status, e->fd, offset, length);
    }
}

static void redirect_to_folder(hp_request *req)
{
    char location[3 * MAX_PATH + 64]; /* escaped, the path takes up to 3 bytes a byte */
    size_t n = hp__file_path_folder_location(req->path, req->query, location, sizeof location);
    if (n == 0) {
        hp_respond_error(req, 414);
        return;
    }
    hp_response_header(req, "Location", 8, location, n);
    hp_respond_error(req, 301);
}

/* The entry of the index file of the folder `path` (in path[MAX_PATH], extended in place), or
 * NULL with a status: a folder without an index is 403, or 0 when it is to be listed. */
static hp__file_entry *folder_index(const file_handler *h, hp__file_cache *cache, char *path,
                                    size_t len, time_t now, int *status)
{
    size_t n = len + (len ? 1 : 0) + h->index_len;
    if (n >= MAX_PATH) {
        *status = 414;
        return NULL;
    }
    if (len) path[len] = '/';
    memcpy(path + n - h->index_len, h->index, h->index_len + 1);
    hp__file_entry *e = hp__file_cache_get(cache, path, n, now, status);
    if (e && e->is_dir) {
        hp__file_cache_release(e);
        *status = 403;
        return NULL;
    }
    if (!e && *status == 404) *status = h->browse ? 0 : 403;
    return e;
}

/* ---- precompressed siblings ---- */

static const struct {
    const char *ext;
    hp__coding coding;
} sibling_kinds[] = {{".br", HP__CODING_BR}, {".gz", HP__CODING_GZIP}};

/* The entry of the sibling of `e` for `coding` (a regular file), or NULL. Borrowed: release. */
static hp__file_entry *sibling(hp__file_cache *cache, const hp__file_entry *e, hp__coding coding,
                               time_t now)
{
    char path[MAX_PATH];
    const char *ext = coding == HP__CODING_BR ? ".br" : ".gz";
    if (e->path_len + 4 > sizeof path) return NULL;
    memcpy(path, e->path, e->path_len);
    memcpy(path + e->path_len, ext, 4);
    int status;
    hp__file_entry *s = hp__file_cache_get(cache, path, e->path_len + 3, now, &status);
    if (s && s->is_dir) {
        hp__file_cache_release(s);
        s = NULL;
    }
    return s;
}

/* The codings `e` has a sibling for, looked for once a second at most. */
static unsigned siblings(hp__file_cache *cache, hp__file_entry *e, time_t now)
{
    if (e->siblings_checked == now) return e->siblings;
    unsigned found = 0;
    for (size_t i = 0; i < sizeof sibling_kinds / sizeof sibling_kinds[0]; i++) {
        hp__file_entry *s = sibling(cache, e, sibling_kinds[i].coding, now);
        if (!s) continue;
        found |= 1u << sibling_kinds[i].coding;
        hp__file_cache_release(s);
    }
    e->siblings = found;
    e->siblings_checked = now;
    return found;
}

/* Answers with a precompressed sibling of `e` when there is one the request takes; false
 * (with Vary added when `e` has siblings) when `e` itself is the answer. */
static bool serve_precompressed(hp_request *req, hp__file_cache *cache, hp__file_entry *e,
                                time_t now)
{
    unsigned offered = siblings(cache, e, now);
    if (!offered) return false;
    header(req, "Vary", "Accept-Encoding");
    if (hp_request_header(req, "range")) return false;
    hp__coding coding = hp__accept_encoding_choose(req, offered);
    if (coding == HP__CODING_IDENTITY) return false;
    hp__file_entry *s = sibling(cache, e, coding, now);
    if (!s) return false; /* gone since it was seen: the file itself, then */
    header(req, "Content-Encoding", hp__coding_name(coding));
    serve(req, s, e->type, true, now);
    hp__file_cache_release(e);
    return true;
}

static void on_request(hp_handler *self, hp_request *req)
{
    file_handler *h = (file_handler *)self;
    if (req->method_id != HTTP_GET && req->method_id != HTTP_HEAD) {
        hp_response_header(req, "Allow", 5, "GET, HEAD", 9);
        hp_respond_error(req, 405);
        return;
    }
    char path[MAX_PATH];
    size_t len;
    bool folder;
    int status = hp__file_path_from_request(req->path, path, sizeof path, &len, &folder);
    if (status) {
        hp_respond_error(req, status);
        return;
    }
    hp__file_cache *cache = hp_worker_data(hp_request_worker(req), self);
    time_t now = time(NULL);
    hp__file_entry *e = hp__file_cache_get(cache, path, len, now, &status);
    if (e && e->is_dir) {
        hp__file_cache_release(e);
        if (!folder) {
            redirect_to_folder(req);
            return;
        }
        e = folder_index(h, cache, path, len, now, &status);
        if (!e && status == 0) {
            path[len] = '\0'; /* the folder again, without the index's name */
            hp__file_listing_respond(req, h->root_fd, path, len);
            return;
        }
    } else if (e && folder) {
        hp__file_cache_release(e); /* a file asked as a folder */
        e = NULL;
        status = 404;
    }
    if (!e) {
        hp_respond_error(req, status);
        return;
    }
    if (h->precompressed && serve_precompressed(req, cache, e, now)) return;
    serve(req, e, e->type, false, now);
}

/* Each worker has its own cache (no lock), made when a server using the handler is published
 * there and destroyed when none is left there (hostpool/worker.h). */
static void *worker_start(hp_handler *self, hp_worker *worker)
{
    return hp__file_cache_create(((file_handler *)self)->root_fd);
}

static void worker_stop(hp_handler *self, hp_worker *worker, void *cache)
{
    hp__file_cache_destroy(cache);
}

static void destroy(hp_handler *self)
{
    file_handler *h = (file_handler *)self;
    close(h->root_fd);
    free(h->index);
    free(h);
}

static hp_handler *clone(const hp_handler *self);

static const hp_handler_vtable file_vtable = {
    .name = "file",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone,
    .worker_start = worker_start,
    .worker_stop = worker_stop,
};

static hp_handler *file_handler_new(int root_fd, const char *index, bool precompressed, bool browse)
{
    file_handler *h = HP_NEW(file_handler);
    h->browse = browse;
    h->base.vt = &file_vtable;
    h->root_fd = root_fd;
    h->precompressed = precompressed;
    h->index = hp__strdup(index);
    h->index_len = strlen(index);
    return &h->base;
}

/* The same folder (the open descriptor, duplicated) and index; empty caches. */
static hp_handler *clone(const hp_handler *self)
{
    const file_handler *h = (const file_handler *)self;
    int fd = fcntl(h->root_fd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? NULL : file_handler_new(fd, h->index, h->precompressed, h->browse);
}

hp_handler *hp_file_handler_create(const hp_file_options *options, int *err)
{
    int fd = options && options->root ? open(options->root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd < 0) {
        *err = options && options->root ? HP_ENOTFOUND : HP_EINVAL;
        return NULL;
    }
    const char *index = options->index && *options->index ? options->index : "index.html";
    if (strchr(index, '/') || strlen(index) > 255) {
        close(fd);
        *err = HP_EINVAL;
        return NULL;
    }
    return file_handler_new(fd, index, options->precompressed, options->browse);
}

/* ---- the file kind: `file: { root, index, browse, precompressed }` in a config ---- */

static void *check_settings(hp_config_check *c, hp_config_node *map)
{
    static const char *const keys[] = {"root", "index", "browse", "precompressed", NULL};
    hp__file_model *m = HP_NEW(hp__file_model);
    if (!hp_config_expect_mapping(c, map)) return m;
    hp_config_keys(c, map, keys);
    hp_config_node *n;
    const char *text;
    if (!(n = hp_config_get(map, "root"))) {
        hp_config_error(c, map, "\"root\" is required");
    } else if ((text = hp_config_string(c, n))) {
        m->root = hp__strdup(text);
        m->root_pos = hp_config_node_pos(n);
        if (!text[0]) hp_config_error(c, n, "must not be empty");
    }
    if ((n = hp_config_get(map, "index")) && (text = hp_config_string(c, n))) {
        m->index = hp__strdup(text);
        size_t len = strlen(text);
        if (len == 0 || len > 255 || strchr(text, '/'))
            hp_config_error(c, n, "an index is a file name: 1 to 255 characters, no \"/\"");
    }
    if ((n = hp_config_get(map, "precompressed"))) hp_config_boolean(c, n, &m->precompressed);
    if ((n = hp_config_get(map, "browse"))) hp_config_boolean(c, n, &m->browse);
    return m;
}

/* The root is opened here, when the server is built: a missing one is an error at its key. */
static int build(const void *model, hp_config_build *b, hp_handler **out)
{
    const hp__file_model *m = model;
    hp_file_options options = {
        .root = m->root, .index = m->index, .browse = m->browse, .precompressed = m->precompressed};
    int err = 0;
    *out = hp_file_handler_create(&options, &err);
    if (!*out)
        hp_config_build_error(b, "root", m->root_pos, "cannot serve \"%s\": %s", m->root,
                              hp_strerror(err));
    return *out ? 0 : err;
}

static void free_model(void *model)
{
    hp__file_model *m = model;
    free(m->root);
    free(m->index);
    free(m);
}

const hp_handler_kind hp__file_kind = {
    .key = "file",
    .check = check_settings,
    .build = build,
    .free_model = free_model,
};
