/* hp_test: what integration tests need to drive the real hostpool binary on loopback.
 *
 * - Processes: hp_test_server_start() spawns HOSTPOOL_BIN with posix_spawn, its stdout piped
 *   (the ready line "hostpool: listening on http://127.0.0.1:PORT/" gives the port, and
 *   hp_test_server_stdout_until() reads what it prints after that) and its
 *   stderr in a temporary file that the test can read at any time (access log, diagnostics).
 *   Every spawned process is registered; an atexit handler and a handler for SIGTERM, SIGINT,
 *   SIGHUP and SIGALRM kill and reap whatever is still running, and on Linux the child is
 *   started through setpriv(1) with --pdeathsig KILL when it is installed, so even a test
 *   killed with SIGKILL (a ctest timeout) leaves no server behind.
 * - Raw clients: hp_test_conn is a TCP connection to 127.0.0.1 (or to a unix socket) with a receive
 * buffer, so pipelined responses can be read one after the other. Every call takes a deadline; none
 *   blocks forever. "Closed by the server" means read() returned 0 or failed with ECONNRESET.
 * - Responses: hp_test_read_response() parses one HTTP/1.x response: status line, headers,
 *   and the body by Content-Length, chunked coding or close, with 1xx, 204, 304 and answers to
 *   HEAD read without a body.
 * - curl: hp_test_curl() runs curl with a deadline and captures its stdout.
 * - Waiting: tests never sleep to wait for a condition; hp_test_poll_until() polls a condition
 *   until a deadline. hp_test_pause_ms() exists only for pacing a client on purpose (a client
 *   that trickles bytes or does not read), never to wait for the server.
 *
 * Results: functions that talk to the network return HP_TEST_OK (0) or one of the negative
 * hp_test_result codes; hp_test_result_name() names them for messages. Failures that are the
 * harness's own (cannot spawn, no HOSTPOOL_BIN) print a line starting "hp_test: " to stderr.
 *
 * Only 127.0.0.1 and ephemeral ports are used. Single-threaded: call from the test's thread. */
#ifndef HP_TEST_H
#define HP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The address every test server listens on: loopback, an ephemeral port. */
#define HP_TEST_LISTEN "127.0.0.1:0"
/* The body the respond servers of the tests answer with. */
#define HP_TEST_BODY "Hello, World!"
/* The simplest request, answered 200 HP_TEST_BODY by a respond server. */
#define HP_TEST_GET "GET / HTTP/1.1\r\nHost: hostpool.test\r\n\r\n"
/* The default deadline for anything that should happen "now" (a response, a close). */
#define HP_TEST_DEADLINE_MS 5000

typedef enum hp_test_result {
    HP_TEST_OK = 0,
    HP_TEST_TIMEOUT = -1,     /* the deadline passed first */
    HP_TEST_CLOSED = -2,      /* the server closed the connection (EOF or reset) */
    HP_TEST_TRUNCATED = -3,   /* the server closed in the middle of a response */
    HP_TEST_MALFORMED = -4,   /* the bytes received are not a valid HTTP/1.x response */
    HP_TEST_EXTRA_BYTES = -5, /* bytes arrived where none were expected */
    HP_TEST_ERROR = -6,       /* any other failure (see the hp_test: line on stderr) */
} hp_test_result;

const char *hp_test_result_name(int result);

/* ---- time and waiting ---- */

/* Milliseconds on the monotonic clock. */
int64_t hp_test_now_ms(void);

/* VmRSS of this process, in bytes (-1024 when /proc cannot tell): for tests that run the
 * engine in-process and check that streaming keeps memory flat. */
long hp_test_resident_bytes(void);

/* Calls cond(data) every few milliseconds until it returns true (then returns true) or
 * `timeout_ms` passed (then returns false). cond is called at least once. */
typedef bool (*hp_test_condition)(void *data);
bool hp_test_poll_until(hp_test_condition cond, void *data, int timeout_ms);

/* Pacing only: a client that deliberately waits. Never use it to wait for the server. */
void hp_test_pause_ms(int ms);

/* ---- environment and files ---- */

/* HOSTPOOL_BIN, HP_TEST_DATA, HP_SOURCE_DIR; abort with a message when unset. Borrowed. */
const char *hp_test_bin(void);
const char *hp_test_data_dir(void);
const char *hp_test_source_dir(void);

/* A directory private to this test process, created on first use and removed at exit.
 * Borrowed. */
const char *hp_test_temp_dir(void);

/* Writes `len` bytes to the file `dir`/`name` (creating parent folders). Returns 0 or -1. */
int hp_test_write_file(const char *dir, const char *name, const void *data, size_t len);

/* Reads a whole file; *len gets its size. Returns a NUL-terminated, owned buffer, or NULL. */
char *hp_test_read_file(const char *path, size_t *len);

/* ---- the server process ---- */

typedef struct hp_test_server {
    pid_t pid;              /* 0 once reaped */
    int port;               /* from the ready line */
    int stdout_fd;          /* read end of the child's stdout, -1 when closed */
    char stderr_path[4096]; /* the child's stderr, readable at any time */
    int exit_status;        /* after it exited: the exit code, or 128 + signal */
    char out[8192];         /* what it wrote to stdout and the harness read, NUL-terminated */
    size_t out_len;
} hp_test_server;

/* Spawns HOSTPOOL_BIN with `argv` (the arguments after the program name, NULL-terminated),
 * then waits up to `timeout_ms` for the ready line and stores its port. On failure the child
 * is killed and reaped, a message with its stderr is printed, and -1 is returned. */
int hp_test_server_start(hp_test_server *srv, const char *const argv[], int timeout_ms);

/* hp_test_server_start() with the child's RLIMIT_NOFILE (open files) set to `soft` and `hard`
 * before it runs (by prlimit(1), which then executes it: the pid is the server's), for a test
 * of what the server does when it runs out of descriptors. */
int hp_test_server_start_nofile(hp_test_server *srv, const char *const argv[], unsigned soft,
                                unsigned hard, int timeout_ms);

/* Spawns HOSTPOOL_BIN with `argv` as above without waiting for anything: for a process that
 * prints no ready line (a client such as `hostpool events`). Returns 0, or -1 with a message. */
int hp_test_server_spawn(hp_test_server *srv, const char *const argv[]);

/* The same with the arguments as a NULL-terminated list, deadline HP_TEST_DEADLINE_MS. */
int hp_test_server_startl(hp_test_server *srv, const char *arg, ...) __attribute__((sentinel));

/* Starts `hostpool respond --listen 127.0.0.1:0 --body "Hello, World!"` followed by the
 * extra arguments (a NULL-terminated list), deadline HP_TEST_DEADLINE_MS. */
int hp_test_server_start_respond(hp_test_server *srv, ...) __attribute__((sentinel));

/* The CPU time (user plus system) process `pid` used so far, in milliseconds, from
 * /proc/PID/stat; -1 when it cannot be read. For a test that a server stays idle. */
long hp_test_cpu_ms(pid_t pid);

/* Is the process still running? (Reaps it, and records its status, if it exited.) */
bool hp_test_server_running(hp_test_server *srv);

/* Sends `sig` to the process. Returns 0, or -1 when it is not running. */
int hp_test_server_signal(hp_test_server *srv, int sig);

/* Waits up to `timeout_ms` for the process to exit. Returns its exit status (the exit code,
 * or 128 + the signal that killed it), or HP_TEST_TIMEOUT with the process still running.
 * A status other than 0 is reported on stderr with the end of the server's stderr. */
int hp_test_server_wait(hp_test_server *srv, int timeout_ms);

/* Sends `sig` and waits up to `timeout_ms` for the exit; returns the exit status. If the
 * process did not exit in time it is killed with SIGKILL and reaped, and HP_TEST_TIMEOUT is
 * returned. Safe to call on a server that is not running (returns its recorded status). */
int hp_test_server_stop(hp_test_server *srv, int sig, int timeout_ms);

/* Kills (SIGKILL) and reaps the process if it runs; closes the pipe. Idempotent. */
void hp_test_server_kill(hp_test_server *srv);

/* Reads the process's stdout until it holds `text`, for `timeout_ms` at most. Returns all of
 * it read so far (srv->out, from the first line), or NULL when `text` did not come in time,
 * stdout was closed or srv->out is full. */
const char *hp_test_server_stdout_until(hp_test_server *srv, const char *text, int timeout_ms);

/* Everything the process wrote to stderr so far (owned, NUL-terminated; never NULL). */
char *hp_test_server_stderr(const hp_test_server *srv);

/* ---- raw TCP clients ---- */

typedef struct hp_test_conn {
    int fd;         /* -1 when closed */
    int port;       /* the server's port */
    int local_port; /* ours */
    char *buf;      /* received bytes not yet consumed by a reader */
    size_t len, cap;
    bool eof;       /* the server closed its side (read returned 0 or a reset) */
    int read_errno; /* the errno of a failed read (ECONNRESET), 0 otherwise */
} hp_test_conn;

/* Connects to 127.0.0.1:port, with TCP_NODELAY so each send leaves at once. `rcvbuf` > 0 sets
 * SO_RCVBUF before connecting (a small value makes a slow reader's back-pressure reach the server
 * quickly). Returns 0 or -errno
 * (-ECONNREFUSED, -ETIMEDOUT). */
int hp_test_connect(hp_test_conn *conn, int port, int timeout_ms);
int hp_test_connect_rcvbuf(hp_test_conn *conn, int port, int rcvbuf, int timeout_ms);
/* hp_test_connect from the loopback source address `from` ("127.0.0.2"): another client. */
int hp_test_connect_from(hp_test_conn *conn, const char *from, int port, int timeout_ms);
/* The same to the unix socket at `path` (conn->port is 0). */
int hp_test_connect_unix(hp_test_conn *conn, const char *path, int timeout_ms);

/* Closes the connection (idempotent) and frees its buffer. */
void hp_test_close(hp_test_conn *conn);

/* Sends all `len` bytes. Returns HP_TEST_OK, HP_TEST_TIMEOUT, or HP_TEST_CLOSED when the
 * server closed or reset the connection (EPIPE, ECONNRESET). */
int hp_test_send(hp_test_conn *conn, const void *data, size_t len, int timeout_ms);
int hp_test_send_str(hp_test_conn *conn, const char *text, int timeout_ms);

/* Sends `len` bytes `piece` bytes at a time with `gap_ms` between pieces, like a slow client.
 * Stops early, returning the number of bytes sent so far, as soon as the server sends
 * something or closes; returns `len` when everything was sent, or a negative result. */
ssize_t hp_test_send_trickle(hp_test_conn *conn, const void *data, size_t len, size_t piece,
                             int gap_ms);

/* Waits up to `timeout_ms` for the server to close the connection without sending anything
 * more. Returns HP_TEST_CLOSED (it did), HP_TEST_TIMEOUT (still open) or HP_TEST_EXTRA_BYTES
 * (bytes arrived; they stay in conn->buf). */
int hp_test_wait_closed(hp_test_conn *conn, int timeout_ms);

/* Reads whatever arrives within `timeout_ms` into conn->buf, until the deadline or the close.
 * Returns the number of new bytes. */
size_t hp_test_read_some(hp_test_conn *conn, int timeout_ms);

/* Did `text` arrive (anywhere in conn->buf)? */
bool hp_test_received(const hp_test_conn *conn, const char *text);
/* Reads until `text` arrived (a stream's next event, an echo); false at the deadline
 * (`timeout_ms`) or when the server closed without sending it. */
bool hp_test_wait_for_text(hp_test_conn *conn, const char *text, int timeout_ms);

/* Bytes that arrived in the kernel's receive queue and were not read yet (FIONREAD). */
size_t hp_test_pending_bytes(const hp_test_conn *conn);

/* Bytes we sent that the server process has not read from its socket yet, from the
 * server's side of this connection in /proc/net/tcp; -1 when the socket is not found. Lets a
 * test know that the server has read a partial request before acting on it. */
long hp_test_server_unread_bytes(const hp_test_conn *conn);

/* Polls until the server process has read every byte we sent (see above). */
bool hp_test_wait_server_read_all(const hp_test_conn *conn, int timeout_ms);

/* ---- responses ---- */

typedef struct hp_test_header {
    char *name;
    char *value; /* leading and trailing whitespace removed */
} hp_test_header;

typedef struct hp_test_response {
    int version_minor; /* HTTP/1.<minor> */
    int status;
    char *reason;
    hp_test_header *headers;
    size_t header_count;
    char *body; /* de-chunked, NUL-terminated for convenience; body_len excludes the NUL */
    size_t body_len;
    bool chunked;         /* the body came with Transfer-Encoding: chunked */
    bool close_delimited; /* the body ended with the connection */
} hp_test_response;

/* Reads one response from `conn` (the bytes of later responses stay buffered). `to_head`: the
 * response answers a HEAD request, so it has no body whatever its headers say. Returns
 * HP_TEST_OK with `resp` filled (free it with hp_test_response_free), or HP_TEST_TIMEOUT,
 * HP_TEST_CLOSED (closed before the first byte of a response), HP_TEST_TRUNCATED or
 * HP_TEST_MALFORMED (then `resp` needs no freeing). */
int hp_test_read_response(hp_test_conn *conn, hp_test_response *resp, bool to_head, int timeout_ms);

/* The value of the first header called `name` (case-insensitive), or NULL. Borrowed. */
const char *hp_test_response_header(const hp_test_response *resp, const char *name);
/* How many headers are called `name`. */
size_t hp_test_response_header_count(const hp_test_response *resp, const char *name);
/* Does the comma-separated header `name` contain `token` (case-insensitive)? */
bool hp_test_response_header_has(const hp_test_response *resp, const char *name, const char *token);

void hp_test_response_free(hp_test_response *resp);

/* Connects, sends `request`, reads one response and closes: the short form of a whole
 * exchange. Returns HP_TEST_OK or a negative result as above. */
int hp_test_exchange(int port, const char *request, hp_test_response *resp, int timeout_ms);
int hp_test_exchange_unix(const char *path, const char *request, hp_test_response *resp,
                          int timeout_ms);

/* ---- curl ---- */

/* Runs `curl` with `args` (NULL-terminated, after the program name) and a deadline; its
 * stdout goes to *out (owned, NUL-terminated, *out_len bytes; out may be NULL), its stderr to
 * ours. Returns curl's exit code, or HP_TEST_TIMEOUT (curl was killed), or HP_TEST_ERROR. */
int hp_test_curl(const char *const args[], char **out, size_t *out_len, int timeout_ms);

/* ---- running a command to its end ---- */

typedef struct hp_test_run_result {
    int status; /* the exit code, 128 + signal, HP_TEST_TIMEOUT (killed) or HP_TEST_ERROR */
    char *out;  /* its stdout, owned, NUL-terminated, never NULL */
    char *err;  /* its stderr, the same */
} hp_test_run_result;

/* Runs `argv[0]` (searched in PATH) with `argv` (NULL-terminated), stdin from the file
 * `stdin_path` (NULL: /dev/null), and collects its stdout and stderr until it exits or
 * `timeout_ms` passed (then it is killed and status is HP_TEST_TIMEOUT). Spawned and tracked
 * like every child (never left behind). Free the result with hp_test_run_free. */
hp_test_run_result hp_test_run(const char *const argv[], const char *stdin_path, int timeout_ms);
void hp_test_run_free(hp_test_run_result *r);

/* ---- matching ---- */

/* Does `text` match the POSIX extended regular expression `pattern`? */
bool hp_test_matches(const char *text, const char *pattern);

/* A loopback port held by a plain listening socket: returns its descriptor (close it to free
 * the port) and the port in *port, or -1. */
int hp_test_hold_port(int *port);
/* The same on a given port (one a server just let go of); -1 when it cannot be bound. */
int hp_test_hold_port_at(int port);
/* A loopback port of [min, max] that was free a moment ago, or -1. Successive calls go on
 * from the last port given (wrapping), so they give different ports. Give each test file a
 * range of its own below 32768: the kernel hands out ephemeral ports (client connections,
 * port 0) above, so a port taken from there may be some test's client port by the time a
 * server binds it. */
int hp_test_free_port_in(int min, int max);

#endif
