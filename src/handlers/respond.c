/* respond: a fixed answer (status, headers, body), prebuilt once at creation.
 *
 * Header names and values are copied once with their lengths; the body is sent by reference
 * (it lives as long as the handler, which outlives every request using it). Answers every
 * method, as nginx's `return` does. */
#include "common/alloc.h"
#include "common/block.h"
#include "hostpool/handler.h"

#include <stdlib.h>
#include <string.h>

/* One allocation (common/block.h) holds the handler, its headers and then the bytes they and
 * the body point to. */
typedef struct respond_handler {
    hp_handler base;
    int status;
    hp_str body;
    size_t header_count;
    hp_header headers[]; /* then the text: body, each name and value NUL-terminated */
} respond_handler;

static void on_request(hp_handler *self, hp_request *req)
{
    respond_handler *h = (respond_handler *)self;
    for (size_t i = 0; i < h->header_count; i++) {
        const hp_header *hd = &h->headers[i];
        hp_response_header(req, hd->name.base, hd->name.len, hd->value.base, hd->value.len);
    }
    hp_respond(req, h->status, h->body.base, h->body.len);
}

static void destroy(hp_handler *self)
{
    free(self);
}

static hp_handler *clone(const hp_handler *self);

static const hp_handler_vtable respond_vtable = {
    .name = "respond",
    .on_request = on_request,
    .destroy = destroy,
    .clone = clone,
};

static hp_str take_text(hp__block *b, const char *from, size_t len)
{
    return (hp_str){hp__block_copy(b, from, len), len};
}

hp_handler *hp_respond_handler_create(int status, const char *body, size_t body_len,
                                      const char *const *headers, size_t header_count)
{
    if (status < 200 || status > 999) return NULL;
    if (!body) body_len = 0;
    size_t text_len = body_len + 1;
    for (size_t i = 0; i < 2 * header_count; i++) text_len += strlen(headers[i]) + 1;
    respond_handler *h = hp__calloc(1, sizeof *h + header_count * sizeof h->headers[0] + text_len);
    hp__block text = {(char *)&h->headers[header_count]};
    h->base.vt = &respond_vtable;
    h->status = status;
    h->body = take_text(&text, body, body_len);
    h->header_count = header_count;
    for (size_t i = 0; i < header_count; i++) {
        const char *name = headers[2 * i], *value = headers[2 * i + 1];
        h->headers[i].name = take_text(&text, name, strlen(name));
        h->headers[i].value = take_text(&text, value, strlen(value));
    }
    return &h->base;
}

static hp_handler *clone(const hp_handler *self)
{
    const respond_handler *h = (const respond_handler *)self;
    const char **headers = hp__calloc(2 * h->header_count + 1, sizeof *headers);
    for (size_t i = 0; i < h->header_count; i++) {
        headers[2 * i] = h->headers[i].name.base;
        headers[2 * i + 1] = h->headers[i].value.base;
    }
    hp_handler *copy =
        hp_respond_handler_create(h->status, h->body.base, h->body.len, headers, h->header_count);
    free(headers);
    return copy;
}
