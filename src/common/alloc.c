#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "hostpool: out of memory allocating %zu bytes\n", size);
    abort();
}

void *hp__malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

void *hp__calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *hp__realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

void *hp__memdup(const void *src, size_t len)
{
    void *p = hp__malloc(len + 1);
    memcpy(p, src, len);
    ((char *)p)[len] = '\0';
    return p;
}

char *hp__strndup(const char *s, size_t len)
{
    return hp__memdup(s, len);
}

char *hp__strdup(const char *s)
{
    return hp__memdup(s, strlen(s));
}
