/* A small blocking HTTP/1.1 client for the admin API of a running `hostpool run`.
 *
 * One call is one connection (a unix socket or TCP), one request sent with Content-Length and
 * "Connection: close", and one response read to its end: the status line, the headers, then
 * the body by Content-Length, by chunked coding or until the daemon closes. llhttp (which the
 * HTTP engine uses to read requests) reads it, so framing is handled the same strict way.
 *
 * Streaming: with `on_body` set, the body of a 2xx answer is handed to it piece by piece, as
 * it arrives (Server-Sent Events); the body of any other answer is still collected whole, so an
 * error reads like any other.
 *
 * There is no timeout: stop and restart answer when the server's drain is over, and an event
 * stream lasts until the daemon ends it. Ctrl+C ends the wait. */
#ifndef HP_CLI_ADMIN_CLIENT_H
#define HP_CLI_ADMIN_CLIENT_H

#include <stddef.h>

/* Where the admin API is and how to talk to it. Both strings are borrowed. */
typedef struct hp__admin_client {
    const char *address; /* "unix:PATH", or "HOST:PORT" ("[v6]:PORT") for TCP */
    const char *token;   /* sent as "Authorization: Bearer TOKEN"; NULL: none */
} hp__admin_client;

/* Receives each piece of a 2xx body as it arrives. */
typedef void (*hp__admin_body_cb)(const char *data, size_t len, void *arg);

typedef struct hp__admin_request {
    const char *method, *path; /* path with its query, already escaped */
    const char *body;          /* JSON, or NULL for none */
    hp__admin_body_cb on_body; /* NULL: collect the body into the response */
    void *arg;
} hp__admin_request;

typedef struct hp__admin_response {
    int status;
    char *reason;    /* the status line's reason phrase; owned, never NULL after a call */
    char *body;      /* what was collected, NUL-terminated; owned, never NULL after a call */
    size_t body_len; /* without the NUL */
} hp__admin_response;

typedef enum hp__admin_result {
    HP__ADMIN_OK = 0,           /* a whole response was read */
    HP__ADMIN_UNREACHABLE = -1, /* no connection was made */
    HP__ADMIN_BROKEN = -2,      /* connected, but no whole, well-formed response came back */
} hp__admin_result;

/* Makes the call. Returns HP__ADMIN_OK with `out` filled (close it whatever the result), or
 * one of the errors above with the reason in `err` ("No such file or directory"). */
hp__admin_result hp__admin_exchange(const hp__admin_client *client, const hp__admin_request *req,
                                    hp__admin_response *out, char *err, size_t errlen);

void hp__admin_response_close(hp__admin_response *resp);

#endif
