#include "core/password.h"

#include <stdlib.h>
#include <string.h>

/* `cost` 0 is libcrypt's default (yescrypt's is Debian's /etc/shadow one, sha512-crypt's 5000
 * rounds); bcrypt's default (5) is too cheap today: 10 is about what yescrypt costs. */
static const struct method {
    const char *name;
    const char *prefix;
    unsigned long cost;
} methods[] = {
    [HP__PASSWORD_YESCRYPT] = {"yescrypt", "$y$", 0},
    [HP__PASSWORD_BCRYPT] = {"bcrypt", "$2b$", 10},
    [HP__PASSWORD_SHA512] = {"sha512", "$6$", 0},
};

#define METHOD_COUNT (sizeof methods / sizeof methods[0])

bool hp__password_method_parse(const char *name, hp__password_method *out)
{
    for (size_t i = 0; i < METHOD_COUNT; i++)
        if (strcmp(name, methods[i].name) == 0) {
            *out = (hp__password_method)i;
            return true;
        }
    return false;
}

bool hp__password_hash_supported(const char *hash)
{
    for (size_t i = 0; i < METHOD_COUNT; i++)
        if (strncmp(hash, methods[i].prefix, strlen(methods[i].prefix)) == 0)
            return crypt_checksalt(hash) == CRYPT_SALT_OK;
    return false;
}

bool hp__password_hash(const char *password, hp__password_method method,
                       char out[CRYPT_OUTPUT_SIZE])
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(methods[method].prefix, methods[method].cost, NULL, 0, setting,
                          sizeof setting))
        return false;
    struct crypt_data *data = calloc(1, sizeof *data);
    const char *hash = crypt_rn(password, setting, data, (int)sizeof *data);
    bool ok = hash && hash[0] == '$';
    if (ok) memcpy(out, hash, strlen(hash) + 1);
    free(data);
    return ok;
}

bool hp__bytes_equal_ct(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++) diff |= x[i] ^ y[i];
    return diff == 0;
}

bool hp__password_verify(const char *password, const char *hash, struct crypt_data *scratch)
{
    const char *out = crypt_rn(password, hash, scratch, (int)sizeof *scratch);
    size_t len = strlen(hash);
    /* crypt_rn fails with a "*" string, never NULL here; a result of another length cannot be
     * equal, and comparing `len` bytes of it stays within its CRYPT_OUTPUT_SIZE buffer. */
    if (!out || len >= CRYPT_OUTPUT_SIZE) return false;
    bool same = hp__bytes_equal_ct(out, hash, len);
    return same && out[len] == '\0';
}
