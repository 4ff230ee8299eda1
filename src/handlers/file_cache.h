/* A per-worker cache of open files under one root, for the file handler.
 *
 * Each worker has its own cache (touched only by its thread, no locks). An entry keeps the
 * open descriptor, the stat fields that identify the file's version, the prebuilt validator
 * headers (ETag, Last-Modified), the content type, and for small files (at most
 * HP__FILE_SMALL bytes) the contents themselves, so a hit costs no system call at all.
 *
 * Freshness: an entry is revalidated with one stat() at most once per second; if the inode,
 * size or modification time changed, the file is opened again. A change is therefore seen
 * within one second (nginx's open_file_cache_valid works the same way, at 60 s).
 *
 * Safety: files are opened with openat2(RESOLVE_BENEATH) relative to the root descriptor,
 * so neither ".." nor a symlink can reach outside the root; a symlink inside it is followed.
 *
 * Lifetime: responses borrow an entry (refs); an entry replaced or evicted while borrowed is
 * only unlinked, and freed when its last response ends. */
#ifndef HP_HANDLERS_FILE_CACHE_H
#define HP_HANDLERS_FILE_CACHE_H

#include "http/conditional.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HP__FILE_SMALL (16 * 1024)
#define HP__FILE_CACHE_MAX 1024

typedef struct hp__file_entry {
    struct hp__file_entry *next; /* hash chain */
    char *path;                  /* relative to the root; "" is the root */
    size_t path_len;
    uint32_t hash;
    unsigned refs;
    bool linked; /* still in the cache */
    bool is_dir;
    int fd; /* -1 for folders */
    dev_t dev;
    ino_t ino;
    uint64_t size;
    struct timespec mtime;
    time_t checked; /* wall-clock second of the last validation */
    char *bytes;    /* the contents when size <= HP__FILE_SMALL, else NULL */
    /* The file handler's precompressed siblings (PATH.br, PATH.gz): the codings found
     * (1 << hp__coding each) at the wall-clock second siblings_checked. */
    time_t siblings_checked;
    unsigned siblings;
    const char *type;
    char etag[HP__ETAG_MAX];
    char last_modified[32];
} hp__file_entry;

typedef struct hp__file_cache hp__file_cache;

hp__file_cache *hp__file_cache_create(int root_fd);
void hp__file_cache_destroy(hp__file_cache *cache);

/* The current entry for `path` (relative, normalized), borrowed: release it with
 * hp__file_cache_release(). On failure returns NULL and an HTTP status in *status
 * (404 missing, 403 not allowed or outside the root, 500 other errors). */
hp__file_entry *hp__file_cache_get(hp__file_cache *cache, const char *path, size_t len, time_t now,
                                   int *status);
void hp__file_cache_release(hp__file_entry *entry);

#endif
