#include "io/snapshot.h"

#include <stddef.h>

void hp__snapshot_init(hp__snapshot *s, unsigned refs, void (*free_fn)(hp__snapshot *))
{
    atomic_init(&s->refs, refs);
    s->free = free_fn;
}

void hp__snapshot_release(hp__snapshot *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) s->free(s);
}
