/* Password hashes in the crypt(3) formats of Debian's libcrypt (libxcrypt) that hostpool
 * accepts: yescrypt ($y$, Debian's default), bcrypt ($2b$) and sha512-crypt ($6$). Every
 * other format (DES, MD5, $2a$, ...) is refused where a hash is read (a users file).
 *
 * Verification hashes the candidate with the stored hash as its setting (crypt_rn, re-entrant:
 * the caller gives the scratch space) and compares the result with the stored hash in
 * constant time. It is slow on purpose (yescrypt: milliseconds): callers keep it off a worker
 * loop (http/basic_auth.c runs it on the libuv threadpool).
 *
 * Threading: any thread; nothing is shared. */
#ifndef HP_CORE_PASSWORD_H
#define HP_CORE_PASSWORD_H

#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum hp__password_method {
    HP__PASSWORD_YESCRYPT,
    HP__PASSWORD_BCRYPT,
    HP__PASSWORD_SHA512,
} hp__password_method;

/* "yescrypt", "bcrypt" or "sha512" into *out; false for any other name. */
bool hp__password_method_parse(const char *name, hp__password_method *out);

/* Is `hash` a hash of an accepted method, well formed as libcrypt sees it? */
bool hp__password_hash_supported(const char *hash);

/* Hashes `password` with a fresh random salt and the method's cost (libcrypt's default; 10
 * for bcrypt) into
 * out[CRYPT_OUTPUT_SIZE]; false when libcrypt cannot (no randomness). */
bool hp__password_hash(const char *password, hp__password_method method,
                       char out[CRYPT_OUTPUT_SIZE]);

/* Does `password` hash to `hash`? `scratch` is the caller's (it is large: 32 KiB), zeroed
 * before its first use. */
bool hp__password_verify(const char *password, const char *hash, struct crypt_data *scratch);

/* Are the `len` bytes of a and b equal? Takes the same time whatever bytes differ. */
bool hp__bytes_equal_ct(const void *a, const void *b, size_t len);

#endif
