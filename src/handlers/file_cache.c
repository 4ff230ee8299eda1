#include "handlers/file_cache.h"

#include "common/alloc.h"
#include "handlers/mime.h"
#include "http/http_date.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BUCKETS 256

struct hp__file_cache {
    int root_fd;
    hp__file_entry **buckets; /* BUCKETS chains; NULL until the first file is cached, so the
                               * cache of a worker that never serves the root stays small */
    unsigned count;
    unsigned evict_cursor;
};

static uint32_t hash_path(const char *p, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

hp__file_cache *hp__file_cache_create(int root_fd)
{
    hp__file_cache *c = HP_NEW(hp__file_cache);
    c->root_fd = root_fd;
    return c;
}

static void entry_free(hp__file_entry *e)
{
    if (e->fd >= 0) close(e->fd);
    free(e->bytes);
    free(e->path);
    free(e);
}

/* Takes `e` out of the cache; frees it now unless a response still holds it. */
static void entry_unlink(hp__file_cache *c, hp__file_entry *e)
{
    hp__file_entry **pp = &c->buckets[e->hash % BUCKETS];
    while (*pp != e) pp = &(*pp)->next;
    *pp = e->next;
    e->linked = false;
    c->count--;
    if (e->refs == 0) entry_free(e);
}

void hp__file_cache_destroy(hp__file_cache *c)
{
    if (!c) return;
    for (int b = 0; c->buckets && b < BUCKETS; b++)
        while (c->buckets[b]) entry_unlink(c, c->buckets[b]);
    free(c->buckets);
    free(c);
}

static int status_of_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case EXDEV: /* RESOLVE_BENEATH: the path leads outside the root */
    case ELOOP:
        return 403;
    default:
        return 500;
    }
}

static int open_beneath(int root_fd, const char *path)
{
    struct open_how how = {
        /* O_NONBLOCK: opening a FIFO without a writer would block the worker forever; it
         * changes nothing for regular files, and anything else is refused after fstat */
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
}

static bool same_version(const hp__file_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == (uint64_t)st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static bool load_contents(hp__file_entry *e)
{
    e->bytes = hp__malloc(e->size ? e->size : 1);
    size_t got = 0;
    while (got < e->size) {
        ssize_t n = pread(e->fd, e->bytes + got, e->size - got, (off_t)got);
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return true;
}

static void describe(hp__file_entry *e, const struct stat *st, size_t path_len)
{
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = (uint64_t)st->st_size;
    e->mtime = st->st_mtim;
    e->type = hp__mime_type(e->path, path_len);
    hp__etag_format(e->etag, st->st_mtim, e->size, (uint64_t)st->st_ino);
    hp__http_date_format(st->st_mtim.tv_sec, e->last_modified);
}

/* Opens and describes a new entry, or returns NULL with an HTTP status. */
static hp__file_entry *entry_open(hp__file_cache *c, const char *path, size_t len, int *status)
{
    int fd = open_beneath(c->root_fd, path);
    if (fd < 0) {
        *status = status_of_errno(errno);
        return NULL;
    }
    struct stat st;
    int stat_failed = fstat(fd, &st);
    if (stat_failed || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        *status = stat_failed ? 500 : 403; /* devices, fifos, sockets are not served */
        close(fd);
        return NULL;
    }
    hp__file_entry *e = HP_NEW(hp__file_entry);
    e->path = hp__strndup(path, len);
    e->path_len = len;
    e->is_dir = S_ISDIR(st.st_mode);
    e->fd = fd;
    describe(e, &st, len);
    if (e->is_dir) {
        close(fd);
        e->fd = -1;
    } else if (e->size <= HP__FILE_SMALL && !load_contents(e)) {
        *status = 500;
        entry_free(e);
        return NULL;
    }
    return e;
}

/* Makes room by dropping one entry, starting where the last eviction stopped. */
static void evict_one(hp__file_cache *c)
{
    for (unsigned i = 0; i < BUCKETS; i++) {
        unsigned b = (c->evict_cursor + i) % BUCKETS;
        if (c->buckets[b]) {
            c->evict_cursor = b + 1;
            entry_unlink(c, c->buckets[b]);
            return;
        }
    }
}

static hp__file_entry *lookup(hp__file_cache *c, const char *path, size_t len, uint32_t hash)
{
    if (!c->buckets) return NULL;
    for (hp__file_entry *e = c->buckets[hash % BUCKETS]; e; e = e->next)
        if (e->hash == hash && e->path_len == len && memcmp(e->path, path, len) == 0) return e;
    return NULL;
}

hp__file_entry *hp__file_cache_get(hp__file_cache *c, const char *path, size_t len, time_t now,
                                   int *status)
{
    uint32_t hash = hash_path(path, len);
    hp__file_entry *e = lookup(c, path, len, hash);
    if (e && e->checked != now) {
        struct stat st;
        if (fstatat(c->root_fd, *path ? path : ".", &st, 0) == 0 && same_version(e, &st)) {
            e->checked = now;
        } else {
            entry_unlink(c, e);
            e = NULL;
        }
    }
    if (!e) {
        e = entry_open(c, path, len, status);
        if (!e) return NULL;
        if (!c->buckets) c->buckets = hp__calloc(BUCKETS, sizeof *c->buckets);
        if (c->count >= HP__FILE_CACHE_MAX) evict_one(c);
        e->hash = hash;
        e->checked = now;
        e->linked = true;
        e->next = c->buckets[hash % BUCKETS];
        c->buckets[hash % BUCKETS] = e;
        c->count++;
    }
    e->refs++;
    return e;
}

void hp__file_cache_release(hp__file_entry *e)
{
    if (--e->refs == 0 && !e->linked) entry_free(e);
}
