/* Child processes of a test, tracked so that none is ever left behind.
 *
 * Three layers: (1) each child runs under `setpriv --pdeathsig KILL` when setpriv exists, so
 * the kernel kills it if the test process dies in any way, SIGKILL included; (2) an atexit
 * handler kills and reaps every tracked child on a normal exit (a failed assertion too);
 * (3) SIGTERM, SIGINT, SIGHUP and SIGALRM kill the tracked children before the test dies of
 * the signal. SIGPIPE is ignored so a write to a closed socket fails with EPIPE instead. Also:
 * the CPU time a child used, for tests that a server stays idle. */
#include "hp_test_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 256

static volatile pid_t children[MAX_CHILDREN];
static bool installed;

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
    fprintf(stderr, "hp_test: more than %d live children\n", MAX_CHILDREN);
    abort();
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid) children[i] = 0;
}

static void kill_all_children(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        pid_t pid = children[i];
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            children[i] = 0;
        }
    }
}

static void on_fatal_signal(int sig)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0) kill(children[i], SIGKILL); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup(void)
{
    if (installed) return;
    installed = true;
    atexit(kill_all_children);
    signal(SIGPIPE, SIG_IGN);
    const int fatal[] = {SIGTERM, SIGINT, SIGHUP, SIGALRM};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], on_fatal_signal);
}

static bool have_setpriv(void)
{
    static int known = -1;
    if (known < 0) known = access("/usr/bin/setpriv", X_OK) == 0;
    return known == 1;
}

pid_t hp_test__spawn(const char *const argv[], int in_fd, int out_fd, int err_fd)
{
    install_cleanup();

    size_t argc = 0;
    while (argv[argc]) argc++;
    const char **full = calloc(argc + 4, sizeof *full);
    size_t n = 0;
    if (have_setpriv()) {
        full[n++] = "/usr/bin/setpriv";
        full[n++] = "--pdeathsig=KILL";
        full[n++] = "--";
    }
    for (size_t i = 0; i < argc; i++) full[n++] = argv[i];
    full[n] = NULL;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

    /* The child starts with default signal dispositions (SIGPIPE included). */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGALRM);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    pid_t pid;
    int rc = posix_spawnp(&pid, full[0], &actions, &attr, (char *const *)full, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "hp_test: cannot spawn %s: %s\n", argv[0], strerror(rc));
        free(full);
        return -1;
    }
    free(full);
    track(pid);
    return pid;
}

static int decode_status(int wstatus)
{
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return 255;
}

bool hp_test__reap(pid_t pid, int timeout_ms, int *status)
{
    int64_t deadline = hp_test_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int wstatus;
        pid_t got = waitpid(pid, &wstatus, WNOHANG);
        if (got == pid) {
            untrack(pid);
            if (status) *status = decode_status(wstatus);
            return true;
        }
        if (got < 0 && errno != EINTR) { /* not our child any more */
            untrack(pid);
            if (status) *status = 255;
            return true;
        }
        if (hp_test_now_ms() >= deadline) return false;
        hp_test_pause_ms(2); /* polling interval */
    }
}

void hp_test__kill(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    untrack(pid);
}

long hp_test_cpu_ms(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *text = hp_test_read_file(path, NULL);
    const char *p = text ? strrchr(text, ')') : NULL; /* the command name may hold spaces */
    unsigned long utime, stime;
    int got =
        p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime)
          : 0;
    free(text);
    if (got != 2) return -1;
    return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}
