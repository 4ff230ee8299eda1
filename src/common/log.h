/* Diagnostics: one line each, "hostpool: <level>: <message>", on stderr, or in the error log
 * file the daemon's `error_log` names. Thread-safe (one write per line).
 *
 * hp__log_open_file() points file descriptor 2 at the file (dup2), so the daemon's other
 * messages (its lifecycle lines) land there too, as nginx's error_log does; the stderr the
 * process started with is kept (hp__log_stderr_fd) for what stays on it: access log lines of
 * servers without an access_log.path. hp__log_reopen() opens the path again and dup2()s it
 * onto 2 (SIGUSR1, after logrotate renamed the file): a write in flight completes on the old
 * file. Open, reopen and the level are set on the control thread; hp__log from any thread.
 * The access log is separate (src/http/access_log.c). */
#ifndef HP_COMMON_LOG_H
#define HP_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { HP_LOG_ERROR, HP_LOG_WARN, HP_LOG_INFO, HP_LOG_DEBUG } hp_log_level;

void hp__log(hp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hp__error(...) hp__log(HP_LOG_ERROR, __VA_ARGS__)
#define hp__warn(...) hp__log(HP_LOG_WARN, __VA_ARGS__)
#define hp__info(...) hp__log(HP_LOG_INFO, __VA_ARGS__)

/* The most detailed level written (info by default: debug lines are compiled in, not shown). */
void hp__log_set_level(hp_log_level level);
/* The level named `name` ("error", "warning", "info", "debug"); false if none. */
bool hp__log_level_parse(const char *name, hp_log_level *out);

/* Sends diagnostics (and everything else written to file descriptor 2) to `path`, appending;
 * false with the reason in `err` if it cannot be opened (nothing changes then). */
bool hp__log_open_file(const char *path, char *err, size_t errlen);
/* Opens the file of hp__log_open_file again (nothing without one); false with the reason
 * logged if it cannot (the old file stays in use). */
bool hp__log_reopen(void);
/* The process's stderr as it started (before hp__log_open_file moved descriptor 2). */
int hp__log_stderr_fd(void);

#endif
