/* Log files: opened by path on the control thread, shared by every server that writes to the
 * same path, reopened all at once on SIGUSR1 (logrotate's postrotate).
 *
 * An open log file is one file descriptor whose number never changes: a reopen opens the path
 * again and dup2()s the new description onto that number, then closes the new one. A worker's
 * write(2) in flight at that moment completes on the old description (the file logrotate
 * renamed) and its next write goes to the new file: no handshake with the workers and no
 * descriptor closed under a writer. Files are opened O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
 * mode 0644: each write(2) of a worker's buffer lands whole at the end, whatever the other
 * workers write.
 *
 * Every file has a slot number below HP__LOG_FILES_MAX, the index of a worker's buffer for it
 * (io/log_writer.h). References are counted under one mutex, taken on open, on release, on a
 * worker's first line to a file and on reopen, never per line: a server holds one, and a
 * worker that wrote to the file holds one until it stops, so the descriptor outlives every
 * buffer that may still hold lines for it. Lines a worker dropped because its buffer was full
 * are counted per file (hostpool_access_log_dropped_total).
 *
 * Threads: open, reopen and the walk on the control thread; fd, slot and the drop count on any
 * thread; ref and release on any thread. */
#ifndef HP_IO_LOG_FILE_H
#define HP_IO_LOG_FILE_H

#include <stddef.h>
#include <stdint.h>

#define HP__LOG_FILES_MAX 64 /* a worker's pending buffers are one 64-bit mask */

typedef struct hp__log_file hp__log_file;

/* The open file for `path` (the same object for the same path), with one more reference; or
 * an error, its reason in `err`: a negative errno ("cannot open PATH: Permission denied"), or
 * HP_ELIMIT past HP__LOG_FILES_MAX files. */
int hp__log_file_open(const char *path, hp__log_file **out, char *err, size_t errlen);
hp__log_file *hp__log_file_ref(hp__log_file *f);
/* Drops a reference; the last one closes the file. NULL is a no-op. */
void hp__log_file_release(hp__log_file *f);

int hp__log_file_fd(const hp__log_file *f);
unsigned hp__log_file_slot(const hp__log_file *f);
const char *hp__log_file_path(const hp__log_file *f);
/* Counts `lines` dropped lines. */
void hp__log_file_count_dropped(hp__log_file *f, uint64_t lines);

/* Reopens every open log file at its path. Returns how many could not be (each keeps writing
 * to its old file; the reason is logged). */
int hp__log_files_reopen(void);

/* Calls `fn` for each open file (under the lock: `fn` must not open or release one). */
void hp__log_files_walk(void (*fn)(void *data, const char *path, uint64_t dropped), void *data);

#endif
