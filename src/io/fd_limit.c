#include "io/fd_limit.h"

#include <sys/resource.h>

static uint64_t as_count(rlim_t v)
{
    return v == RLIM_INFINITY ? UINT64_MAX : (uint64_t)v;
}

uint64_t hp__fd_limit_raise(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return hp__fd_limit();
    if (r.rlim_cur != r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r); /* on failure the soft limit stays as it was */
    }
    return hp__fd_limit();
}

uint64_t hp__fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return UINT64_MAX;
    return as_count(r.rlim_cur);
}
