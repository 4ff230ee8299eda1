/* WebSocket frames (RFC 6455 §5.2) as the server writes them, and the one piece of reading done
 * by hand: how long a frame is.
 *
 * An hp__ws_frame is one whole frame's bytes, built once by wslay's frame writer (a server
 * frame: unmasked), immutable afterwards, and shared by reference: a message published to a
 * thousand connections on four workers is one frame with a thousand references. The count is
 * atomic, so any thread may take or drop a reference; the last drop frees it.
 *
 * Threads: hp__ws_frame_create may be called on any thread (each thread writes with a wslay
 * frame context of its own, made on first use and freed when the thread ends). */
#ifndef HP_WS_WS_FRAME_H
#define HP_WS_WS_FRAME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The opcodes of RFC 6455 §5.2 (wslay's enum wslay_opcode, repeated so that this header does
 * not need wslay's). */
enum {
    HP__WS_CONTINUATION = 0x0,
    HP__WS_TEXT = 0x1,
    HP__WS_BINARY = 0x2,
    HP__WS_CLOSE = 0x8,
    HP__WS_PING = 0x9,
    HP__WS_PONG = 0xa,
};

/* The most a frame header takes: 2 bytes, 8 of extended length, 4 of mask. */
#define HP__WS_HEADER_MAX 14

typedef struct hp__ws_frame {
    _Atomic uint32_t refs;
    uint8_t opcode;        /* of the frame: HP__WS_TEXT ... */
    bool compressed;       /* RSV1 set: the payload is deflated (RFC 7692) */
    uint8_t head_len;      /* bytes of the header, before the payload */
    size_t len;            /* bytes of the whole frame */
    unsigned char bytes[]; /* the header, then the payload */
} hp__ws_frame;

/* A final (FIN) frame of `opcode` carrying `payload` (copied), RSV1 set when `compressed`,
 * with one reference. Control frames carry at most 125 bytes. */
hp__ws_frame *hp__ws_frame_create(uint8_t opcode, const void *payload, size_t len, bool compressed);
/* A close frame with `code` and a reason (at most 123 bytes; NULL: none). */
hp__ws_frame *hp__ws_frame_close(uint16_t code, const char *reason);

static inline hp__ws_frame *hp__ws_frame_ref(hp__ws_frame *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}
/* Drops one reference; the last frees the frame. NULL is a no-op. */
void hp__ws_frame_unref(hp__ws_frame *f);

static inline const unsigned char *hp__ws_frame_payload(const hp__ws_frame *f)
{
    return f->bytes + f->head_len;
}
static inline size_t hp__ws_frame_payload_len(const hp__ws_frame *f)
{
    return f->len - f->head_len;
}

/* The length of the frame whose first bytes are bytes[0..len): returns true and the whole
 * frame's length (header, mask and payload) in *frame_len once its header is there, false
 * while more bytes are needed to know. Nothing else is checked here: the frame is wslay's to
 * parse. */
bool hp__ws_frame_peek(const unsigned char *bytes, size_t len, uint64_t *frame_len);

#endif
