/* The daemon's pid file (pid_file.h says when it is written, checked and removed). */
#include "cli/pid_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The process id `path` holds, or 0 when it holds none (no file, not a number). */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[32] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *end;
    long pid = got ? strtol(line, &end, 10) : 0;
    return pid > 0 && pid <= INT32_MAX && (*end == '\n' || *end == '\0') ? (pid_t)pid : 0;
}

/* The command name of process `pid` from /proc ("" when there is no /proc or no process). */
static void command_name(const char *pid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (!f) return;
    if (fgets(out, (int)cap, f)) out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* Is `pid` a running process that is a hostpool like us? Without /proc, any running one. */
static bool running_hostpool(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno != EPERM) return false;
    char id[24], theirs[64], ours[64];
    snprintf(id, sizeof id, "%d", (int)pid);
    command_name(id, theirs, sizeof theirs);
    command_name("self", ours, sizeof ours);
    return !ours[0] || !theirs[0] || strcmp(ours, theirs) == 0;
}

bool hp__pid_file_check(const char *path, char *err, size_t errlen)
{
    pid_t pid = read_pid(path);
    if (pid == 0 || pid == getpid() || !running_hostpool(pid)) return true;
    snprintf(err, errlen,
             "pid file %s: process %d, another hostpool, is running with it (stop it, or give "
             "this daemon a pid file of its own)",
             path, (int)pid);
    return false;
}

/* Writes `text` to a new file `tmp`; errno tells why when it returns false. */
static bool write_new(const char *tmp, const char *text, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    bool ok = write(fd, text, len) == (ssize_t)len;
    int saved = errno;
    if (close(fd) != 0 && ok) return false;
    errno = saved;
    return ok;
}

bool hp__pid_file_write(const char *path, char *err, size_t errlen)
{
    char tmp[4200], text[32];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= sizeof tmp) {
        snprintf(err, errlen, "pid file %.200s...: the path is too long", path);
        return false;
    }
    int len = snprintf(text, sizeof text, "%d\n", (int)getpid());
    if (write_new(tmp, text, (size_t)len) && rename(tmp, path) == 0) return true;
    snprintf(err, errlen, "pid file %s: cannot be written: %s", path, strerror(errno));
    unlink(tmp);
    return false;
}

void hp__pid_file_remove(const char *path)
{
    if (read_pid(path) == getpid()) unlink(path);
}
