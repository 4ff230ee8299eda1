#include "core/hash64.h"

uint64_t hp__fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t hp__hash64(const void *data, size_t len)
{
    return hp__hash64_mix(hp__fnv1a64(data, len));
}
