/* A stable 64-bit hash for consistent hashing (src/core/balance_hash.c) and anything else
 * that must map the same bytes to the same number in every process, on every machine, in
 * every version: FNV-1a 64 over the bytes, then the finalizer of MurmurHash3 (fmix64).
 *
 * Why both: FNV-1a is byte-wise (no alignment, no endianness, one multiply per byte, fine for
 * the short keys we hash: an address, a header value) but mixes its last bytes poorly, so
 * keys that differ only at the end ("10.0.0.1", "10.0.0.2") land close together; fmix64
 * spreads every input bit over the whole output. The constants are the published ones
 * (FNV offset basis 0xcbf29ce484222325, prime 0x100000001b3; fmix64's 0xff51afd7ed558ccd and
 * 0xc4ceb9fe1a85ec53). Not a cryptographic hash: a client who can choose keys can choose
 * which target they reach, which a consistent hash allows anyway.
 *
 * Changing any of this moves every hashed key to another target: the unit test pins values. */
#ifndef HP_CORE_HASH64_H
#define HP_CORE_HASH64_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits. */
uint64_t hp__fnv1a64(const void *data, size_t len);

/* MurmurHash3's fmix64: a bijection of 64-bit values with full avalanche. */
static inline uint64_t hp__hash64_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* hp__hash64_mix(hp__fnv1a64(data, len)). */
uint64_t hp__hash64(const void *data, size_t len);

#endif
