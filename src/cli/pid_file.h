/* The daemon's pid file (`pid_file` in the config, `hostpool run --pid-file FILE`).
 *
 * Like nginx's: the file holds the daemon's process id and a newline. It is written once the
 * daemon runs (its admin API and servers started), so a supervisor that waits for it finds a
 * daemon that answers, and removed when the daemon exits (only if it still holds our id: a
 * file another daemon took over is left alone). Writing goes through a temporary file in the
 * same folder and a rename, so a reader never sees a half-written id.
 *
 * At start, before anything binds, a file that names a running hostpool (by /proc/PID/comm,
 * where there is /proc; without it, any running process) refuses the start: two daemons must
 * not claim one pid file, or `kill $(cat FILE)` reaches the wrong one. A file left by a daemon
 * that was killed (its process gone, or its id reused by another program) is replaced. */
#ifndef HP_CLI_PID_FILE_H
#define HP_CLI_PID_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* False (and why in `err`) when `path` names another running hostpool. */
bool hp__pid_file_check(const char *path, char *err, size_t errlen);
/* Writes our id to `path`; false (and why in `err`) when it cannot. */
bool hp__pid_file_write(const char *path, char *err, size_t errlen);
/* Removes `path` if it holds our id. */
void hp__pid_file_remove(const char *path);

#endif
