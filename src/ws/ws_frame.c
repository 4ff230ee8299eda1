/* Frames: building them with wslay's frame writer, sharing them by reference, and reading a
 * frame's length from its header (ws_frame.h).
 *
 * Building: wslay_frame_send writes a frame through a send callback; here the callback appends
 * to the frame being built, which the thread names in `building` (one frame at a time per
 * thread). The wslay context is the thread's own (a pthread key frees it when the thread
 * ends), since any thread may build a frame (a publish from the control thread). */
#include "ws/ws_frame.h"

#include "common/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

static _Thread_local hp__ws_frame *building;

static ssize_t append(const uint8_t *data, size_t len, int flags, void *user)
{
    memcpy(building->bytes + building->len, data, len);
    building->len += len;
    return (ssize_t)len;
}

static pthread_key_t writer_key;
static pthread_once_t writer_once = PTHREAD_ONCE_INIT;

static void free_writer(void *ctx)
{
    wslay_frame_context_free(ctx);
}

static void make_key(void)
{
    pthread_key_create(&writer_key, free_writer);
}

static wslay_frame_context_ptr thread_writer(void)
{
    pthread_once(&writer_once, make_key);
    wslay_frame_context_ptr ctx = pthread_getspecific(writer_key);
    if (ctx) return ctx;
    static const struct wslay_frame_callbacks callbacks = {.send_callback = append};
    if (wslay_frame_context_init(&ctx, &callbacks, NULL) != 0) {
        fputs("hostpool: out of memory\n", stderr);
        abort();
    }
    pthread_setspecific(writer_key, ctx);
    return ctx;
}

hp__ws_frame *hp__ws_frame_create(uint8_t opcode, const void *payload, size_t len, bool compressed)
{
    hp__ws_frame *f = hp__malloc(sizeof *f + HP__WS_HEADER_MAX + len);
    atomic_init(&f->refs, 1);
    f->opcode = opcode;
    f->compressed = compressed;
    f->len = 0;
    struct wslay_frame_iocb iocb = {
        .fin = 1,
        .rsv = compressed ? WSLAY_RSV1_BIT : WSLAY_RSV_NONE,
        .opcode = opcode,
        .payload_length = len,
        .data = payload,
        .data_length = len,
    };
    building = f;
    wslay_frame_context_ptr ctx = thread_writer();
    /* The callback takes everything: one call writes the header, then the payload (none for
     * an empty payload, when the header alone was the frame). */
    ssize_t sent = wslay_frame_send(ctx, &iocb);
    building = NULL;
    if (sent != (ssize_t)len) abort(); /* only an invalid argument: a caller's bug */
    f->head_len = (uint8_t)(f->len - len);
    return f;
}

hp__ws_frame *hp__ws_frame_close(uint16_t code, const char *reason)
{
    unsigned char payload[125];
    size_t n = reason ? strnlen(reason, 123) : 0;
    payload[0] = (unsigned char)(code >> 8);
    payload[1] = (unsigned char)code;
    if (n) memcpy(payload + 2, reason, n);
    return hp__ws_frame_create(HP__WS_CLOSE, payload, 2 + n, false);
}

void hp__ws_frame_unref(hp__ws_frame *f)
{
    if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) free(f);
}

bool hp__ws_frame_peek(const unsigned char *bytes, size_t len, uint64_t *frame_len)
{
    if (len < 2) return false;
    size_t head = 2;
    uint64_t payload = bytes[1] & 0x7f;
    size_t extended = payload == 126 ? 2 : payload == 127 ? 8 : 0;
    if (len < head + extended) return false;
    if (extended) {
        payload = 0;
        for (size_t i = 0; i < extended; i++) payload = payload << 8 | bytes[head + i];
        head += extended;
    }
    if (bytes[1] & 0x80) head += 4; /* the mask key */
    /* A length with its top bit set is a protocol error wslay reports; cap it so the sum
     * cannot wrap. */
    if (payload > (UINT64_MAX >> 1)) payload = UINT64_MAX >> 1;
    *frame_len = head + payload;
    return true;
}
