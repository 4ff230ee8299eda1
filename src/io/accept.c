#include "io/accept.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define RETRY_MS 100
#define ACCEPT_BATCH 64

static const hp_limits *listener_limits(const hp__listener *l)
{
    return &l->vhosts->head->limits;
}

/* ---- the reserve descriptor --------------------------------------------------------------- */

static void reserve_restore(hp__acceptor *a)
{
    if (a->wants_reserve && a->reserve_fd < 0)
        a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* -1 again: not yet */
}

void hp__acceptor_conn_closed(hp__acceptor *a)
{
    reserve_restore(a);
}

/* ---- polling ------------------------------------------------------------------------------ */

static void on_readable(uv_poll_t *p, int status, int events);
static void starve(hp__listener *l, int err);

/* Polls `l`, or stops, as its state says. */
static void listener_update(hp__listener *l)
{
    if (l->closing) return;
    bool want = !l->paused && !l->starved;
    if (want == (uv_is_active((uv_handle_t *)&l->poll) != 0)) return;
    if (!want) {
        uv_poll_stop(&l->poll);
        return;
    }
    int r = uv_poll_start(&l->poll, UV_READABLE, on_readable);
    if (r != 0) starve(l, r);
}

int hp__listener_start(hp__listener *l, int fd)
{
    hp__acceptor *a = hp__worker_acceptor(l->worker);
    int r = uv_poll_init(hp__worker_loop(l->worker), &l->poll, fd);
    if (r != 0) {
        close(fd);
        l->fd = -1;
        return r;
    }
    l->fd = fd;
    l->poll.data = l;
    if (l->reserved) {
        a->wants_reserve = true;
        reserve_restore(a);
    }
    listener_update(l);
    return 0;
}

void hp__listener_resume(hp__listener *l)
{
    if (!l->paused || l->conn_count >= listener_limits(l)->max_connections) return;
    l->paused = false;
    listener_update(l);
}

void hp__listener_close(hp__listener *l, uv_close_cb cb)
{
    l->closing = true;
    uv_close((uv_handle_t *)&l->poll, cb); /* stops polling the descriptor at once */
    close(l->fd);
    l->fd = -1;
}

/* ---- starving and retrying ---------------------------------------------------------------- */

/* A retry: every listener starved since the last one is polled again. A retry that finds none
 * ends the episode. */
static void on_retry(uv_timer_t *t)
{
    hp__acceptor *a = t->data;
    reserve_restore(a);
    bool any = false;
    for (hp__listener *l = *a->open; l; l = l->next) {
        if (!l->starved) continue;
        l->starved = false;
        any = true;
        listener_update(l);
    }
    if (any) {
        uv_timer_start(&a->retry, on_retry, RETRY_MS, 0);
        return;
    }
    a->starving = false;
    hp__info("worker %u: accepting connections again (short of descriptors for %llu ms)", a->worker,
             (unsigned long long)(uv_now(t->loop) - a->since));
}

static void starve(hp__listener *l, int err)
{
    hp__acceptor *a = hp__worker_acceptor(l->worker);
    l->starved = true;
    listener_update(l);
    if (!a->starving) {
        a->starving = true;
        a->since = uv_now(a->retry.loop);
        hp__warn("worker %u: cannot accept connections: %s; serving those open, new ones wait "
                 "(accepting again every %d ms)",
                 a->worker, uv_strerror(err), RETRY_MS);
    }
    if (!uv_is_active((uv_handle_t *)&a->retry)) uv_timer_start(&a->retry, on_retry, RETRY_MS, 0);
}

/* ---- accepting ---------------------------------------------------------------------------- */

static int accept_fd(int listen_fd)
{
    int fd;
    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd >= 0 ? fd : -errno;
}

/* One connection's descriptor, or -errno. A reserved listener refused for want of descriptors
 * takes the reserve. */
static int accept_one(hp__listener *l)
{
    int fd = accept_fd(l->fd);
    hp__acceptor *a = hp__worker_acceptor(l->worker);
    if ((fd != -EMFILE && fd != -ENFILE) || !l->reserved || a->reserve_fd < 0) return fd;
    close(a->reserve_fd);
    a->reserve_fd = -1;
    fd = accept_fd(l->fd);
    reserve_restore(a); /* fails while the connection holds the last slot */
    return fd;
}

/* Linux reports on accept() the errors of a connection that failed while it waited: that one
 * is gone, the next may be fine. */
static bool connection_gone(int err)
{
    switch (err) {
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* a firewall rule refused it */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    hp__listener *l = p->data;
    if (status < 0) {
        starve(l, status);
        return;
    }
    for (int i = 0; i < ACCEPT_BATCH && !l->closing; i++) {
        if (l->conn_count >= listener_limits(l)->max_connections) {
            l->paused = true; /* the kernel's backlog holds the rest */
            listener_update(l);
            return;
        }
        int fd = accept_one(l);
        if (fd == -EAGAIN) return;
        if (fd < 0 && connection_gone(-fd)) continue;
        if (fd < 0) {
            starve(l, uv_translate_sys_error(-fd)); /* descriptors, memory, or worse */
            return;
        }
        int r = hp__conn_open(l, fd);
        if (r != 0)
            hp__warn("worker %u: cannot open a connection: %s",
                     hp__worker_acceptor(l->worker)->worker, uv_strerror(r));
    }
}

/* ---- the worker's acceptor ---------------------------------------------------------------- */

void hp__acceptor_init(hp__acceptor *a, uv_loop_t *loop, unsigned worker, hp__listener **open)
{
    a->open = open;
    a->reserve_fd = -1;
    a->worker = worker;
    uv_timer_init(loop, &a->retry);
    a->retry.data = a;
}

void hp__acceptor_close(hp__acceptor *a)
{
    if (!uv_is_closing((uv_handle_t *)&a->retry)) uv_close((uv_handle_t *)&a->retry, NULL);
}

void hp__acceptor_free(hp__acceptor *a)
{
    if (a->reserve_fd >= 0) close(a->reserve_fd);
    a->reserve_fd = -1;
}
