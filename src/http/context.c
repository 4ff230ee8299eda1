#include "http/context.h"

#include "common/alloc.h"
#include "common/log.h"
#include "http/access_log.h"
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
    uint32_t prefix = (uint32_t)((uint64_t)ts.tv_sec * 2654435761u ^ (uint64_t)ts.tv_nsec ^
                                 (uint64_t)getpid() << 16);
    /* prefix (8 hex), worker (2 hex), counter (10 hex, counted up from 0) */
    snprintf(ctx->request_id, sizeof ctx->request_id, "%08x%02x%010x", prefix, worker & 0xffu, 0u);
    hp__http_context_observe(ctx, hp__exchange_count, ctx);
    hp__http_context_observe(ctx, hp__access_log_exchange, ctx);
}

void hp__http_context_observe(hp__http_context *ctx, hp__exchange_end_cb ended, void *data)
{
    if (ctx->observer_count == HP__OBSERVERS_MAX) {
        hp__error("more than %d exchange observers", HP__OBSERVERS_MAX);
        abort();
    }
    ctx->observers[ctx->observer_count++] = (hp__exchange_observer){ended, data};
}

static void free_list(hp__free_block *b)
{
    while (b) {
        hp__free_block *next = b->next;
        free(b);
        b = next;
    }
}

void hp__http_context_close(hp__http_context *ctx)
{
    for (int c = 0; c < HP__BUF_CLASSES; c++) free_list(ctx->buffers[c]);
    hp__exchange_freelist_clear(ctx);
    memset(ctx->buffers, 0, sizeof ctx->buffers);
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

/* The id is kept formatted in ctx->request_id and counted up in place, in hex, like an
 * odometer: a few instructions per request instead of formatting 20 digits. */
void hp__http_request_id(hp__http_context *ctx, char out[HP__REQUEST_ID_LEN])
{
    char *id = ctx->request_id;
    for (int i = HP__REQUEST_ID_LEN - 1; i >= 10; i--) {
        if (id[i] == '9') {
            id[i] = 'a';
            break;
        }
        if (id[i] != 'f') {
            id[i]++;
            break;
        }
        id[i] = '0';
    }
    memcpy(out, id, HP__REQUEST_ID_LEN);
}
