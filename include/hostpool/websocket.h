/* WebSocket (RFC 6455): a handler that accepts the handshake and runs the connection, with
 * publish/subscribe on topics, for programs that embed the library. A config's
 * `websocket: {echo: {}}` and `websocket: {pubsub: {...}}` routes are built on this same API
 * (docs/WEBSOCKET.md).
 *
 * The handler answers a valid handshake (GET, HTTP/1.1, Upgrade: websocket, a 16-byte
 * Sec-WebSocket-Key, Sec-WebSocket-Version 13) with 101 and takes the connection over
 * (hostpool/upgrade.h); anything else gets 400, or 426 with Sec-WebSocket-Version: 13 for
 * another version. From then on frames are parsed and written by wslay: fragments are joined
 * into messages, pings answered, text checked as UTF-8 (1007), a message over max_message
 * closed with 1009, a protocol error with 1002, unmasked client frames refused.
 *
 * Connections: an hp_ws is one connection, valid from on_open until on_close returns. Each
 * has an id unique in the process (never reused) and a pointer of the program's own.
 *
 * Topics: a connection subscribes to topic patterns (`*` one segment, `**` the rest: the
 * event bus's patterns, src/core/topic.h). A message published on a topic is sent, as a frame
 * of its own, to every connection of the same handler with a matching subscription, exactly
 * once however many of its patterns match, on whichever worker it is, in the order each
 * publisher published. Publishing from a worker takes no lock per delivered message: the
 * message is shared, not copied, by the connections it goes to.
 *
 * Back-pressure: the bytes queued to one connection are bounded by max_backpressure. Past
 * it, HP_WS_BACKPRESSURE_CLOSE closes the connection with 1008; HP_WS_BACKPRESSURE_DROP
 * skips that connection for the messages that do not fit (counted as dropped).
 *
 * Threads: the callbacks run on the connection's worker; hp_ws_* functions taking an hp_ws
 * may be called only there. hp_websocket_publish may be called from any thread (the control
 * thread, any worker, a thread of the program's own). */
#ifndef HOSTPOOL_WEBSOCKET_H
#define HOSTPOOL_WEBSOCKET_H

#include "hostpool/handler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hp_ws hp_ws;

typedef enum hp_ws_backpressure {
    HP_WS_BACKPRESSURE_CLOSE, /* close the connection with 1008 (the default) */
    HP_WS_BACKPRESSURE_DROP,  /* skip the connection for what does not fit; count it */
} hp_ws_backpressure;

typedef struct hp_ws_options {
    uint64_t max_message;      /* bytes of one message, its fragments joined (64 KiB) */
    uint64_t max_backpressure; /* bytes queued to one connection (1 MiB) */
    hp_ws_backpressure on_backpressure;
    uint64_t idle_timeout_ms;  /* no frame received for this long: close 1001 (120 s; 0 none) */
    uint64_t ping_interval_ms; /* a ping after this long without a frame received (30 s; 0 none) */
    bool compression;          /* permessage-deflate (RFC 7692) when the client offers it */
} hp_ws_options;

/* Fills `o` with the defaults above. */
void hp_ws_options_init(hp_ws_options *o);

/* What the program does with its connections. Every callback gets the `data` given to
 * hp_websocket_handler_create; all are optional. */
typedef struct hp_ws_callbacks {
    /* The 101 is written: the connection is open and may send. `req` is the handshake
     * request, readable during the call only (its path, query, headers). */
    void (*on_open)(hp_ws *ws, const hp_request *req, void *data);
    /* One whole message: text (valid UTF-8) or binary. Borrowed for the call. */
    void (*on_message)(hp_ws *ws, const char *bytes, size_t len, bool binary, void *data);
    /* The connection is closed: `code` is the close code received or sent (1006 when none
     * was: the connection was lost). Its subscriptions are gone; release the user pointer. */
    void (*on_close)(hp_ws *ws, uint16_t code, void *data);
} hp_ws_callbacks;

/* A WebSocket handler for routes. `options` and `callbacks` are copied, `data` is borrowed
 * (it must outlive the handler). Returns NULL with *err = HP_EINVAL for an invalid option (a
 * max_message of 0, a max_backpressure smaller than max_message), or -ENOMEM. */
hp_handler *hp_websocket_handler_create(const hp_ws_options *options,
                                        const hp_ws_callbacks *callbacks, void *data, int *err);

/* ---- one connection (its worker only) ---------------------------------------------------- */

uint64_t hp_ws_id(const hp_ws *ws);
void hp_ws_set_user(hp_ws *ws, void *user);
void *hp_ws_user(const hp_ws *ws);
/* The handler the connection came through (for hp_websocket_publish). */
hp_handler *hp_ws_handler(const hp_ws *ws);

/* Sends one message (copied). Returns 0, HP_ELIMIT when it does not fit under max_backpressure
 * (closed with 1008, or not sent and counted as dropped, as on_backpressure says), HP_ESTATE
 * once the connection is closing. */
int hp_ws_send(hp_ws *ws, const void *bytes, size_t len, bool binary);

/* Starts the close handshake with `code` (1000 to 4999, not a reserved one: another is sent as
 * 1000) and a reason of at most 123 bytes (may be NULL; longer is cut); on_close follows when
 * it is done or the peer is gone (3 s at most after the close frame). No-op once closing. */
void hp_ws_close(hp_ws *ws, uint16_t code, const char *reason);

/* Subscribes to a topic pattern (HP_EINVAL for an invalid one; HP_EEXISTS when subscribed to
 * it already; HP_ELIMIT past 64 subscriptions) or unsubscribes (HP_ENOTFOUND when it was not
 * subscribed). */
int hp_ws_subscribe(hp_ws *ws, const char *pattern);
int hp_ws_unsubscribe(hp_ws *ws, const char *pattern);

/* ---- publishing (any thread) ------------------------------------------------------------- */

/* Sends `bytes` as a text or binary message to every connection of `handler` (a WebSocket
 * handler) subscribed to a pattern matching `topic` (a valid topic), on every worker. Returns
 * how many connections were subscribed to it when it was published (>= 0), or HP_EINVAL for
 * a handler that is not a WebSocket one or an invalid topic. The message is copied once. */
int hp_websocket_publish(hp_handler *handler, const char *topic, const void *bytes, size_t len,
                         bool binary);

#endif
