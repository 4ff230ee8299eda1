/* The raw WebSocket client of hp_test_ws.h. */
#include "hp_test_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp_test_ws_handshake(hp_test_conn *c, const char *path)
{
    char request[512];
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
             path);
    int rc = hp_test_send_str(c, request, HP_TEST_DEADLINE_MS);
    if (rc != HP_TEST_OK) return rc;
    hp_test_response r;
    rc = hp_test_read_response(c, &r, true, HP_TEST_DEADLINE_MS);
    if (rc != HP_TEST_OK) return rc;
    int status = r.status;
    hp_test_response_free(&r);
    return status;
}

int hp_test_ws_send(hp_test_conn *c, uint8_t first, bool masked, const void *payload, size_t len)
{
    unsigned char *frame = malloc(14 + len);
    size_t n = 0;
    frame[n++] = first;
    uint8_t mask_bit = masked ? 0x80 : 0;
    if (len < 126) {
        frame[n++] = mask_bit | (uint8_t)len;
    } else if (len < 65536) {
        frame[n++] = mask_bit | 126;
        frame[n++] = (uint8_t)(len >> 8);
        frame[n++] = (uint8_t)len;
    } else {
        frame[n++] = mask_bit | 127;
        for (int i = 7; i >= 0; i--) frame[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) memcpy(frame + n, key, 4), n += 4;
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++) frame[n + i] = masked ? p[i] ^ key[i % 4] : p[i];
    int rc = hp_test_send(c, frame, n + len, HP_TEST_DEADLINE_MS);
    free(frame);
    return rc;
}

/* The length of the frame at the start of the buffer, 0 while its header is not all there. */
static size_t buffered_frame(const hp_test_conn *c, size_t *head, uint64_t *payload)
{
    const unsigned char *b = (const unsigned char *)c->buf;
    if (c->len < 2) return 0;
    size_t h = 2;
    uint64_t len = b[1] & 0x7f;
    size_t extended = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (c->len < h + extended) return 0;
    if (extended) {
        len = 0;
        for (size_t i = 0; i < extended; i++) len = len << 8 | b[h + i];
        h += extended;
    }
    if (b[1] & 0x80) h += 4;
    *head = h;
    *payload = len;
    return h + (size_t)len;
}

bool hp_test_ws_read(hp_test_conn *c, hp_test_ws_frame *f, int timeout_ms)
{
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    size_t head = 0, whole = 0;
    uint64_t payload = 0;
    while (((whole = buffered_frame(c, &head, &payload)) == 0 || c->len < whole) && !c->eof &&
           hp_test_now_ms() < deadline)
        hp_test_read_some(c, 20);
    if (whole == 0 || c->len < whole) return false;
    f->first = (uint8_t)c->buf[0];
    f->len = (size_t)payload;
    memcpy(f->payload, c->buf + head, payload < sizeof f->payload ? payload : sizeof f->payload);
    memmove(c->buf, c->buf + whole, c->len - whole);
    c->len -= whole;
    return true;
}

int hp_test_ws_close_code(hp_test_conn *c, int timeout_ms)
{
    hp_test_ws_frame f;
    int64_t deadline = hp_test_now_ms() + timeout_ms;
    while (hp_test_ws_read(c, &f, (int)(deadline - hp_test_now_ms()))) {
        if ((f.first & 0x0f) != 0x8) continue;
        return f.len >= 2 ? f.payload[0] << 8 | f.payload[1] : 1005;
    }
    return -1;
}
