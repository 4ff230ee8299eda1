#include "http/context.h"

#include "common/alloc.h"
#include "http/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hp__http_context_init(hp__http_context *ctx, unsigned worker)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->worker = worker;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Unique enough across restarts: seconds and nanoseconds of start mixed with the pid. */
    ctx->request_id_prefix = (uint32_t)((uint64_t)ts.tv_sec * 2654435761u ^ (uint64_t)ts.tv_nsec ^
                                        (uint64_t)getpid() << 16);
}

static void free_list(hp__free_block *b)
{
    while (b) {
        hp__free_block *next = b->next;
        free(b);
        b = next;
    }
}

/* A recycled exchange keeps its buffers (exchange.h): they go with it. */
static void free_exchanges(hp__free_block *b)
{
    while (b) {
        hp__free_block *next = b->next;
        hp__exchange *x = (hp__exchange *)b;
        free(x->extra);
        free(x->body);
        free(x->heap_headers);
        free(x);
        b = next;
    }
}

void hp__http_context_close(hp__http_context *ctx)
{
    for (int c = 0; c < HP__BUF_CLASSES; c++) free_list(ctx->buffers[c]);
    free_exchanges(ctx->exchanges);
    memset(ctx->buffers, 0, sizeof ctx->buffers);
    ctx->exchanges = NULL;
}

const char *hp__http_date_line(hp__http_context *ctx, size_t *len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != ctx->date_second || ctx->date_line_len == 0) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        ctx->date_line_len = strftime(ctx->date_line, sizeof ctx->date_line,
                                      "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        ctx->date_second = ts.tv_sec;
    }
    *len = ctx->date_line_len;
    return ctx->date_line;
}

static int size_class(size_t size)
{
    int c = 0;
    size_t cap = 4096;
    while (cap < size && c < HP__BUF_CLASSES) cap <<= 1, c++;
    return c;
}

char *hp__http_buffer_get(hp__http_context *ctx, size_t size, size_t *capacity)
{
    int c = size_class(size);
    if (c >= HP__BUF_CLASSES) {
        *capacity = size;
        return hp__malloc(size);
    }
    *capacity = (size_t)4096 << c;
    hp__free_block *b = ctx->buffers[c];
    if (!b) return hp__malloc(*capacity);
    ctx->buffers[c] = b->next;
    ctx->buffer_count[c]--;
    return (char *)b;
}

void hp__http_buffer_put(hp__http_context *ctx, char *buf, size_t capacity)
{
    int c = size_class(capacity);
    if (c >= HP__BUF_CLASSES || ((size_t)4096 << c) != capacity ||
        ctx->buffer_count[c] >= HP__FREELIST_MAX) {
        free(buf);
        return;
    }
    hp__free_block *b = (hp__free_block *)buf;
    b->next = ctx->buffers[c];
    ctx->buffers[c] = b;
    ctx->buffer_count[c]++;
}

void hp__http_request_id(hp__http_context *ctx, char out[HP__REQUEST_ID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t seq = ++ctx->request_seq;
    uint32_t prefix = ctx->request_id_prefix;
    for (int i = 7; i >= 0; i--, prefix >>= 4) out[i] = hex[prefix & 15];
    out[8] = hex[(ctx->worker >> 4) & 15];
    out[9] = hex[ctx->worker & 15];
    for (int i = 19; i >= 10; i--, seq >>= 4) out[i] = hex[seq & 15];
}
