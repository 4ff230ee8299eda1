#include "io/log_writer.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (const char *p = s, *end = s + len; (p = memchr(p, '\n', (size_t)(end - p))); p++) n++;
    return n;
}

/* One buffer's lines to its file; what the file refuses is counted as dropped. */
static void write_buffer(hp__log_buffer *b)
{
    size_t done = 0;
    while (done < b->len) {
        ssize_t n = write(hp__log_file_fd(b->file), b->base + done, b->len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            hp__log_file_count_dropped(b->file, count_lines(b->base + done, b->len - done));
            break;
        }
    }
    b->len = 0;
}

static void flush_all(hp__log_writer *w)
{
    for (; w->pending; w->pending &= w->pending - 1)
        write_buffer(&w->buffers[__builtin_ctzll(w->pending)]);
}

static void on_flush(uv_prepare_t *p)
{
    hp__log_writer *w = p->data;
    flush_all(w);
    uv_prepare_stop(p);
}

void hp__log_writer_init(hp__log_writer *w, uv_loop_t *loop)
{
    memset(w, 0, sizeof *w);
    uv_prepare_init(loop, &w->flush);
    w->flush.data = w;
}

void hp__log_writer_append(hp__log_writer *w, hp__log_file *file, size_t buffer_bytes,
                           const char *line, size_t len)
{
    if (!w->buffers) w->buffers = hp__calloc(HP__LOG_FILES_MAX, sizeof *w->buffers);
    hp__log_buffer *b = &w->buffers[hp__log_file_slot(file)];
    if (!b->file) b->file = hp__log_file_ref(file);
    /* The largest buffer a server of this file asked for: a reload may grow it; servers
     * sharing a path with different sizes do not make it shrink and grow line by line. */
    size_t cap = buffer_bytes ? buffer_bytes : HP__LOG_WRITER_DEFAULT_BYTES;
    if (cap > b->cap) {
        b->base = hp__realloc(b->base, cap);
        b->cap = cap;
    }
    if (len > b->cap - b->len) {
        hp__log_file_count_dropped(file, 1);
        return;
    }
    memcpy(b->base + b->len, line, len);
    b->len += len;
    if (w->stopped) {
        write_buffer(b); /* an exchange ended after the worker's exit began */
        return;
    }
    if (!w->pending) uv_prepare_start(&w->flush, on_flush);
    w->pending |= (uint64_t)1 << hp__log_file_slot(file);
}

void hp__log_writer_stop(hp__log_writer *w)
{
    flush_all(w);
    w->stopped = true;
    uv_close((uv_handle_t *)&w->flush, NULL);
}

void hp__log_writer_close(hp__log_writer *w)
{
    if (!w->buffers) return;
    for (unsigned i = 0; i < HP__LOG_FILES_MAX; i++) {
        hp__log_buffer *b = &w->buffers[i];
        if (!b->file) continue;
        if (b->len) write_buffer(b);
        hp__log_file_release(b->file);
        free(b->base);
    }
    free(w->buffers);
    w->buffers = NULL;
}
