/* A raw WebSocket client over hp_test_conn, for what real clients cannot send (unmasked
 * frames, invalid UTF-8, reserved opcodes) and for reading exactly the frames a server sends. */
#ifndef HP_TEST_WS_H
#define HP_TEST_WS_H

#include "hp_test.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sends a handshake for `path` and reads the 101; returns its status (101), or a negative
 * HP_TEST_* result. */
int hp_test_ws_handshake(hp_test_conn *c, const char *path);

/* Sends one frame: `first` is the first byte (FIN, RSV, opcode), masked or not. */
int hp_test_ws_send(hp_test_conn *c, uint8_t first, bool masked, const void *payload, size_t len);

typedef struct hp_test_ws_frame {
    uint8_t first;              /* FIN, RSV and opcode */
    unsigned char payload[256]; /* its first 256 bytes */
    size_t len;                 /* the payload's whole length */
} hp_test_ws_frame;

/* Reads the next frame within `timeout_ms`; false when none came (closed or timed out). */
bool hp_test_ws_read(hp_test_conn *c, hp_test_ws_frame *f, int timeout_ms);

/* Reads frames until a close frame; returns its code (1005 when it carried none), or -1 when
 * the connection ended or timed out first. */
int hp_test_ws_close_code(hp_test_conn *c, int timeout_ms);

#endif
