#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static const hp_log_level max_level = HP_LOG_INFO; /* debug lines are compiled in, not shown */
static const char *const level_names[] = {"error", "warning", "info", "debug"};

void hp__log(hp_log_level level, const char *fmt, ...)
{
    if (level > max_level) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hostpool: %s: %s\n", level_names[level], line);
}
