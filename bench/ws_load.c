/* bench_ws_load: a WebSocket load client for bench/websocket.sh, the same for every server it
 * measures (hostpool's `pubsub` and `echo` routes, and the Node `ws` server of
 * bench/ws_node_server.js, which speaks the same JSON protocol). Frames are wslay's (its
 * event API, one context per connection: a client's memory does not matter here).
 *
 *   bench_ws_load broadcast -n SUBS -m MESSAGES [-s SIZE] [-w WINDOW] [-p PATH] PORT
 *     SUBS connections subscribe to topic "bench"; one more publishes MESSAGES messages whose
 *     `data` is a string of SIZE bytes (64) starting with its send time, at most WINDOW (16)
 *     of them not yet delivered to every subscriber. Prints the messages delivered and the
 *     delivery latency (publish to receipt) percentiles.
 *   bench_ws_load echo -m MESSAGES [-s SIZE] [-p PATH] PORT
 *     One connection sends MESSAGES text messages of SIZE bytes one after another, each once
 *     the one before came back. Prints the round trip's percentiles.
 *   bench_ws_load idle -n CONNS [-p PATH] PORT
 *     Opens CONNS connections all at once, each sending {"type":"ping"} and reading its pong
 *     (so each has read and written once, as a real client has), prints "ready N", then holds
 *     them idle until SIGTERM or SIGINT. All at once, not in batches: what the burst leaves
 *     in the server (buffers kept for reuse) is charged to the connections.
 *
 * Only ever connects to 127.0.0.1. Every wait has a deadline (30 s without progress: exit
 * 1). Raises RLIMIT_NOFILE itself. */
#include <wslay/wslay.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define STALL_MS 30000
#define HEAD_MAX 2048

typedef struct conn {
    int fd;
    wslay_event_context_ptr ws;
    char head[HEAD_MAX]; /* the handshake's answer, then the bytes after it */
    size_t head_len, extra_off;
    bool open;    /* the 101 came */
    bool ready;   /* subscribed (broadcast), or open (echo, idle) */
    uint64_t got; /* messages received */
} conn;

static const char *path = "/ws";
static int port;
static size_t msg_size = 64;
static int epfd;
static uint64_t *latencies;
static size_t latency_count, latency_cap;
static volatile sig_atomic_t stop_asked;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_ws_load: %s\n", what);
    exit(1);
}

/* ---- wslay's callbacks: the socket is non-blocking -------------------------------------- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *data)
{
    conn *c = data;
    if (c->extra_off < c->head_len) { /* bytes that came with the 101 */
        size_t n = c->head_len - c->extra_off;
        if (n > len) n = len;
        memcpy(buf, c->head + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len, int flags,
                       void *data)
{
    conn *c = data;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int on_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *data)
{
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rand();
    return 0;
}

static void record_latency(uint64_t ns)
{
    if (latency_count == latency_cap) {
        latency_cap = latency_cap ? latency_cap * 2 : 1 << 16;
        latencies = realloc(latencies, latency_cap * sizeof *latencies);
        if (!latencies) die("out of memory");
    }
    latencies[latency_count++] = ns;
}

/* A message: "subscribed" makes the connection ready; one that carries a send time (a
 * broadcast's `data`, an echo) gives a latency. */
static void on_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                       void *data)
{
    conn *c = data;
    if (arg->opcode != WSLAY_TEXT_FRAME) return;
    const char *text = (const char *)arg->msg;
    size_t len = arg->msg_length;
    if (memmem(text, len, "\"subscribed\"", 12) || memmem(text, len, "\"pong\"", 6)) {
        c->ready = true;
        return;
    }
    const char *t = memmem(text, len, "T", 1); /* data: "T<ns>xxxx..." */
    if (!t) return;
    c->got++;
    record_latency(now_ns() - strtoull(t + 1, NULL, 10));
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .genmask_callback = on_genmask,
    .on_msg_recv_callback = on_message,
};

/* ---- connections ------------------------------------------------------------------------ */

static void watch(conn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0) die("epoll_ctl");
}

static void conn_open(conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, port);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) die("send handshake");
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    watch(c, EPOLLIN, EPOLL_CTL_ADD);
}

static void conn_send(conn *c, const char *text, size_t len)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(c->ws, &msg) != 0 || wslay_event_send(c->ws) != 0)
        die("send message");
    watch(c, EPOLLIN | (wslay_event_want_write(c->ws) ? EPOLLOUT : 0), EPOLL_CTL_MOD);
}

/* What a connection sends once open, before it is ready: a subscribe (broadcast: ready at
 * "subscribed"), a ping (idle: ready at "pong", so it has read and written once, as a real
 * idle client has), or nothing (echo: ready at once). */
typedef enum first_message { FIRST_NONE, FIRST_SUBSCRIBE, FIRST_PING } first_message;

/* The handshake's answer: a 101, then the connection is wslay's. */
static void read_head(conn *c, first_message first)
{
    ssize_t n = recv(c->fd, c->head + c->head_len, sizeof c->head - c->head_len - 1, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        die("handshake: connection closed");
    }
    c->head_len += (size_t)n;
    c->head[c->head_len] = '\0';
    char *end = strstr(c->head, "\r\n\r\n");
    if (!end) return;
    if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) die("handshake: not 101");
    c->extra_off = (size_t)(end + 4 - c->head);
    c->open = true;
    wslay_event_context_client_init(&c->ws, &callbacks, c);
    static const char sub[] = "{\"type\":\"subscribe\",\"topic\":\"bench\"}";
    static const char ping[] = "{\"type\":\"ping\"}";
    if (first == FIRST_SUBSCRIBE)
        conn_send(c, sub, sizeof sub - 1);
    else if (first == FIRST_PING)
        conn_send(c, ping, sizeof ping - 1);
    else
        c->ready = true;
    if (c->extra_off < c->head_len && wslay_event_recv(c->ws) != 0) die("receive");
}

static void on_event(conn *c, uint32_t events, first_message first)
{
    if (!c->open) {
        read_head(c, first);
        return;
    }
    if ((events & EPOLLIN) && wslay_event_recv(c->ws) != 0) die("receive: connection lost");
    if ((events & EPOLLOUT) && wslay_event_send(c->ws) != 0) die("send: connection lost");
    watch(c, EPOLLIN | (wslay_event_want_write(c->ws) ? EPOLLOUT : 0), EPOLL_CTL_MOD);
}

/* Runs the loop until `done(arg)` holds; dies after STALL_MS without an event. */
static void run_until(bool (*done)(void *), void *arg, first_message first)
{
    struct epoll_event events[256];
    while (!done(arg)) {
        int n = epoll_wait(epfd, events, 256, STALL_MS);
        if (n == 0) die("stalled for 30 s");
        if (n < 0 && errno == EINTR) {
            if (stop_asked) return;
            continue;
        }
        for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events, first);
    }
}

static conn *conns;
static size_t conn_count; /* opened so far */

static bool all_ready(void *arg)
{
    for (size_t i = 0; i < conn_count; i++)
        if (!conns[i].ready) return false;
    return true;
}

/* ---- the three modes -------------------------------------------------------------------- */

/* Opens `n` connections, `batch` at a time (each batch ready before the next is opened), and
 * returns once every one is ready. */
static void open_all(size_t n, first_message first, size_t batch)
{
    conns = calloc(n, sizeof *conns);
    if (!conns) die("out of memory");
    for (conn_count = 0; conn_count < n;) {
        conn_open(&conns[conn_count++]);
        if (conn_count % batch == 0 || conn_count == n) run_until(all_ready, NULL, first);
    }
}

/* The text of a message sent at `t`: its data starts with "T<ns>". */
static size_t message_text(char *buf, size_t cap, bool publish, uint64_t t)
{
    char data[4096];
    int n = snprintf(data, sizeof data, "T%" PRIu64, t);
    while ((size_t)n < msg_size && (size_t)n < sizeof data - 1) data[n++] = 'x';
    data[n] = '\0';
    if (!publish) return (size_t)snprintf(buf, cap, "%s", data);
    return (size_t)snprintf(buf, cap, "{\"type\":\"publish\",\"topic\":\"bench\",\"data\":\"%s\"}",
                            data);
}

static uint64_t delivered_min(void)
{
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < conn_count; i++)
        if (conns[i].got < min) min = conns[i].got;
    return min;
}

typedef struct progress {
    uint64_t want;
} progress;

static bool delivered_at_least(void *arg)
{
    return delivered_min() >= ((progress *)arg)->want;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void print_latencies(const char *what)
{
    qsort(latencies, latency_count, sizeof *latencies, cmp_u64);
    size_t n = latency_count;
    printf("%s %zu p50_us %.1f p99_us %.1f max_us %.1f\n", what, n,
           n ? latencies[n / 2] / 1000.0 : 0, n ? latencies[n * 99 / 100] / 1000.0 : 0,
           n ? latencies[n - 1] / 1000.0 : 0);
}

static void broadcast(size_t subs, uint64_t messages, uint64_t window)
{
    open_all(subs, FIRST_SUBSCRIBE, 64); /* no connect storm */
    conn publisher;
    conn_open(&publisher);
    while (!publisher.open) on_event(&publisher, EPOLLIN, FIRST_NONE);
    printf("subscribed %zu\n", subs);
    fflush(stdout);
    uint64_t start = now_ns();
    char text[4400];
    for (uint64_t sent = 0; sent < messages; sent++) {
        progress p = {sent >= window ? sent - window + 1 : 0};
        run_until(delivered_at_least, &p, FIRST_SUBSCRIBE);
        conn_send(&publisher, text, message_text(text, sizeof text, true, now_ns()));
    }
    progress all = {messages};
    run_until(delivered_at_least, &all, FIRST_SUBSCRIBE);
    double seconds = (now_ns() - start) / 1e9;
    printf("delivered %" PRIu64 " seconds %.3f\n", (uint64_t)latency_count, seconds);
    print_latencies("latency");
}

static bool echo_back(void *arg)
{
    return conns[0].got >= *(uint64_t *)arg;
}

static void echo(uint64_t messages)
{
    open_all(1, FIRST_NONE, 1);
    char text[4400];
    for (uint64_t i = 0; i < messages; i++) {
        conn_send(&conns[0], text, message_text(text, sizeof text, false, now_ns()));
        uint64_t want = i + 1;
        run_until(echo_back, &want, FIRST_NONE);
    }
    print_latencies("round_trip");
}

static void on_stop(int sig)
{
    stop_asked = 1;
}

/* Holds the connections, answering the server's pings, until a signal. */
static void idle(size_t n)
{
    open_all(n, FIRST_PING, n); /* at once: the memory a burst leaves counts */
    printf("ready %zu\n", n);
    fflush(stdout);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    struct epoll_event events[256];
    while (!stop_asked) {
        int k = epoll_wait(epfd, events, 256, 1000);
        for (int i = 0; i < k; i++) on_event(events[i].data.ptr, events[i].events, FIRST_PING);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: bench_ws_load broadcast|echo|idle [-n N] [-m M] [-s SIZE] [-w W] [-p PATH] "
            "PORT");
    const char *mode = argv[1];
    size_t n = 1000;
    uint64_t messages = 1000, window = 16;
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "n:m:s:w:p:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            messages = strtoull(optarg, NULL, 10);
        else if (opt == 's')
            msg_size = strtoul(optarg, NULL, 10);
        else if (opt == 'w')
            window = strtoull(optarg, NULL, 10);
        else if (opt == 'p')
            path = optarg;
        else
            die("unknown option");
    }
    if (optind >= argc || msg_size < 24 || msg_size > 4000 || !window) die("bad arguments");
    port = atoi(argv[optind]);
    struct rlimit rl = {n + 64, n + 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    epfd = epoll_create1(0);
    if (strcmp(mode, "broadcast") == 0)
        broadcast(n, messages, window);
    else if (strcmp(mode, "echo") == 0)
        echo(messages);
    else if (strcmp(mode, "idle") == 0)
        idle(n);
    else
        die("unknown mode");
    return 0;
}
