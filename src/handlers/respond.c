/* respond: a fixed answer (status, headers, body), prebuilt once at creation.
 *
 * Header names and values are copied once with their lengths; the body is sent by reference
 * (it lives as long as the handler, which outlives every request using it). Answers every
 * method, as nginx's `return` does. */
#include "common/alloc.h"
#include "hostpool/handler.h"

#include <stdlib.h>
#include <string.h>

typedef struct respond_handler {
    hp_handler base;
    int status;
    char *body;
    size_t body_len;
    size_t header_count;
    char **names, **values;
    size_t *name_lens, *value_lens;
} respond_handler;

static void on_request(hp_handler *self, hp_request *req)
{
    respond_handler *h = (respond_handler *)self;
    for (size_t i = 0; i < h->header_count; i++)
        hp_response_header(req, h->names[i], h->name_lens[i], h->values[i], h->value_lens[i]);
    hp_respond(req, h->status, h->body, h->body_len);
}

static void destroy(hp_handler *self)
{
    respond_handler *h = (respond_handler *)self;
    for (size_t i = 0; i < h->header_count; i++) {
        free(h->names[i]);
        free(h->values[i]);
    }
    free(h->names);
    free(h->values);
    free(h->name_lens);
    free(h->value_lens);
    free(h->body);
    free(h);
}

static hp_handler *clone(const hp_handler *self);

static const hp_handler_vtable respond_vtable = {"respond", on_request, destroy, clone, NULL};

hp_handler *hp_respond_handler_create(int status, const char *body, size_t body_len,
                                      const char *const *headers, size_t header_count)
{
    if (status < 200 || status > 999) return NULL;
    respond_handler *h = HP_NEW(respond_handler);
    h->base.vt = &respond_vtable;
    h->status = status;
    h->body = hp__memdup(body ? body : "", body ? body_len : 0);
    h->body_len = body ? body_len : 0;
    h->header_count = header_count;
    h->names = hp__calloc(header_count, sizeof *h->names);
    h->values = hp__calloc(header_count, sizeof *h->values);
    h->name_lens = hp__calloc(header_count, sizeof *h->name_lens);
    h->value_lens = hp__calloc(header_count, sizeof *h->value_lens);
    for (size_t i = 0; i < header_count; i++) {
        h->names[i] = hp__strdup(headers[2 * i]);
        h->values[i] = hp__strdup(headers[2 * i + 1]);
        h->name_lens[i] = strlen(h->names[i]);
        h->value_lens[i] = strlen(h->values[i]);
    }
    return &h->base;
}

static hp_handler *clone(const hp_handler *self)
{
    const respond_handler *h = (const respond_handler *)self;
    const char **headers = hp__calloc(2 * h->header_count + 1, sizeof *headers);
    for (size_t i = 0; i < h->header_count; i++) {
        headers[2 * i] = h->names[i];
        headers[2 * i + 1] = h->values[i];
    }
    hp_handler *copy =
        hp_respond_handler_create(h->status, h->body, h->body_len, headers, h->header_count);
    free(headers);
    return copy;
}
