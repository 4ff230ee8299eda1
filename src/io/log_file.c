#include "io/log_file.h"

#include "common/alloc.h"
#include "common/log.h"
#include "hostpool/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hp__log_file {
    char *path;
    int fd;
    unsigned slot;
    unsigned refs; /* under `lock` */
    _Atomic uint64_t dropped;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hp__log_file *files[HP__LOG_FILES_MAX]; /* by slot; under `lock` */

static int open_path(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* The file already open at `path`, or a free slot in *free_slot (HP__LOG_FILES_MAX: none). */
static hp__log_file *find(const char *path, unsigned *free_slot)
{
    *free_slot = HP__LOG_FILES_MAX;
    for (unsigned i = 0; i < HP__LOG_FILES_MAX; i++) {
        if (files[i] && strcmp(files[i]->path, path) == 0) return files[i];
        if (!files[i] && *free_slot == HP__LOG_FILES_MAX) *free_slot = i;
    }
    return NULL;
}

int hp__log_file_open(const char *path, hp__log_file **out, char *err, size_t errlen)
{
    pthread_mutex_lock(&lock);
    unsigned slot;
    hp__log_file *f = find(path, &slot);
    int rc = 0, fd = -1;
    if (f) {
        f->refs++;
    } else if (slot == HP__LOG_FILES_MAX) {
        snprintf(err, errlen, "cannot open %s: more than %d log files", path, HP__LOG_FILES_MAX);
        rc = HP_ELIMIT;
    } else if ((fd = open_path(path)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    } else {
        f = HP_NEW(hp__log_file);
        f->path = hp__strdup(path);
        f->fd = fd;
        f->slot = slot;
        f->refs = 1;
        files[slot] = f;
    }
    pthread_mutex_unlock(&lock);
    *out = f;
    return rc;
}

hp__log_file *hp__log_file_ref(hp__log_file *f)
{
    pthread_mutex_lock(&lock);
    f->refs++;
    pthread_mutex_unlock(&lock);
    return f;
}

void hp__log_file_release(hp__log_file *f)
{
    if (!f) return;
    pthread_mutex_lock(&lock);
    bool last = --f->refs == 0;
    if (last) files[f->slot] = NULL;
    pthread_mutex_unlock(&lock);
    if (!last) return;
    close(f->fd);
    free(f->path);
    free(f);
}

int hp__log_file_fd(const hp__log_file *f)
{
    return f->fd;
}

unsigned hp__log_file_slot(const hp__log_file *f)
{
    return f->slot;
}

const char *hp__log_file_path(const hp__log_file *f)
{
    return f->path;
}

void hp__log_file_count_dropped(hp__log_file *f, uint64_t lines)
{
    atomic_fetch_add_explicit(&f->dropped, lines, memory_order_relaxed);
}

int hp__log_files_reopen(void)
{
    int failed = 0;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < HP__LOG_FILES_MAX; i++) {
        hp__log_file *f = files[i];
        if (!f) continue;
        int fd = open_path(f->path);
        if (fd < 0 || dup2(fd, f->fd) < 0) {
            hp__error("cannot reopen the log file %s: %s; writing on to the old one", f->path,
                      strerror(errno));
            failed++;
        }
        if (fd >= 0) close(fd);
    }
    pthread_mutex_unlock(&lock);
    return failed;
}

void hp__log_files_walk(void (*fn)(void *data, const char *path, uint64_t dropped), void *data)
{
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < HP__LOG_FILES_MAX; i++)
        if (files[i])
            fn(data, files[i]->path,
               atomic_load_explicit(&files[i]->dropped, memory_order_relaxed));
    pthread_mutex_unlock(&lock);
}
