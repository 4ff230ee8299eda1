/* The opening handshake (ws_handshake.h). Header values are lists where RFC 9110 says so
 * (Connection, Upgrade, Sec-WebSocket-Extensions): tokens separated by commas, whitespace
 * around them, compared without case. */
#include "ws/ws_handshake.h"

#include "common/base64.h"
#include "common/sha1.h"
#include "common/str.h"

#include <string.h>

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void hp__ws_accept_key(const char *key, size_t len, char out[HP__WS_ACCEPT_LEN + 1])
{
    hp__sha1 sha;
    unsigned char digest[HP__SHA1_DIGEST];
    hp__sha1_init(&sha);
    hp__sha1_update(&sha, key, len);
    hp__sha1_update(&sha, guid, sizeof guid - 1);
    hp__sha1_final(&sha, digest);
    hp__base64_encode(digest, sizeof digest, out);
}

/* The next element of a list separated by `sep`, trimmed; false at the end. */
static bool next_element(hp_str *rest, char sep, hp_str *element)
{
    if (rest->len == 0) return false;
    const char *end = memchr(rest->base, sep, rest->len);
    size_t n = end ? (size_t)(end - rest->base) : rest->len;
    *element = hp__str_trim(hp__str(rest->base, n));
    rest->base += end ? n + 1 : n;
    rest->len -= end ? n + 1 : n;
    return true;
}

static bool list_has(const hp_str *value, const char *token)
{
    if (!value) return false;
    hp_str rest = *value, element;
    while (next_element(&rest, ',', &element))
        if (element.len == strlen(token) && hp__mem_ieq(element.base, token, element.len))
            return true;
    return false;
}

static bool key_valid(const hp_str *key)
{
    unsigned char raw[24];
    size_t n;
    return key && key->len == 24 && hp__base64_decode(key->base, key->len, raw, &n) && n == 16;
}

int hp__ws_handshake_check(const hp_request *req, hp__ws_handshake *out, const char **why)
{
    const hp_str *key = hp_request_header(req, "Sec-WebSocket-Key");
    const hp_str *version = hp_request_header(req, "Sec-WebSocket-Version");
    if (!hp__str_eq(req->method, "GET")) {
        *why = "a WebSocket handshake is a GET";
    } else if (req->version_minor != 1) {
        *why = "a WebSocket handshake is HTTP/1.1";
    } else if (!list_has(hp_request_header(req, "Upgrade"), "websocket")) {
        *why = "Upgrade: websocket is missing";
    } else if (!list_has(hp_request_header(req, "Connection"), "upgrade")) {
        *why = "Connection: upgrade is missing";
    } else if (!key_valid(key)) {
        *why = "Sec-WebSocket-Key is not base64 of 16 bytes";
    } else if (!version) {
        *why = "Sec-WebSocket-Version is missing";
    } else if (!hp__str_eq(hp__str_trim(*version), "13")) {
        *why = "only Sec-WebSocket-Version 13 is supported";
        return 426;
    } else {
        hp__ws_accept_key(key->base, key->len, out->accept);
        const hp_str *extensions = hp_request_header(req, "Sec-WebSocket-Extensions");
        out->deflate = extensions && hp__ws_deflate_offered(*extensions);
        return 0;
    }
    return 400;
}

/* A window size parameter's value: 8 to 15, or none (client_max_window_bits may have none). */
static bool window_bits(hp_str value, bool optional, uint64_t *bits)
{
    if (value.len == 0) return optional;
    if (value.len >= 2 && value.base[0] == '"' && value.base[value.len - 1] == '"')
        value = hp__str(value.base + 1, value.len - 2);
    return hp__str_to_u64(value, 15, bits) && *bits >= 8;
}

/* One offer: "permessage-deflate" and its parameters, each at most once. We can always
 * expand what a client sends (a 15-bit window takes any) and always honour both "no context
 * takeover"s; server_max_window_bits below 15 would ask for a deflate stream of its own. */
static bool offer_acceptable(hp_str offer)
{
    hp_str rest = offer, param;
    if (!next_element(&rest, ';', &param) || !hp__str_ieq(param, "permessage-deflate"))
        return false;
    unsigned seen = 0;
    while (next_element(&rest, ';', &param)) {
        const char *eq = memchr(param.base, '=', param.len);
        hp_str name = hp__str_trim(hp__str(param.base, eq ? (size_t)(eq - param.base) : param.len));
        hp_str value = eq ? hp__str_trim(hp__str(eq + 1, param.len - (size_t)(eq + 1 - param.base)))
                          : hp__str(NULL, 0);
        uint64_t bits = 0;
        unsigned flag;
        if (hp__str_ieq(name, "server_no_context_takeover") && !eq) {
            flag = 1;
        } else if (hp__str_ieq(name, "client_no_context_takeover") && !eq) {
            flag = 2;
        } else if (hp__str_ieq(name, "client_max_window_bits") && window_bits(value, true, &bits)) {
            flag = 4;
        } else if (hp__str_ieq(name, "server_max_window_bits") &&
                   window_bits(value, false, &bits) && bits == 15) {
            flag = 8;
        } else {
            return false;
        }
        if (seen & flag) return false;
        seen |= flag;
    }
    return true;
}

bool hp__ws_deflate_offered(hp_str value)
{
    hp_str rest = value, offer;
    while (next_element(&rest, ',', &offer))
        if (offer_acceptable(offer)) return true;
    return false;
}
