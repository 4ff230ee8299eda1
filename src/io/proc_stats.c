/* /proc/self/stat (CPU ticks, start time in ticks since boot, sizes), /proc/stat (boot time)
 * and /proc/self/fd (open descriptors). */
#include "io/proc_stats.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The boot time, seconds since the epoch ("btime" of /proc/stat), or 0. */
static uint64_t boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1) break;
    fclose(f);
    return btime;
}

/* Fields 14 (utime) to 24 (rss) of /proc/self/stat. */
static int read_stat(hp__proc_stats *out)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *after_name = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    unsigned long long utime, stime, start, vsize, rss;
    if (!after_name || sscanf(after_name + 1,
                              " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                              "%*d %*d %*d %llu %llu %llu",
                              &utime, &stime, &start, &vsize, &rss) != 5)
        return -1;
    double ticks = (double)sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)(utime + stime) / ticks;
    out->start_time_seconds = (double)boot_time() + (double)start / ticks;
    out->virtual_bytes = vsize;
    out->resident_bytes = rss * (uint64_t)sysconf(_SC_PAGESIZE);
    return 0;
}

static uint64_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

int hp__proc_stats_read(hp__proc_stats *out)
{
    *out = (hp__proc_stats){0};
    if (read_stat(out) != 0) return -1;
    out->open_fds = count_fds();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) out->max_fds = (uint64_t)rl.rlim_cur;
    return 0;
}
