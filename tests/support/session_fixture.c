/* The session fixture; see session_fixture.h. */
#include "session_fixture.h"

#include "common/alloc.h"
#include "http/server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void dispatch(hp_request *req, void *data)
{
    session_fixture *f = data;
    f->requests++;
    f->last = req;
    f->on_request(req, f->data);
}

static session_fixture *fixture_create(hp_request_cb cb, void *data, bool streaming)
{
    session_fixture *f = HP_NEW(session_fixture);
    f->on_request = cb;
    f->data = data;
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_route_config route = {.handler = hp_callback_handler_create(dispatch, f)};
    route.handler->stream_request_body = streaming;
    hp_server_config config = {
        .name = "test",
        .listen = listen,
        .listen_count = 1,
        .routes = &route,
        .route_count = 1,
    };
    hp_limits_init(&config.limits);
    config.limits.header_timeout_ms = FIXTURE_HEADER_TIMEOUT;
    config.limits.idle_timeout_ms = FIXTURE_IDLE_TIMEOUT;
    config.limits.write_timeout_ms = FIXTURE_WRITE_TIMEOUT;
    config.limits.max_body_bytes = FIXTURE_MAX_BODY;
    config.limits.max_header_bytes = FIXTURE_MAX_HEADER_BYTES;
    config.limits.max_target_bytes = FIXTURE_MAX_TARGET;
    config.limits.max_headers = FIXTURE_MAX_HEADERS;
    assert_int_equal(hp_server_create(&config, &f->server, NULL, 0), 0);
    hp__http_context_init(&f->ctx, 0);
    memcpy(f->ctx.request_id, "00000000", 8); /* deterministic ids: prefix 0 */
    f->m = mem_transport_create(&f->ctx, f->server);
    return f;
}

session_fixture *session_fixture_create(hp_request_cb cb, void *data)
{
    return fixture_create(cb, data, false);
}

session_fixture *session_fixture_create_streaming(hp_request_cb cb, void *data)
{
    return fixture_create(cb, data, true);
}

/* Whatever ended the session (an answer, an error, a timeout, a limit, the client going away),
 * the counters are balanced: no request in flight, no connection open or idle. */
static void assert_counters_balanced(session_fixture *f)
{
    mem_transport_abort(f->m);
    assert_int_equal(atomic_load(&f->m->gauges.open), 0);
    assert_int_equal(atomic_load(&f->m->gauges.idle), 0);
    hp__stats_totals t;
    hp__stats_totals_read(f->server->stats, &t);
    assert_int_equal(t.in_flight, 0);
    hp__stats_totals_close(&t);
}

void session_fixture_destroy(session_fixture *f)
{
    if (!f) return;
    unsigned violations = f->m->violations;
    assert_counters_balanced(f);
    mem_transport_destroy(f->m);
    assert_int_equal(violations, 0);
    assert_int_equal(f->ctx.connections_open, 0);
    hp__http_context_close(&f->ctx);
    hp_server_destroy(f->server);
    free(f->output);
    free(f);
}

const char *session_fixture_output(session_fixture *f)
{
    const mem_transport *m = f->m;
    free(f->output);
    f->output = hp__malloc(m->out_len + 1);
    size_t n = 0, i = 0;
    while (i < m->out_len) {
        const char *eol = memchr(m->out + i, '\n', m->out_len - i);
        size_t line = eol ? (size_t)(eol - (m->out + i)) + 1 : m->out_len - i;
        if (!(line >= 6 && memcmp(m->out + i, "Date: ", 6) == 0)) {
            memcpy(f->output + n, m->out + i, line);
            n += line;
        }
        i += line;
    }
    f->output[n] = '\0';
    return f->output;
}

void fixture_answer_path(hp_request *req, void *data)
{
    hp_respond(req, 200, req->path.base, req->path.len);
}

void fixture_answer_body(hp_request *req, void *data)
{
    hp_respond(req, 200, req->body.base, req->body.len);
}
