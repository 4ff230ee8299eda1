/* The request body, pulled: hp_request_body_pull and hp_request_body_read_all (request.h).
 *
 * The session parses a streaming handler's body only while the handler waits for a piece
 * (x->body_wanted): llhttp's on_body records the piece and pauses, and once llhttp returned
 * the piece is given to the consumer, whose bytes are then dropped from the read buffer (the
 * unparsed rest moves down to the end of the head). So a piece is never delivered from inside
 * the parser, and a handler that does not ask holds the read buffer's worth at most: the
 * session keeps reading until it is full (a reset or EOF is seen meanwhile), then stops.
 *
 * A handler that wants the whole body gets it through hp__body_read_all: the session's
 * buffered mode, where on_body appends to x->body and the callback runs at the end. The
 * session puts every handler that does not stream on that same path.
 *
 * Threading: the worker's loop, as every hp_request call. */
#include "http/exchange.h"

#include <string.h>

int hp__body_write_continue(hp__exchange *x)
{
    static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    x->expect_continue = false;
    hp__transport *t = hp__session_transport(x->s);
    struct iovec iov = {(void *)interim, sizeof interim - 1};
    int rc = t->vt->write(t, &iov, 1);
    if (rc == 0) x->writes_pending++;
    return rc;
}

void hp__body_deliver_piece(hp__exchange *x)
{
    hp__session *s = x->s;
    const char *bytes = x->piece;
    uint32_t len = x->piece_len;
    x->piece = NULL;
    x->piece_len = 0;
    x->body_wanted = false;
    x->after_piece = true;
    x->consumer->on_data(&x->req, x->consumer_data, bytes, len);
    if (s->x != x || s->phase == HP__PHASE_CLOSED) return; /* it ended meanwhile */
    uint32_t left = s->rend - s->rparsed;
    memmove(s->rbuf + x->head_end, s->rbuf + s->rparsed, left);
    s->rparsed = x->head_end;
    s->rend = x->head_end + left;
}

void hp__body_deliver_end(hp__exchange *x)
{
    x->body_wanted = false;
    x->body_ended = true;
    x->consumer->on_data(&x->req, x->consumer_data, NULL, 0);
}

void hp__body_failed(hp__exchange *x, int err)
{
    if (!x->consumer || x->body_ended) return;
    x->body_ended = true;
    x->body_wanted = false;
    if (x->consumer->on_error) x->consumer->on_error(&x->req, x->consumer_data, err);
}

/* The handler asked for the body: the client may send it (100 Continue), it must come within
 * the header timeout, and what is buffered is parsed now. */
static void read_body(hp__exchange *x)
{
    hp__session *s = x->s;
    if (x->expect_continue && hp__body_write_continue(x) < 0) {
        hp__session_abort(s);
        return;
    }
    if (!x->message_done) {
        hp__transport *t = hp__session_transport(s);
        t->vt->set_timer(t, hp__exchange_server(x)->limits.header_timeout_ms);
    }
    hp__session_process(s);
}

void hp_request_body_pull(hp_request *req, const hp_body_consumer *consumer, void *data)
{
    hp__exchange *x = req->exchange;
    if (!x->streamed || x->body_ended || x->responded || x->body_wanted) return;
    x->consumer = consumer;
    x->consumer_data = data;
    x->body_wanted = true;
    read_body(x);
}

void hp_request_body_read_all(hp_request *req, hp_body_complete_cb cb, void *data)
{
    hp__exchange *x = req->exchange;
    if (!x->streamed || x->consumer || x->responded) return;
    x->streamed = false;
    if (x->message_done) {
        /* Nothing is left to parse: the request had no body (a streaming handler that did not
         * pull cannot have had one parsed). Waiting for the parser would wait forever. */
        x->handler_called = true;
        cb(req, data);
        return;
    }
    hp__body_read_all(x, cb, data);
    read_body(x);
}
