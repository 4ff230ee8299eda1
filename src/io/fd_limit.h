/* The process's limit on open files (RLIMIT_NOFILE): every connection holds one. */
#ifndef HP_IO_FD_LIMIT_H
#define HP_IO_FD_LIMIT_H

#include <stdint.h>

/* Raises the soft limit to the hard one, as a server of many connections wants all it may
 * have (a shell's default soft limit is often 1024, the hard one far more). Returns the soft
 * limit it leaves (UINT64_MAX: unlimited). Call at start, before any thread: the limit is the
 * whole process's. */
uint64_t hp__fd_limit_raise(void);

/* The soft limit now (UINT64_MAX: unlimited). */
uint64_t hp__fd_limit(void);

#endif
