/* A backend a test scripts (script_backend.h). */
#include "script_backend.h"

#include "hp_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool hp_test_backend_readable(hp_test_backend *b, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!atomic_load(&b->stop))
        if (poll(&p, 1, 20) > 0) return true;
    return false;
}

ssize_t hp_test_backend_read_head(hp_test_backend *b, int fd, char *buf, size_t cap,
                                  size_t *head_len)
{
    size_t len = 0;
    while (len < cap - 1) {
        if (!hp_test_backend_readable(b, fd)) return -1;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            *head_len = (size_t)(end + 4 - buf);
            return (ssize_t)(len - *head_len);
        }
    }
    return -1;
}

bool hp_test_send_all(int fd, const void *data, size_t len)
{
    const char *s = data;
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

static void *run(void *arg)
{
    hp_test_backend *b = arg;
    while (hp_test_backend_readable(b, b->listen_fd)) {
        int fd = accept(b->listen_fd, NULL, NULL);
        if (fd < 0) continue;
        atomic_fetch_add(&b->accepts, 1);
        b->serve(b, fd);
        close(fd);
        atomic_fetch_add(&b->closes, 1);
    }
    return NULL;
}

void hp_test_backend_start(hp_test_backend *b, hp_test_backend_serve serve)
{
    b->serve = serve;
    b->listen_fd = hp_test_hold_port(&b->port);
    assert_true(b->listen_fd >= 0);
    assert_int_equal(pthread_create(&b->thread, NULL, run, b), 0);
}

void hp_test_backend_stop(hp_test_backend *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
    close(b->listen_fd);
}
