#include "handlers/file_listing.h"

#include "common/alloc.h"
#include "common/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_BYTES 4096

typedef struct entry {
    char *name;
    bool dir;
    uint64_t size;
    time_t mtime;
} entry;

typedef struct listing {
    entry *entries;
    size_t count;
    bool truncated;
} listing;

/* A growing text: the answer's body. */
typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t len)
{
    if (t->len + len > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + len) cap *= 2;
        t->buf = hp__realloc(t->buf, cap);
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, len);
    t->len += len;
}

static void puts_(text *t, const char *s)
{
    put(t, s, strlen(s));
}

static int open_beneath(int root_fd, const char *path, uint64_t flags)
{
    struct open_how how = {
        .flags = flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
}

static int status_of_errno(int err)
{
    if (err == ENOENT || err == ENOTDIR) return 404;
    if (err == EACCES || err == EPERM || err == EXDEV || err == ELOOP) return 403;
    return 500;
}

/* What a symbolic link of the folder leads to, resolved beneath the root; false when it
 * leads outside it or nowhere. */
static bool link_target(int root_fd, const char *folder, size_t len, const char *name,
                        struct stat *st)
{
    char path[PATH_MAX_BYTES];
    int n = snprintf(path, sizeof path, "%.*s%s%s", (int)len, folder, len ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof path) return false;
    int fd = open_beneath(root_fd, path, O_PATH);
    if (fd < 0) return false;
    bool ok = fstat(fd, st) == 0;
    close(fd);
    return ok;
}

/* Reads the visible entries of `d` (at most HP__FILE_LISTING_MAX) into `l`. */
static void read_entries(DIR *d, int root_fd, const char *folder, size_t len, listing *l)
{
    l->entries = hp__calloc(HP__FILE_LISTING_MAX, sizeof *l->entries);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue; /* ".", ".." and dotfiles */
        if (l->count == HP__FILE_LISTING_MAX) {
            l->truncated = true;
            return;
        }
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(st.st_mode) && !link_target(root_fd, folder, len, de->d_name, &st)) continue;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
        l->entries[l->count++] = (entry){
            .name = hp__strdup(de->d_name),
            .dir = S_ISDIR(st.st_mode),
            .size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
            .mtime = st.st_mtim.tv_sec,
        };
    }
}

static void listing_free(listing *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->entries[i].name);
    free(l->entries);
}

/* Folders first, then by name (bytes). */
static int entry_order(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->dir != y->dir) return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* ---- HTML ---- */

static void put_html(text *t, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            puts_(t, "&amp;");
            break;
        case '<':
            puts_(t, "&lt;");
            break;
        case '>':
            puts_(t, "&gt;");
            break;
        case '"':
            puts_(t, "&quot;");
            break;
        case '\'':
            puts_(t, "&#39;");
            break;
        default:
            put(t, &s[i], 1);
        }
    }
}

/* A name as a relative link: every byte but the unreserved ones percent-escaped, so no name
 * reads as a scheme ("javascript:"), a query, a fragment or markup. */
static void put_link(text *t, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            put(t, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            put(t, esc, 3);
        }
    }
}

static void put_time(text *t, time_t when, const char *format)
{
    struct tm tm;
    char buf[32];
    gmtime_r(&when, &tm);
    put(t, buf, strftime(buf, sizeof buf, format, &tm));
}

static void html_row(text *t, const entry *e)
{
    char size[24];
    puts_(t, "<tr><td><a href=\"");
    put_link(t, e->name);
    if (e->dir) puts_(t, "/");
    puts_(t, "\">");
    put_html(t, e->name, strlen(e->name));
    if (e->dir) puts_(t, "/");
    puts_(t, "</a></td><td>");
    if (e->dir)
        puts_(t, "-");
    else
        put(t, size, (size_t)snprintf(size, sizeof size, "%llu", (unsigned long long)e->size));
    puts_(t, "</td><td>");
    put_time(t, e->mtime, "%Y-%m-%d %H:%M:%S");
    puts_(t, "</td></tr>\n");
}

static void html(text *t, hp_str where, bool at_root, const listing *l)
{
    puts_(t, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    put_html(t, where.base, where.len);
    puts_(t, "</title></head>\n<body>\n<h1>Index of ");
    put_html(t, where.base, where.len);
    puts_(t, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n");
    if (!at_root) puts_(t, "<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n");
    for (size_t i = 0; i < l->count; i++) html_row(t, &l->entries[i]);
    puts_(t, "</table>\n");
    if (l->truncated) {
        char note[128];
        put(t, note,
            (size_t)snprintf(note, sizeof note,
                             "<p>This folder holds more entries: %d of them are listed.</p>\n",
                             HP__FILE_LISTING_MAX));
    }
    puts_(t, "</body></html>\n");
}

/* ---- JSON ---- */

/* A name as a JSON string; a byte that is not valid UTF-8 becomes U+FFFD. */
static void put_json_string(text *t, const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t len = strlen(name);
    puts_(t, "\"");
    for (size_t i = 0; i < len;) {
        char esc[8];
        if (s[i] == '"' || s[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)s[i];
            put(t, esc, 2);
            i++;
        } else if (s[i] < 0x20) {
            put(t, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", s[i]));
            i++;
        } else if (s[i] < 0x80) {
            put(t, (const char *)&s[i], 1);
            i++;
        } else {
            size_t n = hp__utf8_sequence(s + i, len - i);
            if (n)
                put(t, (const char *)&s[i], n);
            else
                puts_(t, "\\ufffd");
            i += n ? n : 1;
        }
    }
    puts_(t, "\"");
}

static void json(text *t, const listing *l)
{
    puts_(t, "[");
    for (size_t i = 0; i < l->count; i++) {
        const entry *e = &l->entries[i];
        char size[24];
        puts_(t, i ? ",\n {\"name\": " : "{\"name\": ");
        put_json_string(t, e->name);
        puts_(t, e->dir ? ", \"type\": \"dir\", \"size\": " : ", \"type\": \"file\", \"size\": ");
        put(t, size, (size_t)snprintf(size, sizeof size, "%llu", (unsigned long long)e->size));
        puts_(t, ", \"mtime\": \"");
        put_time(t, e->mtime, "%Y-%m-%dT%H:%M:%SZ");
        puts_(t, "\"}");
    }
    puts_(t, "]\n");
}

/* ---- the answer ---- */

static bool wants_json(const hp_request *req)
{
    const hp_str *accept = hp_request_header(req, "accept");
    static const char type[] = "application/json";
    if (!accept) return false;
    for (size_t i = 0; i + sizeof type - 1 <= accept->len; i++)
        if (hp__mem_ieq(accept->base + i, type, sizeof type - 1)) return true;
    return false;
}

static void free_body(hp_request *req, bool ok, void *body)
{
    free(body);
}

static void header(hp_request *req, const char *name, const char *value)
{
    hp_response_header(req, name, strlen(name), value, strlen(value));
}

void hp__file_listing_respond(hp_request *req, int root_fd, const char *path, size_t len)
{
    int fd = open_beneath(root_fd, path, O_RDONLY | O_DIRECTORY);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int err = errno;
        if (fd >= 0) close(fd);
        hp_respond_error(req, status_of_errno(err));
        return;
    }
    listing l = {0};
    read_entries(d, root_fd, path, len, &l);
    closedir(d);
    qsort(l.entries, l.count, sizeof *l.entries, entry_order);
    text body = {0};
    bool as_json = wants_json(req);
    if (as_json)
        json(&body, &l);
    else
        html(&body, req->path, len == 0, &l);
    listing_free(&l);
    header(req, "Vary", "Accept");
    header(req, "Content-Type", as_json ? "application/json" : "text/html; charset=utf-8");
    if (as_json && l.truncated) {
        char limit[16];
        snprintf(limit, sizeof limit, "%d", HP__FILE_LISTING_MAX);
        header(req, "Listing-Truncated", limit);
    }
    hp_request_on_done(req, free_body, body.buf);
    hp_respond(req, 200, body.buf, body.len);
}
