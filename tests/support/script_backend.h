/* A backend a test scripts: a loopback listener (a port of the test's own) and a thread that
 * accepts connections one at a time and gives each to the test's serve function, which reads
 * and writes the socket as the test wants (misbehaving on purpose). The thread counts accepts
 * and closes; serve must return when hp_test_backend_readable says the backend stops.
 *
 * Embed it first in the test's own backend struct (`hp_test_backend base;`) and cast in
 * serve. Start and stop on the test's thread; the counters are atomics the test may read. */
#ifndef HP_TEST_SCRIPT_BACKEND_H
#define HP_TEST_SCRIPT_BACKEND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct hp_test_backend hp_test_backend;

/* Serves one accepted connection; the backend closes `fd` after it returns. */
typedef void (*hp_test_backend_serve)(hp_test_backend *b, int fd);

struct hp_test_backend {
    int listen_fd, port;
    hp_test_backend_serve serve;
    pthread_t thread;
    atomic_bool stop;
    atomic_int accepts, closes;
};

/* Listens on 127.0.0.1 (fails the test if it cannot) and starts the thread. The rest of the
 * struct is left as the caller set it (zero it first). */
void hp_test_backend_start(hp_test_backend *b, hp_test_backend_serve serve);
/* Tells serve to return, joins the thread, closes the listener. */
void hp_test_backend_stop(hp_test_backend *b);

/* Waits until `fd` is readable; false once the backend stops. */
bool hp_test_backend_readable(hp_test_backend *b, int fd);
/* Reads one request head into buf (NUL-terminated; at most cap - 1 bytes): its length in
 * *head_len, and returns the bytes read after it (left after the head in buf), or -1. */
ssize_t hp_test_backend_read_head(hp_test_backend *b, int fd, char *buf, size_t cap,
                                  size_t *head_len);
/* Sends all of it (MSG_NOSIGNAL); false when the peer is gone. */
bool hp_test_send_all(int fd, const void *data, size_t len);

#endif
