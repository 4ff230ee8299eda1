/* The opening handshake of RFC 6455 §4.2, server side: which requests are one, the answer's
 * Sec-WebSocket-Accept, and the permessage-deflate offer (RFC 7692 §7.1) the server accepts. */
#ifndef HP_WS_WS_HANDSHAKE_H
#define HP_WS_WS_HANDSHAKE_H

#include "hostpool/request.h"

#include <stdbool.h>
#include <stddef.h>

/* Base64 of a SHA-1 digest: 28 characters and a NUL. */
#define HP__WS_ACCEPT_LEN 28

/* What a valid handshake asks for. */
typedef struct hp__ws_handshake {
    char accept[HP__WS_ACCEPT_LEN + 1]; /* Sec-WebSocket-Accept */
    bool deflate;                       /* permessage-deflate offered in a form we accept */
} hp__ws_handshake;

/* Checks `req`: GET, HTTP/1.1, Upgrade: websocket, "upgrade" in Connection, a
 * Sec-WebSocket-Key that is base64 of 16 bytes, Sec-WebSocket-Version 13. Returns 0 and fills
 * `out`, or the status to answer (400, or 426 for another version: the answer then carries
 * Sec-WebSocket-Version: 13) with what is wrong in *why (static). */
int hp__ws_handshake_check(const hp_request *req, hp__ws_handshake *out, const char **why);

/* Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the GUID of RFC 6455 §1.3)). */
void hp__ws_accept_key(const char *key, size_t len, char out[HP__WS_ACCEPT_LEN + 1]);

/* Does Sec-WebSocket-Extensions `value` offer permessage-deflate with parameters the server
 * can take (any of them)? The server then answers with HP__WS_DEFLATE_RESPONSE: no context
 * takeover either way, so one stream per worker serves every connection (ws_deflate.h). */
bool hp__ws_deflate_offered(hp_str value);

#define HP__WS_DEFLATE_RESPONSE                                                                    \
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

#endif
