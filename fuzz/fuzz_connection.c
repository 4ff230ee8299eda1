/* fuzz_connection: arbitrary bytes through a real HTTP session (src/http/session.c) over the
 * memory transport (tests/support/mem_transport.h), with small limits so the limit paths are
 * reached, and handlers of every kind.
 *
 * Input: [K] [K control bytes] [client bytes]. Each control byte is one step, op = low 3 bits,
 * arg = high 5 bits:
 *   0, 1, 2  feed the next arg+1, (arg+1)*8 or (arg+1)*64 client bytes (arg 31: all of them)
 *   3        knobs: bit 0 hold writes (slow reader), bit 1 sendfile would block, bit 2 streams
 *            answer inside proceed(), bit 3 sendfile sends 700 bytes at most per call
 *   4        complete the oldest queued write (arg 31: with an error; arg & 16: all of them)
 *   5        fire the timer
 *   6        let the asynchronous handler take one step
 *   7        arg 0 client EOF, 1 drain, 2 abort, 3 read error, 4 writes fail, 5 writes work,
 *            other: like 6
 * When the control bytes run out, the rest is fed and everything settles (writes complete,
 * handlers answer); then the timer is fired until the session closes, which it must.
 *
 * Routes by target: /w a WebSocket echo handler (small limits, compression offered: every
 * frame after its 101 is fuzzed through wslay and the message layer), /r a respond handler, /p
 * POST-only (405 otherwise), /z 204, /c... a callback whose next letter picks: d answers later, s
 * streams (unknown length), l streams (known length), f sends a file, e echoes the body, u upgrades
 * (when the request asked) to a protocol that answers every byte it reads with an 'e', anything
 * else answers at once. /b a handler that streams the request body: it pulls a piece at each
 * asynchronous step (op 6) and answers with the count, or answers at once without reading for /bx.
 * Everything else is 404. Routes match the normalized path, so "/x/../c%66" is "/cf".
 *
 * Invariants checked: the output is always a prefix of a well-formed sequence of responses
 * (status line, Date and X-Request-Id, framing that matches the body, nothing after a
 * "Connection: close" response; after a 101 only the upgraded protocol's 'e' bytes, or for a
 * WebSocket well-formed server frames, none after its close frame); every
 * finished exchange is one complete response in the output; a handler sees one exchange at a
 * time, with a normalized path, and its done callback exactly once; the session never calls
 * the transport after closing, and a closed connection uses no server (the worker asks that
 * of closing connections too); it always closes in the end; nothing leaks (LSan). */
#include "mem_transport.h"

#include "core/url_path.h"
#include "hostpool/hostpool.h"
#include "http/context.h"
#include "http/server.h"
#include "io/worker_context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_connection: invariant broken: %s\n", what);                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FILE_LEN 3000
#define PIECE "piece-of-a-stream\n"
#define PIECE_LEN (sizeof PIECE - 1)
#define PIECES 3
#define MAX_BODY 4096
#define MAX_TARGET 256

static hp_server *server;  /* the default server of the listener */
static hp__vhosts *vhosts; /* it and a server claiming a.test and *.b.test: routing is fuzzed */
static bool trace;         /* FUZZ_CONNECTION_TRACE set: print every output, for triage */
static int file_fd = -1;
/* The worker the WebSocket handler keeps its state on: its flush runs in uv_run. */
static uv_loop_t loop;
static hp_worker worker;

/* The state of the callback handler: one exchange at a time on the one session. */
typedef struct harness {
    mem_transport *m;
    hp_request *pending; /* registered a done callback that has not run yet */
    bool deferred;       /* the answer is still to be given */
    bool want_piece;     /* proceed() asked for a piece */
    bool sync_stream;    /* send the piece inside proceed() */
    unsigned pieces_left;
    unsigned registered, done_calls;
    char echo[MAX_BODY + 1];
    /* The streaming-body handler (/b). */
    bool body_pull;    /* it will pull at its next step */
    bool body_waiting; /* a pull waits for its piece */
    size_t body_received;
    char body_count[24];
    /* The upgraded protocol (/cu). */
    hp_upgraded *upgraded;
    bool upgrade_closed;
} harness;

static harness h;

/* ---- the handler -------------------------------------------------------------------------- */

static void send_piece(void)
{
    h.want_piece = false;
    bool last = --h.pieces_left == 0;
    hp_stream_send(h.pending, PIECE, PIECE_LEN, last); /* may finish the exchange */
}

static void on_proceed(hp_request *req, void *data)
{
    CHECK(req == h.pending, "proceed() for an exchange that is not the current one");
    CHECK(!h.want_piece, "proceed() called again before the piece was sent");
    CHECK(h.pieces_left > 0, "proceed() after the last piece");
    h.want_piece = true;
    if (h.sync_stream) send_piece();
}

static void on_stop(hp_request *req, void *data)
{
    CHECK(req == h.pending, "stop() for an exchange that is not the current one");
    h.want_piece = false;
    h.pieces_left = 0;
}

static const hp_body_producer producer = {on_proceed, on_stop};

static void on_done(hp_request *req, bool ok, void *data)
{
    CHECK(req == h.pending, "done callback for an exchange that is not the current one");
    h.done_calls++;
    h.pending = NULL;
    h.deferred = h.want_piece = false;
    h.body_pull = h.body_waiting = false;
}

/* Is `path` in the normalized form (core/url_path.h): printable, no empty or dot segment, and
 * normalized again it is itself? */
static bool normalized(hp_str path)
{
    char out[HP__URL_PATH_MAX(MAX_TARGET)]; /* the most the path itself can take */
    size_t len;
    for (size_t i = 0; i < path.len; i++)
        if (path.base[i] <= ' ' || path.base[i] >= 127) return false;
    return !memmem(path.base, path.len, "//", 2) && !memmem(path.base, path.len, "/./", 3) &&
           !memmem(path.base, path.len, "/../", 4) && path.len < sizeof out &&
           hp__url_path_normalize(path, out, sizeof out, &len) == 0 && len == path.len &&
           memcmp(out, path.base, len) == 0;
}

/* ---- the upgraded protocol: an 'e' for every byte read ------------------------------------ */

static const char e_bytes[16384] = {[0 ... 16383] = 'e'};

static void up_open(hp_upgraded *u, void *data)
{
    CHECK(h.upgraded == NULL && !h.upgrade_closed, "a second upgraded protocol opened");
    h.upgraded = u;
}

static void up_read(hp_upgraded *u, void *data, const char *bytes, size_t len)
{
    CHECK(u == h.upgraded && len > 0 && len <= sizeof e_bytes, "a read of the wrong protocol");
    hp_upgraded_write(u, e_bytes, len);
}

static void up_close(hp_upgraded *u, void *data, int status)
{
    CHECK(u == h.upgraded, "on_close of a protocol that was not open");
    h.upgraded = NULL;
    h.upgrade_closed = true;
}

static const hp_upgrade_protocol up_protocol = {
    .on_open = up_open,
    .on_read = up_read,
    .on_close = up_close,
};

/* ---- the streaming-body handler ----------------------------------------------------------- */

static const hp_body_consumer body_consumer;

static void body_data(hp_request *req, void *data, const void *bytes, size_t len)
{
    CHECK(req == h.pending && h.body_waiting, "a piece nobody asked for");
    h.body_waiting = false;
    if (len == 0) {
        int n = snprintf(h.body_count, sizeof h.body_count, "%zu\n", h.body_received);
        hp_respond(req, 200, h.body_count, (size_t)n);
        return;
    }
    CHECK(h.body_received + len <= MAX_BODY, "a streamed body over the limit");
    h.body_received += len;
    h.body_pull = true;
}

static void body_error(hp_request *req, void *data, int err)
{
    CHECK(req == h.pending, "a body error for an exchange that is not the current one");
    h.body_waiting = h.body_pull = false;
}

static const hp_body_consumer body_consumer = {body_data, body_error};

static void on_streaming_request(hp_request *req, void *data)
{
    CHECK(h.pending == NULL, "a second exchange started before the first one ended");
    CHECK(normalized(req->path), "a path that is not normalized reached the handler");
    h.pending = req;
    h.registered++;
    h.body_received = 0;
    h.body_waiting = false;
    hp_request_on_done(req, on_done, NULL);
    if (req->path.len > 2 && req->path.base[2] == 'x') {
        hp_respond(req, 403, "no\n", 3);
        return;
    }
    h.body_pull = true;
}

static void on_request(hp_request *req, void *data)
{
    CHECK(h.pending == NULL, "a second exchange started before the first one ended");
    CHECK(normalized(req->path), "a path that is not normalized reached the handler");
    CHECK(req->header_count <= 16, "more headers than max_headers reached the handler");
    CHECK(req->body.len <= MAX_BODY, "a body over the limit reached the handler");
    h.pending = req;
    h.registered++;
    hp_request_on_done(req, on_done, NULL);
    char kind = req->path.len > 2 ? req->path.base[2] : '-';
    switch (kind) {
    case 'd':
        h.deferred = true;
        break;
    case 's':
    case 'l':
        h.pieces_left = PIECES;
        hp_respond_stream(req, 200, kind == 'l' ? (int64_t)(PIECES * PIECE_LEN) : -1, &producer,
                          NULL);
        break;
    case 'f':
        hp_respond_file(req, 200, file_fd, 0, FILE_LEN);
        break;
    case 'u':
        if (hp_request_upgrade(req, "fuzz", &up_protocol, NULL) != 0)
            hp_respond(req, 200, "not upgraded\n", 13);
        break;
    case 'e':
        h.echo[0] = '#';
        if (req->body.len) memcpy(h.echo + 1, req->body.base, req->body.len);
        hp_respond(req, 200, h.echo, req->body.len + 1);
        break;
    default:
        hp_response_header(req, "X-Kind", 6, "now", 3);
        hp_respond(req, 200, "ok\n", 3);
        break;
    }
}

/* One step of the asynchronous handler; false when it had nothing to do. */
static bool run_async(void)
{
    if (!h.pending) return false;
    if (h.deferred) {
        h.deferred = false;
        hp_respond(h.pending, 200, "later\n", 6);
        return true;
    }
    if (h.want_piece) {
        send_piece();
        return true;
    }
    if (h.body_pull) {
        h.body_pull = false;
        h.body_waiting = true;
        hp_request_body_pull(h.pending, &body_consumer, NULL); /* may end the exchange */
        return true;
    }
    return false;
}

/* ---- the WebSocket echo handler (/w) -------------------------------------------------------- */

static void ws_echo(hp_ws *ws, const char *bytes, size_t len, bool binary, void *data)
{
    hp_ws_send(ws, bytes, len, binary);
}

static hp_handler *ws_handler_create(void)
{
    hp_ws_options o;
    hp_ws_options_init(&o);
    o.max_message = 300;
    o.max_backpressure = 700;
    o.ping_interval_ms = 1000;
    o.idle_timeout_ms = 3000;
    o.compression = true;
    static const hp_ws_callbacks echo = {.on_message = ws_echo};
    int err;
    return hp_websocket_handler_create(&o, &echo, NULL, &err);
}

/* Runs the worker's loop once without waiting: the WebSocket flush at its iteration's end. */
static void run_loop(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* ---- setup -------------------------------------------------------------------------------- */

static void setup(void)
{
    trace = getenv("FUZZ_CONNECTION_TRACE") != NULL;
    char path[] = "/tmp/fuzz_connection.XXXXXX";
    file_fd = mkstemp(path);
    CHECK(file_fd >= 0, "cannot create the temporary file");
    unlink(path);
    char data[FILE_LEN];
    for (size_t i = 0; i < FILE_LEN; i++) data[i] = (char)('a' + i % 26);
    CHECK(write(file_fd, data, FILE_LEN) == FILE_LEN, "cannot write the temporary file");

    static const char *const respond_headers[] = {"Content-Type", "text/plain", "X-A", "b"};
    static const char *const post[] = {"POST"};
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_route_config routes[] = {
        {.path_prefix = "/r",
         .handler = hp_respond_handler_create(200, "respond\n", 8, respond_headers, 2)},
        {.path_prefix = "/p",
         .methods = post,
         .method_count = 1,
         .handler = hp_respond_handler_create(201, "created\n", 8, NULL, 0)},
        {.path_prefix = "/z", .handler = hp_respond_handler_create(204, NULL, 0, NULL, 0)},
        {.path_prefix = "/c", .handler = hp_callback_handler_create(on_request, NULL)},
        {.path_prefix = "/b", .handler = hp_callback_handler_create(on_streaming_request, NULL)},
        {.path_prefix = "/w", .handler = ws_handler_create()},
    };
    routes[4].handler->stream_request_body = true;
    hp_server_config config = {
        .name = "fuzz",
        .listen = listen,
        .listen_count = 1,
        .routes = routes,
        .route_count = sizeof routes / sizeof routes[0],
    };
    hp_limits_init(&config.limits);
    config.limits.header_timeout_ms = 1000;
    config.limits.idle_timeout_ms = 2000;
    config.limits.write_timeout_ms = 3000;
    config.limits.max_body_bytes = MAX_BODY;
    config.limits.max_header_bytes = 1024;
    config.limits.max_target_bytes = MAX_TARGET;
    config.limits.max_headers = 16;
    CHECK(hp_server_create(&config, &server, NULL, 0) == 0, "cannot create the server");
    uv_loop_init(&loop);
    hp__worker_context_init(&worker, &loop, 0);
    hp__worker_context_enter(&worker);
    hp__worker_handlers_add_server(&worker, server);
    static const char *const hosts[] = {"a.test", "*.b.test"};
    hp_route_config hosted_route = {
        .path_prefix = "/", .handler = hp_respond_handler_create(200, "hosted\n", 7, NULL, 0)};
    config.name = "hosted";
    config.hosts = hosts;
    config.host_count = 2;
    config.routes = &hosted_route;
    config.route_count = 1;
    hp_server *hosted;
    CHECK(hp_server_create(&config, &hosted, NULL, 0) == 0, "cannot create the hosted server");
    const hp_server *servers[] = {server, hosted};
    vhosts = hp__vhosts_create(servers, 2, 1);
}

/* ---- the output checker ------------------------------------------------------------------- */

typedef enum { PARSED, INCOMPLETE } parse_result;

typedef struct checker {
    size_t pos;          /* where the next response starts in the output */
    unsigned complete;   /* complete responses (1xx not counted) */
    bool after_close;    /* a complete response said Connection: close */
    bool last_delimited; /* the last complete response ended with the connection */
    bool tail_head_only; /* the incomplete tail is a whole head with no body byte yet */
    bool upgraded;       /* a 101 was complete: the rest is the upgraded protocol's */
    bool websocket;      /* ... and it is WebSocket frames */
    bool ws_closed;      /* the server's close frame came */
} checker;

static bool has_prefix(const char *p, size_t avail, const char *lit)
{
    size_t n = strlen(lit);
    return avail >= n && memcmp(p, lit, n) == 0;
}

static bool is_prefix_of(const char *p, size_t avail, const char *lit)
{
    size_t n = strlen(lit);
    return memcmp(p, lit, avail < n ? avail : n) == 0;
}

/* Parses a chunked body at p; returns its length, 0 when incomplete. */
static size_t chunked_length(const char *p, size_t avail)
{
    size_t i = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        while (i < avail && ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            size = size * 16 + (size_t)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
            CHECK(++digits <= 8, "absurd chunk size");
            i++;
        }
        if (i + 2 > avail) return 0;
        CHECK(digits > 0 && p[i] == '\r' && p[i + 1] == '\n', "malformed chunk-size line");
        i += 2;
        if (i + size + 2 > avail) return 0;
        CHECK(p[i + size] == '\r' && p[i + size + 1] == '\n', "chunk data not followed by CRLF");
        i += size + 2;
        if (size == 0) return i;
    }
}

/* Parses one server frame (RFC 6455 §5.2) at c->pos: final, unmasked, a known opcode, RSV1
 * only on a (compressed) data frame, the shortest length form, and nothing after a close. */
static parse_result parse_frame(checker *c, const unsigned char *p, size_t avail)
{
    if (avail < 2) return INCOMPLETE;
    CHECK(!c->ws_closed, "a WebSocket frame after the close frame");
    uint8_t opcode = p[0] & 0x0f, rsv = p[0] & 0x70;
    CHECK(p[0] & 0x80, "a server frame that is not final");
    CHECK(opcode == 1 || opcode == 2 || opcode == 8 || opcode == 9 || opcode == 10,
          "a server frame with an odd opcode");
    CHECK(rsv == 0 || (rsv == 0x40 && opcode <= 2), "a server frame with odd RSV bits");
    CHECK(!(p[1] & 0x80), "a masked server frame");
    size_t head = 2, len = p[1] & 0x7f;
    if (len == 126) {
        if (avail < 4) return INCOMPLETE;
        len = (size_t)p[2] << 8 | p[3];
        CHECK(len >= 126, "a frame length not in its shortest form");
        head = 4;
    } else if (len == 127) {
        if (avail < 10) return INCOMPLETE;
        len = 0;
        for (int i = 2; i < 10; i++) len = len << 8 | p[i];
        CHECK(len >= 65536 && len < 100000, "a frame length not in its shortest form");
        head = 10;
    }
    CHECK(opcode < 8 || len <= 125, "a control frame over 125 bytes");
    if (avail < head + len) return INCOMPLETE;
    if (opcode == 8) {
        CHECK(len == 0 || len >= 2, "a close frame of 1 byte");
        c->ws_closed = true;
    }
    c->pos += head + len;
    return PARSED;
}

/* Parses one response at c->pos. */
static parse_result parse_one(checker *c, const char *out, size_t len, bool closed)
{
    const char *p = out + c->pos;
    size_t avail = len - c->pos;
    c->tail_head_only = false;
    if (c->upgraded && c->websocket) return parse_frame(c, (const unsigned char *)p, avail);
    if (c->upgraded) {
        for (size_t i = 0; i < avail; i++) CHECK(p[i] == 'e', "after a 101, bytes not 'e'");
        c->pos = len;
        return PARSED;
    }
    CHECK(!c->after_close, "bytes after a Connection: close response");
    CHECK(is_prefix_of(p, avail, "HTTP/1.1 "), "a response does not start with HTTP/1.1");
    const char *end = memmem(p, avail, "\r\n\r\n", 4);
    if (!end) {
        CHECK(avail < 1024, "a response head that never ends");
        return INCOMPLETE;
    }
    size_t head_len = (size_t)(end - p) + 4;
    CHECK(head_len > 14 && p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' &&
              p[11] >= '0' && p[11] <= '9' && p[12] == ' ',
          "malformed status line");
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (status == 100) {
        CHECK(head_len == 25 && has_prefix(p, avail, "HTTP/1.1 100 Continue\r\n\r\n"),
              "malformed 100 Continue");
        c->pos += head_len;
        return PARSED;
    }
    if (status == 101) {
        c->websocket = memmem(p, head_len, "\r\nUpgrade: websocket\r\n", 22) != NULL;
        CHECK(memmem(p, head_len, "\r\nConnection: Upgrade\r\n", 23) &&
                  (c->websocket || memmem(p, head_len, "\r\nUpgrade: fuzz\r\n", 17)),
              "a 101 without Connection: Upgrade and its Upgrade");
        c->pos += head_len;
        c->complete++;
        c->upgraded = true;
        return PARSED;
    }
    CHECK(status >= 200, "an unexpected 1xx");
    /* Header lines. */
    const char *line = memchr(p, '\n', head_len) + 1;
    long content_length = -1;
    bool chunked = false, close = false, date = false, request_id = false;
    while (line < end + 2) {
        const char *eol = memchr(line, '\n', (size_t)(end + 4 - line));
        CHECK(eol && eol > line && eol[-1] == '\r', "a header line without CRLF");
        size_t n = (size_t)(eol - 1 - line);
        const char *colon = memchr(line, ':', n);
        CHECK(colon && colon > line, "a header line without a name");
        for (const char *q = line; q < colon; q++)
            CHECK(*q > ' ' && *q < 127, "a header name with a bad character");
        CHECK(colon[1] == ' ', "no space after a header colon");
        hp_str name = {line, (size_t)(colon - line)};
        hp_str value = {colon + 2, n - name.len - 2};
        if (name.len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            CHECK(content_length < 0, "two Content-Length headers");
            content_length = strtol(value.base, NULL, 10);
        } else if (name.len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            CHECK(value.len == 7 && memcmp(value.base, "chunked", 7) == 0, "odd Transfer-Encoding");
            chunked = true;
        } else if (name.len == 10 && strncasecmp(line, "Connection", 10) == 0) {
            close = value.len == 5 && memcmp(value.base, "close", 5) == 0;
        } else if (name.len == 4 && strncasecmp(line, "Date", 4) == 0) {
            date = true;
        } else if (name.len == 12 && strncasecmp(line, "X-Request-Id", 12) == 0) {
            request_id = value.len > 0;
        }
        line = eol + 1;
    }
    CHECK(date && request_id, "a response without Date or X-Request-Id");
    CHECK(!(chunked && content_length >= 0), "both Content-Length and chunked");
    const char *body = p + head_len;
    size_t body_avail = avail - head_len;
    size_t body_len = 0;
    bool delimited = false;
    if (status == 204 || status == 304) {
        CHECK(!chunked && content_length < 0, "framing on a bodiless status");
    } else if (content_length > 0 || chunked) {
        /* No body we send starts with "HTTP": one that does is a HEAD answer's next response. */
        if (body_avail == 0) {
            c->tail_head_only = true;
            return INCOMPLETE;
        }
        if (is_prefix_of(body, body_avail, "HTTP/1.1 ")) {
            if (body_avail < 9) return INCOMPLETE;
        } else if (chunked) {
            body_len = chunked_length(body, body_avail);
            if (body_len == 0) return INCOMPLETE;
        } else {
            if (body_avail < (size_t)content_length) return INCOMPLETE;
            body_len = (size_t)content_length;
        }
    } else if (content_length < 0) {
        CHECK(close, "a body delimited by the close without Connection: close");
        if (!closed) return INCOMPLETE;
        body_len = body_avail;
        delimited = true;
    }
    c->pos += head_len + body_len;
    c->complete++;
    c->after_close = close;
    c->last_delimited = delimited;
    return PARSED;
}

static void check_output(checker *c, const mem_transport *m)
{
    while (c->pos < m->out_len && parse_one(c, m->out, m->out_len, m->closed) == PARSED) {
    }
    CHECK(m->violations == 0, "the session broke the transport contract");
    /* The worker asks this of every connection, closing ones included, during a drain. */
    const hp__protocol *p = m->conn.transport.protocol;
    if (m->closed) CHECK(!p->vt->uses_server(p, server), "a closed connection uses its server");
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Completes writes and lets the handler answer until nothing moves; false if nothing did. */
static bool settle(mem_transport *m, checker *c)
{
    bool moved = false;
    for (int round = 0; round < 64 && !m->closed; round++) {
        run_loop();
        bool step = mem_transport_flush(m) > 0;
        step |= run_async();
        check_output(c, m);
        if (!step) break;
        moved = true;
    }
    return moved;
}

/* An exchange end observer (http/context.h): counts the exchanges that ended answered. */
static void count_finished(void *data, const struct hp__exchange *x, bool answered, uint64_t end_ns)
{
    if (answered) ++*(uint64_t *)data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!server) setup();
    if (size == 0) return 0;
    size_t k = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *ctl = data + 1, *in = data + 1 + k;
    size_t in_len = size - 1 - k, fed = 0;

    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    uint64_t fin = 0;
    hp__http_context_observe(&ctx, count_finished, &fin);
    memset(&h, 0, sizeof h);
    mem_transport *m = mem_transport_create_vhosts(&ctx, vhosts);
    h.m = m;
    checker c = {0};

    for (size_t i = 0; i < k && !m->closed; i++) {
        unsigned op = ctl[i] & 7, arg = ctl[i] >> 3;
        switch (op) {
        case 0:
        case 1:
        case 2: {
            size_t n = arg == 31 ? in_len - fed : (size_t)(arg + 1) << (3 * op);
            if (n > in_len - fed) n = in_len - fed;
            fed += mem_transport_feed(m, in + fed, n);
            break;
        }
        case 3:
            m->hold_writes = arg & 1;
            m->sendfile_blocks = arg & 2;
            h.sync_stream = arg & 4;
            m->sendfile_max = arg & 8 ? 700 : 0;
            break;
        case 4:
            if (arg & 16 && arg != 31) {
                mem_transport_flush(m);
            } else {
                mem_transport_complete_write(m, arg == 31 ? -EPIPE : 0);
            }
            break;
        case 5:
            mem_transport_fire_timer(m);
            break;
        case 7:
            if (arg == 0) {
                mem_transport_eof(m);
                break;
            } else if (arg == 1) {
                mem_transport_drain(m);
                break;
            } else if (arg == 2) {
                mem_transport_abort(m);
                break;
            } else if (arg == 3) {
                mem_transport_read_error(m);
                break;
            } else if (arg == 4 || arg == 5) {
                m->write_error = arg == 4 ? -EPIPE : 0;
                break;
            }
            /* fall through */
        default:
            run_async();
            break;
        }
        run_loop();
        check_output(&c, m);
    }

    /* The rest of the bytes, then everything settles. */
    m->write_error = 0;
    for (int round = 0; round < 256 && !m->closed; round++) {
        size_t n = mem_transport_feed(m, in + fed, in_len - fed);
        fed += n;
        bool moved = settle(m, &c);
        if (n == 0 && !moved) break;
    }
    /* An upgraded connection has no timer of its own: the client leaves. */
    if (h.upgraded || (c.websocket && !m->closed)) mem_transport_eof(m);
    /* Every state but HANDLER has a timer, and the handler has answered: it must close. */
    for (int round = 0; round < 16 && !m->closed; round++) {
        mem_transport_fire_timer(m);
        settle(m, &c);
    }
    check_output(&c, m);
    CHECK(m->closed, "the session is still open after every timer fired");
    CHECK(h.pending == NULL && h.registered == h.done_calls, "a done callback was not called");

    bool ok = fin == c.complete || (fin == c.complete + 1 && c.tail_head_only) ||
              (fin + 1 == c.complete && c.last_delimited);
    if (!ok)
        fprintf(stderr, "finished %llu, complete %u, tail head only %d, delimited %d\n",
                (unsigned long long)fin, c.complete, c.tail_head_only, c.last_delimited);
    CHECK(ok, "finished exchanges and complete responses differ");

    if (trace) {
        fprintf(stderr, "---- %u complete, %llu finished; output:\n", c.complete,
                (unsigned long long)fin);
        fwrite(m->out, 1, m->out_len, stderr);
        fprintf(stderr, "\n----\n");
    }
    mem_transport_destroy(m);
    run_loop(); /* a WebSocket closed while its flush was pending is freed there */
    CHECK(ctx.connections_open == 0, "connections_open did not return to 0");
    hp__http_context_close(&ctx);
    return 0;
}
