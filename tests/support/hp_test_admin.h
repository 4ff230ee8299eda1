/* hp_test_admin: calls to the admin API of a `hostpool run` under test, over its unix socket or
 * over loopback TCP with a bearer token, and the daemon started on a socket of the test's own.
 *
 * Every call is one connection, one request (with Content-Length) and one response read with
 * a deadline; the answer keeps the status, the body, the body parsed as JSON (NULL when it is
 * not JSON) and the headers tests look at. Failing to get an answer fails the test.
 * Also here: the assertions these tests make about what a server's port answers. */
#ifndef HP_TEST_ADMIN_H
#define HP_TEST_ADMIN_H

#include "hp_test.h"

#include <jansson.h>

typedef struct hp_test_admin {
    char socket_path[4200]; /* "" when the admin API is on TCP */
    int port;               /* the TCP port, when socket_path is "" */
    const char *token;      /* the bearer token to send, or NULL */
} hp_test_admin;

typedef struct hp_test_answer {
    int status;
    char *body;
    json_t *json;
    char *www_authenticate, *allow, *etag; /* the headers, or NULL */
} hp_test_answer;

void hp_test_answer_free(hp_test_answer *a);

/* `headers`: more header lines ("If-Match: x\r\n"), or NULL. `body` may be NULL. */
hp_test_answer hp_test_admin_call(const hp_test_admin *admin, const char *method, const char *path,
                                  const char *headers, const char *body);

/* GETs `path` until its answer's array `key` holds `count` items or more (a journal's entries,
 * a program's lines: they land just after what made them), within the deadline (a cmocka
 * failure past it). The answer is the caller's. */
hp_test_answer hp_test_admin_wait_items(const hp_test_admin *admin, const char *path,
                                        const char *key, size_t count);

/* error.code and the number of error.details of an error answer (NULL and 0 when absent). */
const char *hp_test_answer_error_code(const hp_test_answer *a);
size_t hp_test_answer_error_details(const hp_test_answer *a);

/* Starts `hostpool run --config CONFIG --admin unix:TEMP/admin.sock`, filling `admin`. */
int hp_test_admin_start(hp_test_server *srv, const char *config, hp_test_admin *admin);
/* Writes `text` to TEMP/pool.yaml and starts the daemon on it as hp_test_admin_start does. */
int hp_test_admin_start_text(hp_test_server *srv, const char *text, hp_test_admin *admin);

/* What the pool's servers do, as the daemon's tests check after each change (cmocka asserts):
 * a GET of "/" on `port` with Host `host` (NULL: hostpool.test) is answered with body `want`;
 * nothing listens on `port` (the connect is refused). */
void hp_test_assert_answers(int port, const char *host, const char *want);

/* The value of the metrics sample `series` (its name and labels, exactly as the text writes
 * them: `hostpool_refused_total{server="web",reason="in_flight"}`) in GET /metrics on `port`
 * (any Host), or -1 when the text has no such sample. Failing to get the text fails the test. */
long long hp_test_metric(int port, const char *series);
void hp_test_assert_refuses(int port);

#endif
