#include "common/log.h"

#include "common/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int max_level = HP_LOG_INFO;
static const char *const level_names[] = {"error", "warning", "info", "debug"};
static char *file_path;               /* the error log file, or NULL: stderr (control thread) */
static _Atomic int first_stderr = -1; /* a dup of the first stderr, once 2 moved */

void hp__log(hp_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load_explicit(&max_level, memory_order_relaxed)) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hostpool: %s: %s\n", level_names[level], line);
}

void hp__log_set_level(hp_log_level level)
{
    atomic_store_explicit(&max_level, (int)level, memory_order_relaxed);
}

bool hp__log_level_parse(const char *name, hp_log_level *out)
{
    for (int i = HP_LOG_ERROR; i <= HP_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (hp_log_level)i;
            return true;
        }
    }
    return false;
}

static int open_onto_stderr(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    fflush(stderr);
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

bool hp__log_open_file(const char *path, char *err, size_t errlen)
{
    if (atomic_load(&first_stderr) < 0)
        atomic_store(&first_stderr, fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
    int rc = open_onto_stderr(path);
    if (rc < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(-rc));
        return false;
    }
    free(file_path);
    file_path = hp__strdup(path);
    return true;
}

bool hp__log_reopen(void)
{
    if (!file_path) return true;
    int rc = open_onto_stderr(file_path);
    if (rc < 0) hp__error("cannot reopen the error log %s: %s", file_path, strerror(-rc));
    return rc == 0;
}

int hp__log_stderr_fd(void)
{
    int fd = atomic_load_explicit(&first_stderr, memory_order_relaxed);
    return fd >= 0 ? fd : STDERR_FILENO;
}
