/* Diagnostics to stderr: one line each, "hostpool: <level>: <message>".
 * Thread-safe (one fprintf per line). The access log is separate (src/http/access_log.c). */
#ifndef HP_COMMON_LOG_H
#define HP_COMMON_LOG_H

typedef enum { HP_LOG_ERROR, HP_LOG_WARN, HP_LOG_INFO, HP_LOG_DEBUG } hp_log_level;

void hp__log(hp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hp__error(...) hp__log(HP_LOG_ERROR, __VA_ARGS__)
#define hp__warn(...) hp__log(HP_LOG_WARN, __VA_ARGS__)
#define hp__info(...) hp__log(HP_LOG_INFO, __VA_ARGS__)

#endif
