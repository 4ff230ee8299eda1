/* A session under test: a server whose every route runs one C callback the test chooses, a
 * worker context and a memory transport (mem_transport.h), with small limits and distinct
 * timeouts so a test can tell which timer the session armed.
 *
 * Output is deterministic apart from the Date line: request ids are generated from a zero
 * prefix ("00000000000000000001", ...), and session_fixture_output() drops the Date lines. */
#ifndef HP_TEST_SESSION_FIXTURE_H
#define HP_TEST_SESSION_FIXTURE_H

#include "mem_transport.h"

#include "hostpool/hostpool.h"
#include "http/context.h"

#define FIXTURE_HEADER_TIMEOUT 1000
#define FIXTURE_IDLE_TIMEOUT 2000
#define FIXTURE_WRITE_TIMEOUT 3000
#define FIXTURE_MAX_BODY 4096
#define FIXTURE_MAX_HEADER_BYTES 1024
#define FIXTURE_MAX_TARGET 256
#define FIXTURE_MAX_HEADERS 16

typedef struct session_fixture {
    hp__http_context ctx;
    hp_server *server;
    mem_transport *m;
    hp_request_cb on_request; /* what the handler does */
    void *data;
    unsigned requests; /* requests the handler saw */
    hp_request *last;  /* the last one (borrowed: valid until its exchange ends) */
    char *output;      /* the last session_fixture_output() */
} session_fixture;

/* A fixture whose handler calls `cb(req, data)` for every request. */
session_fixture *session_fixture_create(hp_request_cb cb, void *data);
/* The same with a handler that streams the request body (handler.h): `cb` runs when the head
 * is complete and pulls the body itself. */
session_fixture *session_fixture_create_streaming(hp_request_cb cb, void *data);
/* Closes the session if needed, checks the transport contract held, frees everything. */
void session_fixture_destroy(session_fixture *f);

/* The output so far with the Date lines removed; NUL-terminated, owned by the fixture, valid
 * until the next call. */
const char *session_fixture_output(session_fixture *f);

/* Handlers for common cases. */
void fixture_answer_path(hp_request *req, void *data); /* 200, body = the path */
void fixture_answer_body(hp_request *req, void *data); /* 200, body = the request body */

#endif
