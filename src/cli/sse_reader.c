#include "cli/sse_reader.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static void text_append(hp__sse_text *t, const char *bytes, size_t len)
{
    t->bytes = hp__realloc(t->bytes, t->len + len + 1);
    memcpy(t->bytes + t->len, bytes, len);
    t->len += len;
    t->bytes[t->len] = '\0';
}

static void text_set(hp__sse_text *t, const char *s)
{
    t->len = 0;
    text_append(t, s, strlen(s));
}

/* The value of field `name` in `line`, or NULL: "name:" and one optional space. */
static const char *field(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ':') return NULL;
    return line + n + 1 + (line[n + 1] == ' ');
}

static void end_event(hp__sse_reader *r)
{
    if (r->data.len || r->event.len)
        r->on_event(r->arg, r->event.len ? r->event.bytes : "message",
                    r->data.bytes ? r->data.bytes : "");
    r->data.len = r->event.len = 0;
    if (r->data.bytes) r->data.bytes[0] = '\0';
}

static void on_line(hp__sse_reader *r, char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
    const char *value;
    if (len == 0) {
        end_event(r);
    } else if (line[0] == ':') {
        if (r->on_comment) r->on_comment(r->arg, line + 1);
    } else if ((value = field(line, "data"))) {
        if (r->data.len) text_append(&r->data, "\n", 1);
        text_append(&r->data, value, strlen(value));
    } else if ((value = field(line, "event"))) {
        text_set(&r->event, value);
    }
}

void hp__sse_reader_feed(hp__sse_reader *r, const char *bytes, size_t len)
{
    while (len > 0) {
        const char *newline = memchr(bytes, '\n', len);
        size_t piece = newline ? (size_t)(newline - bytes) : len;
        text_append(&r->line, bytes, piece);
        if (!newline) return;
        on_line(r, r->line.bytes, r->line.len);
        r->line.len = 0;
        bytes += piece + 1;
        len -= piece + 1;
    }
}

void hp__sse_reader_close(hp__sse_reader *r)
{
    free(r->line.bytes);
    free(r->event.bytes);
    free(r->data.bytes);
}
