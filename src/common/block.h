/* Carving one allocation into the parts of an object that lives as one block (a server, a
 * respond handler): the caller sizes the whole, allocates it once, then takes each part in
 * turn, arrays of pointer-sized items first so every part stays aligned, strings last. A pool
 * of 10,000 servers holds 10,000 such objects, and one block instead of many small ones saves
 * the allocator's header and rounding of each (docs/PERFORMANCE.md). */
#ifndef HP_COMMON_BLOCK_H
#define HP_COMMON_BLOCK_H

#include <stddef.h>
#include <string.h>

typedef struct hp__block {
    char *next; /* the first byte not taken yet */
} hp__block;

/* The next `size` bytes of the block. */
static inline void *hp__block_take(hp__block *b, size_t size)
{
    void *p = b->next;
    b->next += size;
    return p;
}

/* A copy of `len` bytes and a NUL after them, taken from the block (len + 1 bytes). */
static inline char *hp__block_copy(hp__block *b, const void *bytes, size_t len)
{
    char *copy = hp__block_take(b, len + 1);
    if (len) memcpy(copy, bytes, len);
    copy[len] = '\0';
    return copy;
}

#endif
