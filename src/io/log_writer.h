/* A worker's buffered writes to log files (io/log_file.h): lines are appended to the worker's
 * buffer for their file and written once per loop iteration, so a request never waits on a
 * disk.
 *
 * One buffer per log file slot, allocated at the worker's first line to that file (its size is
 * the first writer's `buffer_bytes`), then reused: nothing is allocated per line. A line that
 * does not fit in what is left of the buffer is dropped and counted on the file (a burst larger
 * than the buffer within one iteration, or a disk slower than the requests). The first
 * append of an iteration starts a uv_prepare handle, which runs before the loop next waits
 * for I/O: it writes every non-empty buffer with one write(2) each (to a regular file opened
 * O_APPEND) and stops itself. The worker's exit flushes what is left.
 *
 * Threads: all of it on the worker's thread, but init (before the thread starts) and close
 * (after its loop ended). */
#ifndef HP_IO_LOG_WRITER_H
#define HP_IO_LOG_WRITER_H

#include "io/log_file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HP__LOG_WRITER_DEFAULT_BYTES (64 * 1024)

typedef struct hp__log_buffer {
    hp__log_file *file; /* a reference, taken at the first line; NULL: unused */
    char *base;
    size_t len, cap;
} hp__log_buffer;

typedef struct hp__log_writer {
    uv_prepare_t flush;
    hp__log_buffer *buffers; /* HP__LOG_FILES_MAX, by file slot; NULL until the first line */
    uint64_t pending;        /* a bit per slot whose buffer holds lines */
    bool stopped;
} hp__log_writer;

void hp__log_writer_init(hp__log_writer *w, uv_loop_t *loop);
/* Appends one line (with its newline) for `file`, or drops and counts it. `buffer_bytes` sizes
 * the buffer when this is the worker's first line to the file (0: the default). */
void hp__log_writer_append(hp__log_writer *w, hp__log_file *file, size_t buffer_bytes,
                           const char *line, size_t len);
/* Writes every buffer now and closes the handle (the worker's exit). */
void hp__log_writer_stop(hp__log_writer *w);
/* Writes what is left, releases the files and frees the buffers (the loop has ended). */
void hp__log_writer_close(hp__log_writer *w);

#endif
