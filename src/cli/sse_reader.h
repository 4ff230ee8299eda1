/* Server-Sent Events read from a body that comes in pieces of any size (`hostpool events`,
 * `hostpool logs -f`): the bytes cut into lines ("\n", or "\r\n"), a blank line ending an
 * event. Of the fields only "event:" and "data:" are kept (data lines joined by "\n"); a
 * comment line (":...") is reported on its own. */
#ifndef HP_CLI_SSE_READER_H
#define HP_CLI_SSE_READER_H

#include <stddef.h>

typedef struct hp__sse_text {
    char *bytes; /* NUL-terminated when not NULL */
    size_t len;
} hp__sse_text;

typedef struct hp__sse_reader {
    /* An event: its "event:" name ("message" when it had none) and its data. */
    void (*on_event)(void *arg, const char *event, const char *data);
    /* A comment line, without its ':'; may be NULL. */
    void (*on_comment)(void *arg, const char *comment);
    void *arg;
    hp__sse_text line, event, data; /* the reader's */
} hp__sse_reader;

/* A body's next piece. */
void hp__sse_reader_feed(hp__sse_reader *r, const char *bytes, size_t len);
/* Frees the reader's buffers. */
void hp__sse_reader_close(hp__sse_reader *r);

#endif
