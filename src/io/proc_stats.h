/* The process's own figures, as Prometheus client libraries export them (process_*): CPU time,
 * memory, file descriptors and start time, read from Linux's /proc/self. */
#ifndef HP_IO_PROC_STATS_H
#define HP_IO_PROC_STATS_H

#include <stdint.h>

typedef struct hp__proc_stats {
    double cpu_seconds;        /* user + system */
    double start_time_seconds; /* since the Unix epoch */
    uint64_t resident_bytes;
    uint64_t virtual_bytes;
    uint64_t open_fds;
    uint64_t max_fds; /* the soft RLIMIT_NOFILE */
} hp__proc_stats;

/* Fills `out`; returns 0, or -1 when /proc cannot be read (then `out` is zeroed). */
int hp__proc_stats_read(hp__proc_stats *out);

#endif
